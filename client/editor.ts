/**
 * The rich text editor (Tiptap) for product sections and per-version changelogs. Progressive enhancement:
 * each <textarea data-rich> works without JavaScript (it takes Markdown); with it, the textarea is hidden,
 * an editor takes its place and writes its HTML back into it, and the form's `format` field says "html".
 * The server sanitizes to WordPress's plugin-section allowlist whatever it receives.
 */
import { Editor } from '@tiptap/core';
import { ListItem, ListKeymap } from '@tiptap/extension-list';
import StarterKit from '@tiptap/starter-kit';
import { cleanPastedHtml } from './paste';

const SAFE_URL = /^(?:https?:\/\/|mailto:)/i;
const isMac = /Mac|iP(hone|ad|od)/.test(navigator.platform);
const mod = isMac ? '⌘' : 'Ctrl+';

interface Tool {
  name: string;
  label: string;
  keys: string;
  text: string;
  run: (e: Editor) => void;
  active?: (e: Editor) => boolean;
}

const TOOLS: Tool[] = [
  { name: 'h2', label: 'Heading', keys: `${mod}Alt+2`, text: 'H2', run: (e) => e.chain().focus().toggleHeading({ level: 2 }).run(), active: (e) => e.isActive('heading', { level: 2 }) },
  { name: 'h3', label: 'Subheading', keys: `${mod}Alt+3`, text: 'H3', run: (e) => e.chain().focus().toggleHeading({ level: 3 }).run(), active: (e) => e.isActive('heading', { level: 3 }) },
  { name: 'bold', label: 'Bold', keys: `${mod}B`, text: 'B', run: (e) => e.chain().focus().toggleBold().run(), active: (e) => e.isActive('bold') },
  { name: 'italic', label: 'Italic', keys: `${mod}I`, text: 'I', run: (e) => e.chain().focus().toggleItalic().run(), active: (e) => e.isActive('italic') },
  { name: 'code', label: 'Code', keys: `${mod}E`, text: '</>', run: (e) => e.chain().focus().toggleCode().run(), active: (e) => e.isActive('code') },
  { name: 'link', label: 'Link', keys: `${mod}K`, text: '🔗', run: (e) => editLink(e), active: (e) => e.isActive('link') },
  { name: 'bulletList', label: 'Bulleted list', keys: `${mod}Shift+8`, text: '•', run: (e) => e.chain().focus().toggleBulletList().run(), active: (e) => e.isActive('bulletList') },
  { name: 'orderedList', label: 'Numbered list', keys: `${mod}Shift+7`, text: '1.', run: (e) => e.chain().focus().toggleOrderedList().run(), active: (e) => e.isActive('orderedList') },
  { name: 'codeBlock', label: 'Code block', keys: `${mod}Alt+C`, text: '{ }', run: (e) => e.chain().focus().toggleCodeBlock().run(), active: (e) => e.isActive('codeBlock') },
  { name: 'blockquote', label: 'Quote', keys: `${mod}Shift+B`, text: '❝', run: (e) => e.chain().focus().toggleBlockquote().run(), active: (e) => e.isActive('blockquote') },
  { name: 'undo', label: 'Undo', keys: `${mod}Z`, text: '↶', run: (e) => e.chain().focus().undo().run() },
  { name: 'redo', label: 'Redo', keys: isMac ? '⌘Shift+Z' : 'Ctrl+Y', text: '↷', run: (e) => e.chain().focus().redo().run() },
];

function announce(editor: Editor, message: string): void {
  const live = (editor.options.element as HTMLElement).closest('.rte')?.querySelector<HTMLElement>('.rte-status');
  if (live) live.textContent = message;
}

/** Ctrl+K or the toolbar: asks for the address; an empty answer removes the link. Only http(s) and mailto. */
function editLink(editor: Editor): void {
  const current = (editor.getAttributes('link').href as string | undefined) ?? 'https://';
  const answer = window.prompt('Link address (https://… or mailto:…); leave empty to remove the link', current);
  if (answer === null) return void editor.commands.focus();
  const url = answer.trim();
  if (url === '' || url === 'https://') {
    editor.chain().focus().extendMarkRange('link').unsetLink().run();
  } else if (!SAFE_URL.test(url)) {
    announce(editor, 'Links must start with https://, http:// or mailto:.');
    editor.commands.focus();
  } else if (editor.state.selection.empty && !editor.isActive('link')) {
    editor.chain().focus().insertContent({ type: 'text', text: url, marks: [{ type: 'link', attrs: { href: url } }] }).run();
  } else {
    editor.chain().focus().extendMarkRange('link').setLink({ href: url }).run();
  }
}

let counter = 0;

// Tab and Shift+Tab move the focus, as everywhere else on the page (no keyboard trap); lists indent with Ctrl/⌘+] and [.
const FocusFriendlyListItem = ListItem.extend({
  addKeyboardShortcuts() {
    return {
      Enter: () => this.editor.commands.splitListItem(this.name),
      'Mod-]': () => this.editor.commands.sinkListItem(this.name),
      'Mod-[': () => this.editor.commands.liftListItem(this.name),
    };
  },
});
const FocusFriendlyListKeymap = ListKeymap.extend({
  addKeyboardShortcuts() {
    const inherited = { ...(this.parent?.() ?? {}) };
    delete inherited.Tab;
    delete inherited['Shift-Tab'];
    return inherited;
  },
});

function enhance(textarea: HTMLTextAreaElement): void {
  const form = textarea.form;
  const label = textarea.id ? document.querySelector<HTMLLabelElement>(`label[for="${textarea.id}"]`) : null;
  if (label && !label.id) label.id = `rte-label-${++counter}`;
  const wrap = document.createElement('div');
  wrap.className = 'rte';
  const toolbar = document.createElement('div');
  toolbar.className = 'rte-toolbar';
  toolbar.setAttribute('role', 'toolbar');
  toolbar.setAttribute('aria-label', `Formatting${label ? `: ${label.textContent?.trim()}` : ''}`);
  const host = document.createElement('div');
  host.className = 'rte-host';
  const status = document.createElement('p');
  status.className = 'rte-status';
  status.setAttribute('role', 'status');
  wrap.append(toolbar, host, status);
  textarea.after(wrap);
  textarea.hidden = true;

  const changed = form?.querySelector<HTMLInputElement>(`input[name="changed_${textarea.name}"]`);
  const editor = new Editor({
    element: host,
    injectCSS: false, // the CSP allows no inline <style>; app.css carries the few rules
    content: textarea.dataset.html ?? '',
    extensions: [
      StarterKit.configure({
        heading: { levels: [2, 3, 4] },
        // Tags WordPress's plugin-section allowlist does not keep: not offered at all.
        strike: false,
        underline: false,
        horizontalRule: false,
        listItem: false,
        listKeymap: false,
        link: {
          openOnClick: false,
          autolink: true,
          defaultProtocol: 'https',
          HTMLAttributes: { rel: null, target: null, class: null },
          isAllowedUri: (url) => SAFE_URL.test(url),
        },
      }),
      FocusFriendlyListItem,
      FocusFriendlyListKeymap,
    ],
    editorProps: {
      attributes: {
        class: 'rte-content',
        'aria-multiline': 'true',
        ...(label ? { 'aria-labelledby': label.id } : { 'aria-label': textarea.name }),
        ...(textarea.getAttribute('aria-describedby') ? { 'aria-describedby': textarea.getAttribute('aria-describedby')! } : {}),
      },
      transformPastedHTML: cleanPastedHtml,
      handleKeyDown: (_view, event) => {
        // Alt+F10 reaches the toolbar, as in other editors; Ctrl/⌘+K edits the link.
        if (event.altKey && event.key === 'F10') {
          event.preventDefault();
          focusTool(0);
          return true;
        }
        if ((event.ctrlKey || event.metaKey) && !event.shiftKey && !event.altKey && event.key.toLowerCase() === 'k') {
          event.preventDefault();
          editLink(editor);
          return true;
        }
        return false;
      },
    },
    onUpdate: ({ editor: e }) => {
      textarea.value = e.isEmpty ? '' : e.getHTML();
      if (changed) changed.value = '1';
    },
  });
  textarea.value = editor.isEmpty ? '' : editor.getHTML();

  const buttons = TOOLS.map((tool, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = `rte-btn rte-${tool.name}`;
    b.textContent = tool.text;
    b.setAttribute('aria-label', tool.label);
    b.title = `${tool.label} (${tool.keys})`;
    b.setAttribute('aria-keyshortcuts', tool.keys.replace('⌘', 'Meta+'));
    b.tabIndex = i === 0 ? 0 : -1;
    if (tool.active) b.setAttribute('aria-pressed', 'false');
    b.addEventListener('mousedown', (ev) => ev.preventDefault()); // keep the editor's selection
    b.addEventListener('click', () => tool.run(editor));
    toolbar.append(b);
    return b;
  });
  // One tab stop for the toolbar; arrows, Home and End move inside it (the WAI-ARIA toolbar pattern).
  function focusTool(i: number): void {
    const n = (i + buttons.length) % buttons.length;
    buttons.forEach((b, j) => (b.tabIndex = j === n ? 0 : -1));
    buttons[n]!.focus();
  }
  toolbar.addEventListener('keydown', (ev) => {
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (ev.key === 'ArrowRight') focusTool(at + 1);
    else if (ev.key === 'ArrowLeft') focusTool(at - 1);
    else if (ev.key === 'Home') focusTool(0);
    else if (ev.key === 'End') focusTool(buttons.length - 1);
    else if (ev.key === 'Escape') editor.commands.focus();
    else return;
    ev.preventDefault();
  });
  const refresh = () =>
    TOOLS.forEach((tool, i) => {
      if (tool.active) buttons[i]!.setAttribute('aria-pressed', String(tool.active(editor)));
    });
  editor.on('selectionUpdate', refresh);
  editor.on('transaction', refresh);
  refresh();
}

function start(): void {
  const areas = Array.from(document.querySelectorAll<HTMLTextAreaElement>('textarea[data-rich]'));
  for (const area of areas) enhance(area);
  // The server reads the fields as HTML from now on (without this script they are Markdown).
  const forms = new Set(areas.map((a) => a.form).filter((f): f is HTMLFormElement => !!f));
  forms.forEach((f) => f.querySelectorAll<HTMLInputElement>('input[name="format"]').forEach((i) => (i.value = 'html')));
  document.documentElement.classList.add('rte-ready');
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
