import { Webhook } from 'standardwebhooks';

export type EndpointKind = 'webhook' | 'slack' | 'discord';

/** What every destination receives, before it is shaped for Slack or Discord. */
export interface EventPayload {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

interface Summary {
  title: string;
  detail: string | null;
  link: string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});

/** The end of a code only: chat channels are read by more people than the vendor. */
function maskedCode(code: unknown): string {
  const c = str(obj(code).code);
  return c ? `…${c.slice(-4)}` : '';
}

/** One readable line per event, and the dashboard page it is about. */
export function summarize(p: EventPayload, publicUrl: string): Summary {
  const d = p.data;
  const product = obj(d.product);
  const name = str(product.name) || 'A product';
  const productUrl = product.id ? `${publicUrl}/products/${str(product.id)}` : `${publicUrl}/products`;
  const code = obj(d.code);
  const codeUrl = code.id ? `${productUrl}/codes/${str(code.id)}` : `${productUrl}/codes`;
  const codeLabel = `Purchase code ${maskedCode(code)}${code.note ? ` (${str(code.note)})` : ''}`;
  switch (p.type) {
    case 'release.published':
      return { title: `${name} ${str(d.version)} was published`, detail: d.live ? 'It is now the live version.' : 'An older version stays live.', link: productUrl };
    case 'release.refused':
      return { title: `A release of ${name}${d.version ? ` (${str(d.version)})` : ''} was refused`, detail: Array.isArray(d.reasons) ? d.reasons.map(str).join(' ') : null, link: productUrl };
    case 'build.succeeded':
      return { title: `Build of ${name}${d.version ? ` ${str(d.version)}` : ''} succeeded`, detail: null, link: productUrl };
    case 'build.failed':
      return { title: `Build of ${name}${d.version ? ` ${str(d.version)}` : ''} failed`, detail: str(d.error) || null, link: productUrl };
    case 'code.created':
      return { title: `${str(d.count)} purchase code${d.count === 1 ? '' : 's'} created for ${name}`, detail: str(d.note) || null, link: d.batchId ? `${productUrl}/codes/batches/${str(d.batchId)}` : `${productUrl}/codes` };
    case 'code.revoked':
      return { title: `${codeLabel} of ${name} was revoked`, detail: null, link: codeUrl };
    case 'code.expiring':
      return { title: `${codeLabel} of ${name} expires on ${str(d.expiresOn)}`, detail: null, link: codeUrl };
    case 'code.download_limit_reached':
      return { title: `${codeLabel} of ${name} used its last download`, detail: `Limit: ${str(d.maxDownloads)} downloads.`, link: codeUrl };
    case 'site.activated':
      return { title: `${str(d.site)} activated ${name}`, detail: codeLabel, link: codeUrl };
    case 'site.deactivated':
      return { title: `${str(d.site)} deactivated ${name}`, detail: codeLabel, link: codeUrl };
    case 'site_limit.reached':
      return { title: `${codeLabel} of ${name} reached its site limit`, detail: `Limit: ${str(d.maxSites)} sites; the last slot went to ${str(d.site)}.`, link: codeUrl };
    case 'webhook.test':
      return { title: 'Test notification from Wharf', detail: 'This endpoint receives Wharf notifications.', link: `${publicUrl}/notifications` };
    default:
      return { title: p.type, detail: null, link: `${publicUrl}/products` };
  }
}

/** Slack mrkdwn: &, < and > are control characters. */
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Slack incoming webhook: `text` (the notification fallback) plus Block Kit blocks. */
export function slackBody(p: EventPayload, publicUrl: string) {
  const s = summarize(p, publicUrl);
  const text = `${slackEscape(s.title)}${s.detail ? `\n${slackEscape(s.detail)}` : ''}`;
  return {
    text: `${text}\n<${s.link}|Open in Wharf>`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${slackEscape(s.title)}*${s.detail ? `\n${slackEscape(s.detail)}` : ''}` } },
      { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Wharf' }, url: s.link }] },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `\`${p.type}\` · ${p.timestamp}` }] },
    ],
  };
}

const DISCORD_COLORS: Record<string, number> = { ok: 0x2eb67d, bad: 0xe01e5a, info: 0x5865f2 };

/** Discord webhook: one embed; mentions disabled, so vendor text can never ping @everyone. */
export function discordBody(p: EventPayload, publicUrl: string) {
  const s = summarize(p, publicUrl);
  const tone = /refused|failed|revoked|limit/.test(p.type) ? 'bad' : /published|succeeded|created|activated/.test(p.type) ? 'ok' : 'info';
  return {
    username: 'Wharf',
    allowed_mentions: { parse: [] as string[] },
    embeds: [
      {
        title: s.title.slice(0, 256),
        ...(s.detail ? { description: s.detail.slice(0, 4096) } : {}),
        url: s.link,
        color: DISCORD_COLORS[tone],
        timestamp: p.timestamp,
        footer: { text: p.type },
      },
    ],
  };
}

/** The body and headers of one attempt; a generic webhook is signed per Standard Webhooks with the delivery's stable id. */
export function requestFor(kind: EndpointKind, secret: string | null, deliveryId: string, p: EventPayload, publicUrl: string, now = new Date()): { body: string; headers: Record<string, string> } {
  if (kind === 'slack') return { body: JSON.stringify(slackBody(p, publicUrl)), headers: {} };
  if (kind === 'discord') return { body: JSON.stringify(discordBody(p, publicUrl)), headers: {} };
  const body = JSON.stringify(p);
  const msgId = `msg_${deliveryId}`;
  const signature = new Webhook(secret!).sign(msgId, now, body);
  return { body, headers: { 'webhook-id': msgId, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature } };
}
