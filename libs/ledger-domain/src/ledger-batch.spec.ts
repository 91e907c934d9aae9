// Proves LedgerBatch, the pure fold a batch writer decides with: later commands of a batch see the
// effects of earlier ones, a rejected or invalid command changes nothing but its own record, the
// source the batch reads from is never written, a decision that would overflow the batch is left
// for the next one, and deciding a batch equals deciding its commands one by one on a whole ledger.
import type { OpenAccountData } from '@clearline/contracts';
import { balancesOf, type AccountState } from './account.js';
import { LedgerBatch, StreamNotLoadedError, type LedgerStreamSource } from './ledger-batch.js';
import { decideLedger, type LedgerCommand } from './ledger.js';
import { applyLedgerEvents, initialLedgerState, LedgerDomainError, type LedgerState } from './ledger-state.js';
import { initialHoldState, initialTransferState, type HoldState, type TransferState } from './operation-records.js';

const NOW = new Date('2026-11-27T10:00:00.000Z');
const ids = Array.from({ length: 16 }, (_, index) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`);

const open = (accountId: string, allowNegativeBalance = false): LedgerCommand => ({
  type: 'OpenAccount', data: { accountId, ownerId: 'owner', kind: allowNegativeBalance ? 'funding' : 'customer_wallet', currency: 'EUR', allowNegativeBalance } satisfies OpenAccountData,
});
const transfer = (transferId: string, debitAccountId: string, creditAccountId: string, amountMinor: string): LedgerCommand => ({
  type: 'PostTransfer', data: { transferId, debitAccountId, creditAccountId, amount: { amountMinor, currency: 'EUR' } },
});

/** A whole ledger folded from commands, and a source over it that knows every id (unknown ones are new). */
function ledgerOf(commands: LedgerCommand[]): LedgerState {
  let state = initialLedgerState();
  for (const command of commands) state = applyLedgerEvents(state, decideLedger(command, state, NOW).events);
  return state;
}

function sourceOver(state: LedgerState): LedgerStreamSource & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    account: (id): AccountState => (reads.push(`account-${id}`), state.accounts.get(id) ?? { status: 'unopened' }),
    transfer: (id): TransferState => (reads.push(`transfer-${id}`), state.transfers.get(id) ?? initialTransferState()),
    hold: (id): HoldState => (reads.push(`hold-${id}`), state.holds.get(id) ?? initialHoldState()),
  };
}

function postedOf(batch: LedgerBatch, accountId: string): bigint | undefined {
  const changed = batch.changedStreams().find((stream) => stream.category === 'account' && stream.id === accountId);
  return changed?.category === 'account' && changed.state.status !== 'unopened' ? changed.state.postedMinor : undefined;
}

const opened = [open('funding', true), open('alice'), open('bob')];

describe('given funding, alice and bob open with nothing on alice', () => {
  it('lets a later command spend what an earlier one of the same batch credited', () => {
    const batch = new LedgerBatch(sourceOver(ledgerOf(opened)));
    expect(batch.decide(transfer(ids[0]!, 'funding', 'alice', '100'), NOW)?.status).toBe('accepted');
    const spend = batch.decide(transfer(ids[1]!, 'alice', 'bob', '70'), NOW);
    expect(spend?.status).toBe('accepted');
    expect(spend?.balances.get('alice')).toMatchObject({ postedMinor: '30', availableMinor: '30' });
    expect(postedOf(batch, 'bob')).toBe(70n);
    expect(batch.eventCount).toBe(6);
  });

  it('rejects a command in the middle without changing anything but its own record', () => {
    const batch = new LedgerBatch(sourceOver(ledgerOf(opened)));
    batch.decide(transfer(ids[0]!, 'funding', 'alice', '100'), NOW);
    const refused = batch.decide(transfer(ids[1]!, 'alice', 'bob', '101'), NOW);
    expect(refused).toMatchObject({ status: 'rejected', reasonCode: 'insufficient_funds' });
    expect(refused?.events.map((event) => `${event.category}:${event.event.type}`)).toEqual(['transfer:TransferRejected']);
    expect(() => batch.decide(transfer(ids[2]!, 'alice', 'bob', '0'), NOW)).toThrow(LedgerDomainError);
    expect(batch.decide(transfer(ids[3]!, 'alice', 'bob', '100'), NOW)?.status).toBe('accepted');
    expect(postedOf(batch, 'alice')).toBe(0n);
    expect(postedOf(batch, 'bob')).toBe(100n);
    // The refused transfer's id is recorded, so its retry is answered with the same refusal.
    expect(batch.decide(transfer(ids[1]!, 'alice', 'bob', '101'), NOW)).toMatchObject({ status: 'replayed', outcome: { type: 'TransferRejected' } });
  });

  it('never writes to the source it reads from', () => {
    const ledger = ledgerOf(opened);
    const before = balancesOf(ledger.accounts.get('alice') as Extract<AccountState, { status: 'open' }>);
    const batch = new LedgerBatch(sourceOver(ledger));
    batch.decide(transfer(ids[0]!, 'funding', 'alice', '100'), NOW);
    expect(balancesOf(ledger.accounts.get('alice') as Extract<AccountState, { status: 'open' }>)).toEqual(before);
    expect(batch.streamsRead).toEqual(new Set(['account-funding', 'account-alice', `transfer-${ids[0]}`]));
  });

  it('leaves a decision that would overflow the batch for the next one, unapplied', () => {
    const batch = new LedgerBatch(sourceOver(ledgerOf(opened)));
    batch.decide(transfer(ids[0]!, 'funding', 'alice', '100'), NOW, 5);
    expect(batch.decide(transfer(ids[1]!, 'alice', 'bob', '10'), NOW, 5)).toBeUndefined();
    expect(batch.eventCount).toBe(3);
    expect(postedOf(batch, 'bob')).toBeUndefined();
  });

  it('refuses to decide on a stream nobody loaded', () => {
    const batch = new LedgerBatch({ account: () => undefined, transfer: () => initialTransferState(), hold: () => initialHoldState() });
    expect(() => batch.decide(transfer(ids[0]!, 'funding', 'alice', '1'), NOW)).toThrow(StreamNotLoadedError);
    expect(batch.changedStreams()).toEqual([]);
  });
});

describe('a seeded random batch', () => {
  it('decides exactly as the commands one by one on the whole ledger', () => {
    let seed = 42;
    const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const accounts = ['alice', 'bob', 'carol', 'dave'];
    const setup = [open('funding', true), ...accounts.map((id) => open(id))];
    const commands: LedgerCommand[] = Array.from({ length: 300 }, (_, index) => {
      const from = random() < 0.2 ? 'funding' : accounts[Math.floor(random() * accounts.length)]!;
      const to = accounts[Math.floor(random() * accounts.length)]!;
      const id = `00000000-0000-4000-9000-${String(index % 250).padStart(12, '0')}`; // some ids repeat
      return transfer(id, from, to, String(1 + Math.floor(random() * 200)));
    });
    const batch = new LedgerBatch(sourceOver(ledgerOf(setup)));
    let whole = ledgerOf(setup);
    for (const command of commands) {
      const expected = decideLedger(command, whole, NOW);
      whole = applyLedgerEvents(whole, expected.events);
      const actual = batch.decide(command, NOW);
      expect(actual?.status).toBe(expected.status);
      expect(actual?.events).toEqual(expected.events);
      expect(actual?.balances).toEqual(expected.balances);
    }
    for (const accountId of ['funding', ...accounts]) {
      const account = whole.accounts.get(accountId);
      if (account?.status === 'open') expect(postedOf(batch, accountId) ?? 0n).toBe(account.postedMinor);
    }
  });
});
