// The delivery log's cursor: the (createdAt, deliveryId) of a page's last delivery, opaque to the
// client. Pure.
import { isUuid } from '@clearline/contracts';
import { ProblemException } from '@clearline/service-runtime';
import type { DeliveryPosition } from './webhooks.repository.js';

export function cursorOf(position: DeliveryPosition): string {
  return Buffer.from(`${position.createdAt}|${position.deliveryId}`).toString('base64url');
}

/** A cursor this API made, or a 400: it is parsed strictly, since it reaches SQL as a time and a uuid. */
export function positionOf(cursor: string): DeliveryPosition {
  const [createdAt, deliveryId, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const valid = rest.length === 0 && createdAt !== undefined && deliveryId !== undefined && isUuid(deliveryId)
    && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(createdAt) && !Number.isNaN(Date.parse(createdAt));
  if (!valid) throw new ProblemException(400, 'invalid-cursor', 'Invalid cursor', "cursor must be a previous page's nextCursor.");
  return { createdAt: createdAt!, deliveryId: deliveryId! };
}
