// Proves the delivery log's cursor: what it encodes comes back; anything else is a 400 problem.
import { ProblemException } from '@clearline/service-runtime';
import { cursorOf, positionOf } from './delivery-cursor.js';

const position = { createdAt: '2026-11-27T10:00:00.123Z', deliveryId: '0b5c7d4e-8f3a-4c1e-9d2b-6a7f8e9c0d1a' };
const encode = (text: string) => Buffer.from(text).toString('base64url');

describe('the delivery cursor', () => {
  it('round-trips a position and is URL-safe', () => {
    const cursor = cursorOf(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(positionOf(cursor)).toEqual(position);
  });

  it.each([
    ['not base64 of a position', 'bm90LWEtY3Vyc29y'],
    ['a time without milliseconds', encode(`2026-11-27T10:00:00Z|${position.deliveryId}`)],
    ['an impossible date', encode(`2026-13-45T10:00:00.000Z|${position.deliveryId}`)],
    ['an id that is not a uuid', encode(`${position.createdAt}|1 or 1=1`)],
    ['a third part', encode(`${position.createdAt}|${position.deliveryId}|x`)],
  ])('refuses %s with a 400', (_case, cursor) => {
    expect(() => positionOf(cursor)).toThrow(ProblemException);
    try {
      positionOf(cursor);
    } catch (error) {
      expect((error as ProblemException).getStatus()).toBe(400);
    }
  });
});
