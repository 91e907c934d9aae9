// Proves the headers a published message carries and the ones a dead-letter record adds: names,
// values as text, the original headers kept byte for byte, and the reason bounded.
import { MessageHeaders } from '@clearline/contracts';
import {
  DEAD_LETTER_REASON_MAX_LENGTH,
  DeadLetterHeaders,
  deadLetterHeaders,
  envelopeHeaders,
  headerText,
  truncateReason,
  type DeadLetterFailure,
} from './message-headers.js';
import { riskAssessed } from './test-envelopes.js';

const failure: DeadLetterFailure = {
  reason: 'handler exploded',
  topic: 'risk.events',
  partition: 2,
  offset: '41',
  consumerGroup: 'payments',
  failedAt: new Date('2025-01-02T03:04:05.678Z'),
  attempts: 5,
};

describe('envelopeHeaders', () => {
  it('carries id, type, version, correlation, causation, producer and the JSON content type', () => {
    const envelope = riskAssessed();
    expect(envelopeHeaders(envelope)).toEqual({
      [MessageHeaders.messageId]: envelope.id,
      [MessageHeaders.messageType]: 'RiskAssessed',
      [MessageHeaders.schemaVersion]: '1',
      [MessageHeaders.correlationId]: envelope.metadata.correlationId,
      [MessageHeaders.causationId]: envelope.metadata.causationId,
      [MessageHeaders.producer]: 'test',
      [MessageHeaders.contentType]: 'application/json',
    });
  });
});

describe('deadLetterHeaders', () => {
  it('keeps the original headers unchanged and adds every dlq header as text', () => {
    const original = { 'message-id': Buffer.from('abc'), repeated: [Buffer.from('1'), Buffer.from('2')] };
    const headers = deadLetterHeaders(original, failure);
    expect(headers['message-id']).toBe(original['message-id']);
    expect(headers['repeated']).toBe(original.repeated);
    expect(headers).toMatchObject({
      [DeadLetterHeaders.reason]: 'handler exploded',
      [DeadLetterHeaders.originalTopic]: 'risk.events',
      [DeadLetterHeaders.originalPartition]: '2',
      [DeadLetterHeaders.originalOffset]: '41',
      [DeadLetterHeaders.consumerGroup]: 'payments',
      [DeadLetterHeaders.failedAt]: '2025-01-02T03:04:05.678Z',
      [DeadLetterHeaders.attempts]: '5',
    });
  });

  it('replaces the dlq headers of an earlier failure instead of repeating them', () => {
    const earlier = deadLetterHeaders({}, { ...failure, reason: 'first', attempts: 1 });
    const again = deadLetterHeaders(earlier, { ...failure, reason: 'second', attempts: 3 });
    expect(again[DeadLetterHeaders.reason]).toBe('second');
    expect(again[DeadLetterHeaders.attempts]).toBe('3');
  });

  it('works without original headers', () => {
    expect(deadLetterHeaders(undefined, failure)[DeadLetterHeaders.originalTopic]).toBe('risk.events');
  });

  it('bounds the reason', () => {
    const headers = deadLetterHeaders({}, { ...failure, reason: 'x'.repeat(100_000) });
    expect(String(headers[DeadLetterHeaders.reason])).toHaveLength(DEAD_LETTER_REASON_MAX_LENGTH);
  });
});

describe('truncateReason', () => {
  it('leaves a short reason alone but puts it on one line', () => {
    expect(truncateReason('bad\nthing\r\nhappened')).toBe('bad thing happened');
  });

  it('cuts a long reason to the bound with an ellipsis', () => {
    const cut = truncateReason('a'.repeat(50), 10);
    expect(cut).toBe(`${'a'.repeat(9)}…`);
  });

  it('never splits a surrogate pair', () => {
    const cut = truncateReason(`${'a'.repeat(8)}😀😀😀`, 10);
    expect(cut).toBe(`${'a'.repeat(8)}…`);
    expect(cut.length).toBeLessThanOrEqual(10);
  });
});

describe('headerText', () => {
  it('reads bytes, text and the first of repeated values; undefined when absent', () => {
    expect(headerText({ a: Buffer.from('bytes') }, 'a')).toBe('bytes');
    expect(headerText({ a: 'text' }, 'a')).toBe('text');
    expect(headerText({ a: [Buffer.from('first'), 'second'] }, 'a')).toBe('first');
    expect(headerText({}, 'a')).toBeUndefined();
    expect(headerText(undefined, 'a')).toBeUndefined();
  });
});
