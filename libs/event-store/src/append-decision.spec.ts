// Proves how an append is decided once the stream head is known: the expected-version rules, that
// a repeated append is recognised before its version is checked, and that a half-stored or
// elsewhere-stored batch is a conflict, not a silent partial write.
import { assertExpectedVersion, decideAppend, planAppends, type PlannedAppend, type StoredEventLocation } from './append-decision.js';
import { EventIdConflictError, EventStoreInputError, WrongExpectedVersionError } from './event-store.errors.js';

const ids = ['8f0c1f6e-8b1f-4c8e-9d2a-000000000001', '8f0c1f6e-8b1f-4c8e-9d2a-000000000002', '8f0c1f6e-8b1f-4c8e-9d2a-000000000003'] as const;

function planned(streamId: string, count: number, expectedVersion: PlannedAppend['expectedVersion'] = 'any'): PlannedAppend {
  const [append] = planAppends([{ streamId, expectedVersion, events: ids.slice(0, count).map((id) => ({ id, type: 'Happened', data: {} })) }]);
  return append as PlannedAppend;
}

function stored(streamId: string, entries: [number, bigint, bigint][]): Map<string, StoredEventLocation> {
  return new Map(entries.map(([index, streamVersion, globalPosition]) => [ids[index] as string, { id: ids[index] as string, streamId, streamVersion, globalPosition }]));
}

describe('assertExpectedVersion', () => {
  it.each([
    ['any', 'no_stream'],
    ['any', 3n],
    ['no_stream', 'no_stream'],
    ['stream_exists', 0n],
    [4n, 4n],
  ] as const)('accepts expected %s when the stream is at %s', (expected, actual) => {
    expect(() => assertExpectedVersion('payment-1', expected, actual)).not.toThrow();
  });

  it.each([
    ['no_stream', 0n],
    ['stream_exists', 'no_stream'],
    [4n, 5n],
    [0n, 'no_stream'],
  ] as const)('refuses expected %s when the stream is at %s', (expected, actual) => {
    const attempt = () => assertExpectedVersion('payment-1', expected, actual);
    expect(attempt).toThrow(WrongExpectedVersionError);
    try {
      attempt();
    } catch (error) {
      expect(error).toMatchObject({ streamId: 'payment-1', expected, actual });
    }
  });
});

describe('planAppends', () => {
  it('refuses the same stream twice and the same event id twice in one call', () => {
    expect(() => planAppends([{ streamId: 'payment-1', events: [] }, { streamId: 'payment-1', events: [] }])).toThrow(/appears twice/);
    expect(() =>
      planAppends([
        { streamId: 'payment-1', events: [{ id: ids[0], type: 'A', data: {} }] },
        { streamId: 'payment-2', events: [{ id: ids[0], type: 'B', data: {} }] },
      ]),
    ).toThrow(/event id .* appears twice/);
  });

  it('refuses a negative or non-bigint expected version', () => {
    expect(() => planAppends([{ streamId: 'payment-1', events: [], expectedVersion: -1n }])).toThrow(EventStoreInputError);
    expect(() => planAppends([{ streamId: 'payment-1', events: [], expectedVersion: 3 as unknown as bigint }])).toThrow(/expectedVersion 3/);
  });
});

describe('decideAppend', () => {
  it('appends when the head is at the expected version', () => {
    const append = planned('payment-1', 2, 4n);
    expect(decideAppend(append, { version: 4n }, new Map())).toEqual({ kind: 'append', append });
    expect(() => decideAppend(append, { version: 5n }, new Map())).toThrow(WrongExpectedVersionError);
  });

  it('treats a missing head and a head row at -1 alike: no stream', () => {
    expect(decideAppend(planned('payment-1', 1, 'no_stream'), undefined, new Map())).toMatchObject({ kind: 'append' });
    expect(decideAppend(planned('payment-1', 1, 'no_stream'), { version: -1n }, new Map())).toMatchObject({ kind: 'append' });
    expect(() => decideAppend(planned('payment-1', 1, 'stream_exists'), { version: -1n }, new Map())).toThrow(WrongExpectedVersionError);
  });

  it('recognises a repeated append before checking the version the stream has moved past', () => {
    const decision = decideAppend(planned('payment-1', 2, 0n), { version: 7n }, stored('payment-1', [[0, 1n, 10n], [1, 2n, 11n]]));
    expect(decision).toEqual({
      kind: 'already-appended',
      result: { streamId: 'payment-1', nextExpectedVersion: 2n, firstGlobalPosition: 10n, lastGlobalPosition: 11n, alreadyAppended: true },
    });
  });

  it('refuses a batch of which only some events are stored', () => {
    expect(() => decideAppend(planned('payment-1', 3), { version: 1n }, stored('payment-1', [[0, 0n, 1n]]))).toThrow(
      /1 of its 3 events are already stored/,
    );
  });

  it('refuses a batch stored in another stream', () => {
    expect(() => decideAppend(planned('payment-1', 1), undefined, stored('payment-2', [[0, 0n, 1n]]))).toThrow(EventIdConflictError);
  });
});
