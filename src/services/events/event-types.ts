/** Everything a vendor can subscribe to (notifications, webhooks). */
export const EVENT_TYPES = [
  'release.published',
  'release.refused',
  'build.succeeded',
  'build.failed',
  'code.created',
  'code.revoked',
  'code.expiring',
  'code.download_limit_reached',
  'site.activated',
  'site.deactivated',
  'site_limit.reached',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(v: unknown): v is EventType {
  return typeof v === 'string' && (EVENT_TYPES as readonly string[]).includes(v);
}

/** One event as written to the outbox: whose it is, which product, what happened. */
export interface WharfEvent {
  userId: string;
  productId: string | null;
  type: EventType;
  data: Record<string, unknown>;
}
