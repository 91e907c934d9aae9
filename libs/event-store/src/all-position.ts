import type { AllPosition, RecordedEvent } from './event-store.types.js';

/** Before every event: pass as `after` to read $all from the beginning. */
export const START: AllPosition = Object.freeze({ transactionId: 0n, globalPosition: 0n });

export function allPositionOf(event: Pick<RecordedEvent, 'transactionId' | 'globalPosition'>): AllPosition {
  return { transactionId: event.transactionId, globalPosition: event.globalPosition };
}

/** Negative when `left` comes first in $all, 0 when equal, positive when `right` does. */
export function compareAllPositions(left: AllPosition, right: AllPosition): number {
  if (left.transactionId !== right.transactionId) return left.transactionId < right.transactionId ? -1 : 1;
  if (left.globalPosition !== right.globalPosition) return left.globalPosition < right.globalPosition ? -1 : 1;
  return 0;
}

/** `'<transactionId>:<globalPosition>'`, for storing a checkpoint as text (a header, a log line). */
export function formatAllPosition(position: AllPosition): string {
  return `${position.transactionId}:${position.globalPosition}`;
}

export function parseAllPosition(text: string): AllPosition {
  const match = /^(\d{1,20}):(\d{1,19})$/.exec(text);
  if (match === null) throw new Error(`'${text}' is not an $all position ('<transactionId>:<globalPosition>')`);
  return { transactionId: BigInt(match[1] as string), globalPosition: BigInt(match[2] as string) };
}
