// Proves the ledger's invariants over random command sequences across accounts in three currencies
// (transfers, linked batches, FX exchanges, reversals, holds with partial captures, voids and
// expiries, freezes, closes, limit changes, monitors, replays): per currency the posted balances sum
// to zero; no account passes its flags and limits; pending equals the open holds; every decision is
// double entry per currency; refusals and repeats move nothing; the reported balances are the
// state's; a repeated command changes nothing; and folding the emitted events from the initial state
// (as one ledger or stream by stream, or through snapshots) gives the state the decisions computed.
import fc from 'fast-check';
import type { OpenAccountData } from '@clearline/contracts';
import {
  accountStateFromJson, accountStateToJson, balancesOf, breachesCreditLimit, breachesDebitLimit, evolveAccount, initialAccountState,
  type AccountEvent, type AccountState,
} from './account.js';
import { decideLedger, type LedgerCommand } from './ledger.js';
import { applyLedgerEvents, initialLedgerState, type LedgerEvent, type LedgerResult, type LedgerState } from './ledger-state.js';

const START = Date.parse('2026-11-26T10:00:00.000Z');

const ACCOUNTS: OpenAccountData[] = [
  { accountId: 'funding-eur', ownerId: 'platform', kind: 'funding', currency: 'EUR', allowNegativeBalance: true },
  { accountId: 'card-eur', ownerId: 'platform', kind: 'bank_card_funding', currency: 'EUR', creditsMustNotExceedDebits: true, creditLimitMinor: '300' },
  { accountId: 'wallet-a', ownerId: 'alice', kind: 'customer_wallet', currency: 'EUR' },
  { accountId: 'wallet-b', ownerId: 'bob', kind: 'e_wallet', currency: 'EUR', debitsMustNotExceedCredits: true, overdraftLimitMinor: '500' },
  { accountId: 'merchant-eur', ownerId: 'acme', kind: 'merchant', currency: 'EUR', allowNegativeBalance: false },
  { accountId: 'fx-eur', ownerId: 'platform', kind: 'fx', currency: 'EUR', allowNegativeBalance: true },
  { accountId: 'funding-usd', ownerId: 'platform', kind: 'funding', currency: 'USD', allowNegativeBalance: true },
  { accountId: 'wallet-usd', ownerId: 'alice', kind: 'mobile_money', currency: 'USD' },
  { accountId: 'fx-usd', ownerId: 'platform', kind: 'fx', currency: 'USD', allowNegativeBalance: true },
  { accountId: 'wallet-jpy', ownerId: 'carol', kind: 'customer_wallet', currency: 'JPY' },
  { accountId: 'fx-jpy', ownerId: 'platform', kind: 'fx', currency: 'JPY', allowNegativeBalance: true },
];
const ACCOUNT_IDS = [...ACCOUNTS.map((account) => account.accountId), 'never-opened'];
const CURRENCY_OF = new Map(ACCOUNTS.map((account) => [account.accountId, account.currency]));
const FX_ACCOUNT_OF: Record<string, string> = { EUR: 'fx-eur', USD: 'fx-usd', JPY: 'fx-jpy' };
const FUNDING = [{ from: 'funding-eur', to: 'wallet-a' }, { from: 'funding-eur', to: 'wallet-b' }, { from: 'funding-usd', to: 'wallet-usd' }, { from: 'fx-jpy', to: 'wallet-jpy' }];

type Operation =
  | { kind: 'transfer'; from: number; to: number; amountMinor: bigint; wrongCurrency: boolean }
  | { kind: 'linked'; legs: { from: number; to: number; amountMinor: bigint }[] }
  | { kind: 'exchange'; from: number; to: number; amountMinor: bigint; numerator: bigint; denominator: bigint }
  | { kind: 'reverse'; original: number; amountMinor: bigint }
  | { kind: 'hold'; account: number; amountMinor: bigint; expiresInMs: number | null }
  | { kind: 'capture'; hold: number; to: number; amountMinor: bigint }
  | { kind: 'void' | 'expire'; hold: number }
  | { kind: 'freeze' | 'unfreeze' | 'close'; account: number }
  | { kind: 'modify'; account: number; limitMinor: bigint }
  | { kind: 'monitor'; account: number; direction: 'above' | 'below'; thresholdMinor: bigint }
  | { kind: 'wait'; ms: number }
  | { kind: 'repeat'; command: number };

const account = fc.oneof({ weight: 19, arbitrary: fc.nat({ max: ACCOUNT_IDS.length - 2 }) }, { weight: 1, arbitrary: fc.constant(ACCOUNT_IDS.length - 1) });
const amountMinor = fc.bigInt({ min: 1n, max: 3_000n });
const pick = fc.nat({ max: 1_000 });
const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('transfer' as const), from: account, to: account, amountMinor, wrongCurrency: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('linked' as const), legs: fc.array(fc.record({ from: account, to: account, amountMinor }), { minLength: 1, maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('exchange' as const), from: account, to: account, amountMinor, numerator: fc.bigInt({ min: 1n, max: 20_000n }), denominator: fc.bigInt({ min: 1n, max: 20_000n }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('reverse' as const), original: pick, amountMinor }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('hold' as const), account, amountMinor, expiresInMs: fc.option(fc.integer({ min: 1, max: 60_000 })) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('capture' as const), hold: pick, to: account, amountMinor }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('void' as const, 'expire' as const), hold: pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('freeze' as const, 'unfreeze' as const, 'close' as const), account }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('modify' as const), account, limitMinor: fc.bigInt({ min: 0n, max: 1_000n }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('monitor' as const), account, direction: fc.constantFrom('above' as const, 'below' as const), thresholdMinor: fc.bigInt({ min: -500n, max: 3_000n }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 40_000 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('repeat' as const), command: pick }) },
);

/** The ledger as a batching writer would keep it: the state each decision returns, and every event it emitted. */
class LedgerRun {
  state: LedgerState = initialLedgerState();
  readonly events: LedgerEvent[] = [];
  readonly commands: LedgerCommand[] = [];
  readonly transferIds: string[] = [];
  readonly holds: { holdId: string; accountId: string }[] = [];
  nowMs = START;
  private nextId = 0;

  constructor() {
    for (const data of ACCOUNTS) this.run({ type: 'OpenAccount', data });
    for (const { from, to } of FUNDING) {
      this.run({ type: 'PostTransfer', data: { transferId: this.id('fund'), debitAccountId: from, creditAccountId: to, amount: { amountMinor: '5000', currency: CURRENCY_OF.get(from) ?? 'EUR' } } });
    }
  }

  id(prefix: string): string {
    return `${prefix}-${this.nextId++}`;
  }

  run(command: LedgerCommand): LedgerResult {
    const result = decideLedger(command, this.state, new Date(this.nowMs));
    this.state = result.state;
    this.events.push(...result.events);
    this.commands.push(command);
    if (command.type === 'PlaceHold') this.holds.push({ holdId: command.data.holdId, accountId: command.data.accountId });
    if (result.status === 'accepted' && (command.type === 'PostTransfer' || command.type === 'ReverseTransfer')) this.transferIds.push(command.data.transferId);
    if (result.status === 'accepted' && command.type === 'PostLinkedTransfers') this.transferIds.push(...command.data.transfers.map((leg) => leg.transferId));
    if (result.status === 'accepted' && command.type === 'CaptureHold') this.transferIds.push(command.data.holdId);
    return result;
  }

  /** The command an operation means in the current run; undefined for the passage of time. */
  commandFor(step: Operation): LedgerCommand | undefined {
    const accountId = (index: number) => ACCOUNT_IDS[index] ?? 'never-opened';
    const money = (from: string, minor: bigint) => ({ amountMinor: minor.toString(), currency: CURRENCY_OF.get(from) ?? 'EUR' });
    switch (step.kind) {
      case 'transfer': {
        const amount = money(accountId(step.from), step.amountMinor);
        return { type: 'PostTransfer', data: { transferId: this.id('t'), debitAccountId: accountId(step.from), creditAccountId: accountId(step.to), amount: step.wrongCurrency ? { ...amount, currency: 'USD' } : amount } };
      }
      case 'linked':
        return {
          type: 'PostLinkedTransfers',
          data: { batchId: this.id('batch'), transfers: step.legs.map((leg) => ({ transferId: this.id('leg'), debitAccountId: accountId(leg.from), creditAccountId: accountId(leg.to), amount: money(accountId(leg.from), leg.amountMinor) })) },
        };
      case 'exchange': {
        const source = CURRENCY_OF.get(accountId(step.from)) ?? 'EUR';
        const target = CURRENCY_OF.get(accountId(step.to)) ?? 'USD';
        if (source === target) return undefined;
        return {
          type: 'ExchangeCurrency',
          data: {
            transferId: this.id('fx'), debitAccountId: accountId(step.from), creditAccountId: accountId(step.to),
            fxSourceAccountId: FX_ACCOUNT_OF[source] ?? 'fx-eur', fxTargetAccountId: FX_ACCOUNT_OF[target] ?? 'fx-usd',
            amount: { amountMinor: step.amountMinor.toString(), currency: source }, targetCurrency: target,
            rate: { numerator: step.numerator.toString(), denominator: step.denominator.toString() },
          },
        };
      }
      case 'reverse': {
        const originalTransferId = this.transferIds[step.original % Math.max(1, this.transferIds.length)] ?? 'no-such-transfer';
        const currency = this.currencyOfOriginal(originalTransferId);
        return { type: 'ReverseTransfer', data: { transferId: this.id('rev'), originalTransferId, amount: { amountMinor: step.amountMinor.toString(), currency } } };
      }
      case 'hold': {
        const expiry = step.expiresInMs === null ? {} : { expiresAt: new Date(this.nowMs + step.expiresInMs).toISOString() };
        return { type: 'PlaceHold', data: { holdId: this.id('hold'), accountId: accountId(step.account), amount: money(accountId(step.account), step.amountMinor), paymentId: 'p-1', ...expiry } };
      }
      case 'capture': {
        const hold = this.holds[step.hold % Math.max(1, this.holds.length)] ?? { holdId: 'no-hold', accountId: 'wallet-a' };
        return { type: 'CaptureHold', data: { ...hold, creditAccountId: accountId(step.to), amount: money(hold.accountId, step.amountMinor), paymentId: 'p-1' } };
      }
      case 'void':
      case 'expire': {
        const hold = this.holds[step.hold % Math.max(1, this.holds.length)] ?? { holdId: 'no-hold', accountId: 'wallet-a' };
        return { type: step.kind === 'void' ? 'VoidHold' : 'ExpireHold', data: hold };
      }
      case 'freeze':
        return { type: 'FreezeAccount', data: { accountId: accountId(step.account) } };
      case 'unfreeze':
        return { type: 'UnfreezeAccount', data: { accountId: accountId(step.account) } };
      case 'close':
        return { type: 'CloseAccount', data: { accountId: accountId(step.account) } };
      case 'modify': {
        const state = this.state.accounts.get(accountId(step.account));
        const limit = state === undefined || state.status === 'unopened' ? {}
          : state.debitsMustNotExceedCredits ? { overdraftLimitMinor: step.limitMinor.toString() }
            : state.creditsMustNotExceedDebits ? { creditLimitMinor: step.limitMinor.toString() } : {};
        return { type: 'ModifyAccount', data: { accountId: accountId(step.account), ...limit, metadata: { tier: step.limitMinor.toString() } } };
      }
      case 'monitor':
        return { type: 'RegisterBalanceMonitor', data: { monitorId: this.id('monitor'), accountId: accountId(step.account), balance: 'available', direction: step.direction, thresholdMinor: step.thresholdMinor.toString() } };
      case 'wait':
        this.nowMs += step.ms;
        return undefined;
      case 'repeat':
        return this.commands[step.command % this.commands.length];
      default: {
        const unreachable: never = step;
        return unreachable;
      }
    }
  }

  private currencyOfOriginal(transferId: string): string {
    const transfer = this.state.transfers.get(transferId);
    if (transfer?.status === 'decided' && transfer.movement) return transfer.movement.currency;
    const hold = this.state.holds.get(transferId);
    return hold?.status === 'captured' ? hold.movement.currency : 'EUR';
  }
}

function ledgerViolations(state: LedgerState): string[] {
  const violations: string[] = [];
  const postedByCurrency = new Map<string, bigint>();
  for (const [accountId, account] of state.accounts) {
    if (account.status === 'unopened') continue;
    postedByCurrency.set(account.currency, (postedByCurrency.get(account.currency) ?? 0n) + account.postedMinor);
    if (breachesDebitLimit(account)) violations.push(`${accountId} overdrew: ${JSON.stringify(balancesOf(account))}, overdraft ${account.overdraftLimitMinor}`);
    if (breachesCreditLimit(account)) violations.push(`${accountId} passed its credit limit: posted ${account.postedMinor}, limit ${account.creditLimitMinor}`);
    const held = [...account.holds.values()].reduce((sum, hold) => sum + hold.amountMinor, 0n);
    if (held !== account.pendingMinor) violations.push(`${accountId} has pending ${account.pendingMinor} but open holds of ${held}`);
    if (account.status === 'closed' && (account.postedMinor !== 0n || account.holds.size > 0)) violations.push(`${accountId} is closed with money in it`);
  }
  for (const [currency, total] of postedByCurrency) if (total !== 0n) violations.push(`${currency} posted balances sum to ${total}`);
  return violations;
}

function decisionViolations(before: LedgerState, result: LedgerResult): string[] {
  const violations: string[] = [];
  const accountEvents = result.events.filter((event): event is Extract<LedgerEvent, { category: 'account' }> => event.category === 'account');
  const moves = accountEvents.filter(({ event }) => event.type !== 'BalanceThresholdCrossed');
  if (result.status !== 'accepted' && moves.length > 0) violations.push(`a ${result.status} decision changed accounts: ${JSON.stringify(moves)}`);
  const netByCurrency = new Map<string, bigint>();
  for (const { id, event } of accountEvents) {
    const account = result.state.accounts.get(id);
    const currency = account && account.status !== 'unopened' ? account.currency : '?';
    const signed = signedPostingMinor(event);
    if (signed !== 0n) netByCurrency.set(currency, (netByCurrency.get(currency) ?? 0n) + signed);
  }
  for (const [currency, net] of netByCurrency) if (net !== 0n) violations.push(`${currency} debits and credits differ by ${net}`);
  for (const [accountId, reported] of result.balances) {
    const account = result.state.accounts.get(accountId);
    if (account === undefined || account.status === 'unopened' || JSON.stringify(balancesOf(account)) !== JSON.stringify(reported)) {
      violations.push(`reported ${JSON.stringify(reported)} for ${accountId}, the state has another`);
    }
  }
  if (result.status !== 'accepted' && result.state !== before && result.events.length === 0) violations.push('a decision without events changed the state');
  return violations;
}

function signedPostingMinor(event: AccountEvent): bigint {
  switch (event.type) {
    case 'AccountCredited':
      return BigInt(event.data.amountMinor);
    case 'AccountDebited':
    case 'AccountHoldCaptured':
      return -BigInt(event.data.amountMinor);
    default:
      return 0n;
  }
}

/** Each account rebuilt from its own stream alone, as apps/ledger loads it, and through a snapshot. */
function accountsFromStreams(events: readonly LedgerEvent[]): Map<string, AccountState> {
  const streams = new Map<string, AccountEvent[]>();
  for (const event of events) if (event.category === 'account') streams.set(event.id, [...(streams.get(event.id) ?? []), event.event]);
  return new Map([...streams].map(([accountId, stream]) => {
    const half = Math.floor(stream.length / 2);
    const snapshot = accountStateFromJson(JSON.parse(JSON.stringify(accountStateToJson(stream.slice(0, half).reduce(evolveAccount, initialAccountState())))));
    return [accountId, stream.slice(half).reduce(evolveAccount, snapshot)];
  }));
}

const history = fc.array(operation, { minLength: 1, maxLength: 60, size: 'medium' });

/** Fixed so the coverage guard below cannot fail by chance (a run once never got an UnfreezeAccount through); LEDGER_INVARIANTS_SEED explores. */
const INVARIANTS_SEED = Number(process.env['LEDGER_INVARIANTS_SEED'] ?? 20261127);

describe('ledger invariants over random command sequences in EUR, USD and JPY', () => {
  it('holds every invariant after every decision, and a repeated command changes nothing', () => {
    const acceptedTypes = new Set<string>();
    fc.assert(fc.property(history, (operations) => {
      const run = new LedgerRun();
      expect(ledgerViolations(run.state)).toEqual([]);
      for (const step of operations) {
        const command = run.commandFor(step);
        if (command === undefined) continue;
        const before = run.state;
        const result = run.run(command);
        if (result.status === 'accepted') acceptedTypes.add(command.type);
        expect([...decisionViolations(before, result), ...ledgerViolations(run.state)]).toEqual([]);
        const repeat = decideLedger(command, run.state, new Date(run.nowMs));
        expect({ command: command.type, status: repeat.status, events: repeat.events }).toEqual({ command: command.type, status: repeat.status, events: [] });
      }
    }), { numRuns: 250, seed: INVARIANTS_SEED });
    // Guards the generator: a mix that never got some command through would prove nothing about it.
    expect([...acceptedTypes].sort()).toEqual([
      'CaptureHold', 'CloseAccount', 'ExchangeCurrency', 'ExpireHold', 'FreezeAccount', 'ModifyAccount', 'PlaceHold',
      'PostLinkedTransfers', 'PostTransfer', 'RegisterBalanceMonitor', 'ReverseTransfer', 'UnfreezeAccount', 'VoidHold',
    ]);
  });

  it('folding the emitted events from the initial state gives the live state, as one ledger and stream by stream', () => {
    fc.assert(fc.property(history, (operations) => {
      const run = new LedgerRun();
      for (const step of operations) {
        const command = run.commandFor(step);
        if (command !== undefined) run.run(command);
      }
      const rebuilt = applyLedgerEvents(initialLedgerState(), run.events);
      expect(rebuilt).toEqual(run.state);
      expect(accountsFromStreams(run.events)).toEqual(new Map([...run.state.accounts].filter(([, state]) => state.status !== 'unopened')));
    }), { numRuns: 150 });
  });

  it('replaying any earlier transfer, batch, exchange, reversal or hold placement later changes nothing', () => {
    const idCarrying = new Set<LedgerCommand['type']>(['PostTransfer', 'PostLinkedTransfers', 'ExchangeCurrency', 'ReverseTransfer', 'PlaceHold']);
    fc.assert(fc.property(history, (operations) => {
      const run = new LedgerRun();
      for (const step of operations) {
        const command = run.commandFor(step);
        if (command !== undefined) run.run(command);
      }
      for (const command of run.commands.filter((candidate) => idCarrying.has(candidate.type))) {
        const repeat = decideLedger(command, run.state, new Date(run.nowMs));
        expect({ type: command.type, status: repeat.status, events: repeat.events }).toEqual({ type: command.type, status: 'replayed', events: [] });
      }
    }), { numRuns: 100 });
  });
});
