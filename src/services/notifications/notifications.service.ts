import crypto from 'node:crypto';
import type { Db } from '../../db/client';
import * as nq from '../../db/queries/notifications.queries';
import { SecretBox } from '../../lib/secret-box';
import { NotFoundError, ValidationError, type FieldErrors } from '../../lib/errors';
import { controlCharProblem, isUuid } from '../../lib/validation';
import type { Logger } from '../../logger';
import { EVENT_TYPES, isEventType, type EventType } from '../events/event-types';
import type { ProductsService } from '../products.service';
import { BlockedAddressError, checkLiteralHost } from './address-guard';
import { requestFor, type EndpointKind, type EventPayload } from './payloads';
import { DISABLE_AFTER_FAILURES, isRetryableStatus, isSuccess, retryDelayMs } from './retry-policy';
import { sendWebhook, type SendResult } from './webhook-sender';

export interface WebhookSettings {
  allowPrivate: boolean;
  httpsOnly: boolean;
  timeoutMs: number;
  retryBaseMs: number;
  pollMs: number;
}

export const KINDS: readonly EndpointKind[] = ['webhook', 'slack', 'discord'];
const BATCH = 10;
/** code.expiring is looked for this often (and at start); the notice table makes it once per code. */
const EXPIRING_EVERY_MS = 10 * 60_000;
/** Finished deliveries stay in the log this long. */
const LOG_DAYS = 30;
export const MAX_ENDPOINTS = 50;

export interface EndpointInput {
  url?: unknown;
  kind?: unknown;
  events?: unknown;
  productIds?: unknown;
}

export interface DeliveryView extends nq.DeliveryRow {
  attemptLog: nq.AttemptRow[];
}

/**
 * Vendors' notification endpoints and the delivery engine: outbox events become one delivery
 * per matching endpoint; a worker on every app server leases due deliveries (SKIP LOCKED), sends
 * them through the SSRF guard, and retries with backoff for 24 hours.
 */
export class NotificationsService {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private lastExpiring = 0;
  private readonly box: SecretBox;

  constructor(
    private readonly db: Db,
    private readonly products: ProductsService,
    private readonly settings: WebhookSettings,
    private readonly publicUrl: string,
    secretKey: string,
    private readonly logger: Logger,
  ) {
    this.box = new SecretBox(secretKey, 'wharf webhook endpoints v1');
  }

  /** Rows leave the service with the URL readable and the signing secret left out (it is shown once, at creation). */
  private view(row: nq.EndpointRow): nq.EndpointRow {
    return { ...row, url: this.unseal(row.url) ?? '(unreadable: SECRET_KEY changed since it was added; delete and add it again)', secret: null };
  }

  private unseal(sealed: string): string | null {
    try {
      return this.box.open(sealed);
    } catch {
      return null;
    }
  }

  // ——— endpoints (every call scoped to the vendor) ———

  async create(userId: string, input: EndpointInput): Promise<{ endpoint: nq.EndpointRow; secret: string | null }> {
    const fields: FieldErrors = {};
    const kind = KINDS.find((k) => k === input.kind);
    if (!kind) fields.kind = `Choose one of: ${KINDS.join(', ')}.`;
    const url = this.checkUrl(input.url, fields);
    const events = Array.isArray(input.events) ? [...new Set(input.events)] : [];
    if (!events.length || !events.every(isEventType)) fields.events = `Choose one or more of: ${EVENT_TYPES.join(', ')}.`;
    let productIds: string[] | null = null;
    if (input.productIds !== undefined && input.productIds !== null) {
      const ids = Array.isArray(input.productIds) ? [...new Set(input.productIds)] : null;
      if (!ids || !ids.every(isUuid)) fields.productIds = 'Send a list of product ids, or leave it out for every product.';
      else if (ids.length) {
        for (const id of ids) {
          try {
            await this.products.get(userId, id);
          } catch (err) {
            if (!(err instanceof NotFoundError)) throw err;
            fields.productIds = `No such product: ${id}.`;
          }
        }
        productIds = ids;
      }
    }
    if (Object.keys(fields).length) throw new ValidationError('Please correct the highlighted fields.', fields);
    if ((await nq.countEndpoints(this.db, userId)) >= MAX_ENDPOINTS) throw new ValidationError(`You have ${MAX_ENDPOINTS} endpoints, the most Wharf keeps; delete one first.`, { url: `At most ${MAX_ENDPOINTS} endpoints.` });
    const secret = kind === 'webhook' ? `whsec_${crypto.randomBytes(24).toString('base64')}` : null;
    // Slack and Discord URLs are bearer secrets like the signing secret: both are stored sealed.
    const endpoint = await nq.insertEndpoint(this.db, { userId, kind: kind!, url: this.box.seal(url!), secret: secret && this.box.seal(secret), events: events as EventType[], productIds });
    return { endpoint: this.view(endpoint), secret };
  }

  async list(userId: string): Promise<nq.EndpointRow[]> {
    return (await nq.listEndpoints(this.db, userId)).map((r) => this.view(r));
  }

  async get(userId: string, id: string): Promise<nq.EndpointRow> {
    const row = isUuid(id) ? await nq.findEndpoint(this.db, userId, id) : undefined;
    if (!row) throw new NotFoundError('No such notification endpoint');
    return this.view(row);
  }

  async remove(userId: string, id: string): Promise<void> {
    if (!isUuid(id) || !(await nq.deleteEndpoint(this.db, userId, id))) throw new NotFoundError('No such notification endpoint');
  }

  async enable(userId: string, id: string): Promise<void> {
    if (!isUuid(id) || !(await nq.enableEndpoint(this.db, userId, id))) throw new NotFoundError('No such notification endpoint');
  }

  /** The delivery log, newest first, each with its attempts. */
  async deliveries(userId: string, id: string, limit = 100): Promise<{ endpoint: nq.EndpointRow; deliveries: DeliveryView[] }> {
    const endpoint = await this.get(userId, id);
    const rows = await nq.listDeliveries(this.db, endpoint.id, limit);
    const attempts = await nq.attemptsOf(this.db, rows.map((r) => r.id));
    return { endpoint, deliveries: rows.map((r) => ({ ...r, attemptLog: attempts.filter((a) => a.deliveryId === r.id) })) };
  }

  /** "Send test": a `webhook.test` delivery, sent by the worker like any other. */
  async sendTest(userId: string, id: string): Promise<nq.DeliveryRow> {
    const endpoint = await this.get(userId, id);
    const payload: EventPayload = { type: 'webhook.test', timestamp: new Date().toISOString(), data: { endpointId: endpoint.id } };
    const row = await nq.insertDelivery(this.db, { endpointId: endpoint.id, eventType: payload.type, payload });
    this.kick();
    return row;
  }

  async redeliver(userId: string, id: string, deliveryId: string): Promise<void> {
    const endpoint = await this.get(userId, id);
    if (!isUuid(deliveryId) || !(await nq.redeliver(this.db, endpoint.id, deliveryId))) throw new NotFoundError('No such delivery');
    this.kick();
  }

  private checkUrl(value: unknown, fields: FieldErrors): string | null {
    if (typeof value !== 'string' || !value.trim() || value.length > 2000 || controlCharProblem(value)) {
      fields.url = 'Enter the URL to send notifications to.';
      return null;
    }
    let url: URL;
    try {
      url = new URL(value.trim());
    } catch {
      fields.url = 'Enter a valid URL (https://…).';
      return null;
    }
    if (url.protocol !== 'https:' && (url.protocol !== 'http:' || this.settings.httpsOnly)) fields.url = this.settings.httpsOnly ? 'Use an https:// URL.' : 'Use an http:// or https:// URL.';
    else if (url.username || url.password) fields.url = 'Leave credentials out of the URL.';
    else {
      try {
        checkLiteralHost(url, this.settings.allowPrivate);
      } catch (err) {
        if (!(err instanceof BlockedAddressError)) throw err;
        fields.url = 'This address is private (loopback, private, link-local or metadata); Wharf does not send to it.';
      }
    }
    return fields.url ? null : url.toString();
  }

  // ——— the worker ———

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Look for work now (after a local write) rather than at the next poll. */
  kick(): void {
    if (this.stopped || this.running) return;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err: Error) => this.logger.warn({ err: err.message }, 'notifications: worker pass failed'))
        .then((busy) => {
          this.running = undefined;
          if (!this.stopped) this.schedule(busy ? 0 : this.settings.pollMs);
        });
    }, ms);
    this.timer.unref();
  }

  /** One pass: expiring codes now and then, outbox → deliveries, then a batch of due deliveries. True when there may be more. */
  async tick(now = Date.now()): Promise<boolean> {
    if (now - this.lastExpiring >= EXPIRING_EVERY_MS) {
      this.lastExpiring = now;
      await this.recordExpiringCodes();
      await nq.purgeFinishedDeliveries(this.db, LOG_DAYS);
    }
    const dispatched = await nq.dispatchEvents(this.db, 100);
    const due = await nq.claimDue(this.db, BATCH, this.leaseMs());
    await Promise.all(due.map((d) => this.deliver(d)));
    return dispatched === 100 || due.length === BATCH;
  }

  /** code.expiring for codes expiring within 7 days, once per code and date (the worker runs it every 10 minutes). */
  async recordExpiringCodes(): Promise<number> {
    const n = await nq.recordExpiringCodes(this.db);
    if (n) this.logger.info({ codes: n }, 'notifications: codes expiring within 7 days');
    return n;
  }

  /** Longer than any attempt can take: a lease only lapses when its worker died. */
  private leaseMs(): number {
    return this.settings.timeoutMs * 3;
  }

  private async deliver(d: nq.ClaimedDelivery): Promise<void> {
    const url = this.unseal(d.url);
    const secret = d.secret === null ? null : this.unseal(d.secret);
    const { body, headers } = url && (d.kind !== 'webhook' || secret) ? requestFor(d.kind, secret, d.id, d.payload, this.publicUrl) : { body: '', headers: {} };
    const res: SendResult = url && body
      ? await sendWebhook(url, body, headers, this.settings)
      : { statusCode: null, error: 'the endpoint cannot be read: SECRET_KEY changed since it was added', errorFinal: true, durationMs: 0, snippet: null, retryAfterMs: null };
    const outcome = this.judge(d, res);
    const { disabled } = await nq.recordOutcome(this.db, outcome, DISABLE_AFTER_FAILURES);
    const log = { deliveryId: d.id, endpointId: d.endpointId, event: d.eventType, attempt: d.attempts, status: res.statusCode, ms: res.durationMs, result: outcome.result };
    if (outcome.result === 'delivered') this.logger.info(log, 'notifications: delivered');
    else this.logger.warn({ ...log, ...(res.error ? { reason: res.error } : {}) }, 'notifications: attempt failed');
    if (disabled) this.logger.warn({ endpointId: d.endpointId }, `notifications: endpoint disabled after ${DISABLE_AFTER_FAILURES} failed deliveries in a row`);
  }

  private judge(d: nq.ClaimedDelivery, res: SendResult): nq.AttemptOutcome {
    const base = { deliveryId: d.id, endpointId: d.endpointId, attempt: d.attempts, statusCode: res.statusCode, error: res.error, durationMs: res.durationMs, snippet: res.snippet };
    if (res.statusCode !== null && isSuccess(res.statusCode)) return { ...base, result: 'delivered' };
    const retryable = res.statusCode === null ? !res.errorFinal : isRetryableStatus(res.statusCode);
    if (!retryable) return { ...base, error: res.error ?? `HTTP ${res.statusCode}`, result: 'failed' };
    const next = new Date(Date.now() + retryDelayMs(d.attempts, this.settings.retryBaseMs, res.retryAfterMs));
    if (next.getTime() > d.giveUpAt.getTime()) return { ...base, error: res.error ?? `HTTP ${res.statusCode}`, result: 'failed' };
    return { ...base, result: 'retry', nextAttemptAt: next };
  }
}
