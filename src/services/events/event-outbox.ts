import type { Db } from '../../db/client';
import { insertEvent, type EventRow } from '../../db/queries/events.queries';
import type { WharfEvent } from './event-types';

/**
 * Records an event in the outbox. Pass the transaction that makes the change: the event then
 * exists exactly when the change does.
 */
export function recordEvent(tx: Db, event: WharfEvent): Promise<EventRow> {
  return insertEvent(tx, { userId: event.userId, productId: event.productId, type: event.type, data: event.data });
}
