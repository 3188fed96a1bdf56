import fc from 'fast-check';

/** Pieces of Markdown, HTML and URL syntax that sanitizers and converters have historically got wrong. */
export const HOSTILE_TOKENS = [
  '<script>', '</script>', '<script src=//evil.example/x.js>', '<SCRIPT>', '<scr<script>ipt>', '<style>', '</style>',
  '<img src=x onerror=alert(1)>', '<img src="javascript:alert(1)">', '<svg onload=alert(1)>', '<svg><script>alert(1)</script></svg>',
  '<iframe src="https://evil.example">', '<a href="javascript:alert(1)">', '<a href="  javascript:alert(1)">', '<a href="java\tscript:x">',
  '<a href="&#106;avascript:alert(1)">', '<a href="&#x6A;avascript:x">', '<a href=vbscript:x>', '<a href="data:text/html,<script>">',
  '<a href="//evil.example">', '<a href="/relative">', '<a href="https://ok.example" onclick="x" rel="opener" target="_blank">', '</a>',
  '<p onmouseover=x>', '<div class="x" style="background:url(javascript:x)">', '<span id=x class=y>', '<blockquote cite="javascript:x">',
  '<math><mi xlink:href="javascript:x">', '<form action=javascript:x>', '<input onfocus=x autofocus>', '<object data=x>', '<base href=//evil>',
  '<meta http-equiv=refresh content="0;url=javascript:x">', '<!--', '-->', '<!-- <script> -->', '<![CDATA[', ']]>', '<?php echo 1; ?>', '<%', '%>',
  '<', '>', '"', "'", '`', '&', '&lt;', '&#0;', '&amp;lt;script&amp;gt;', '\u0000', '\u0001', '\u2028', '\uD800', '\uFEFF', '\\',
  '[x](javascript:alert(1))', '[x](JAVASCRIPT:alert(1))', '[x](java\nscript:x)', '[x](<javascript:alert(1)>)', '![x](javascript:alert(1))',
  '![x](data:image/svg+xml,<svg onload=alert(1)>)', '[x](https://ok.example "t")', '[x]: javascript:alert(1)', '[x]', '<javascript:alert(1)>',
  '<https://ok.example>', '<mailto:a@b.example>', '[', ']', '(', ')', '](', '*', '**', '_', '__', '~~', '#', '## ', '= ', ' =', '==', '> ', '- ',
  '1. ', '    ', '\t', '\n', '\n\n', '```', '```html\n', '~~~', '|', '---', 'http://', 'https://ok.example/?a=1&b=2', 'mailto:',
];

/** Random strings: raw code units (any UTF-16, lone surrogates included) or a mix of hostile tokens and ASCII. */
export function hostileString(maxTokens = 60): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.array(fc.oneof(fc.constantFrom(...HOSTILE_TOKENS), fc.string({ unit: 'grapheme-ascii', maxLength: 6 })), { maxLength: maxTokens }).map((parts) => parts.join('')),
  );
}
