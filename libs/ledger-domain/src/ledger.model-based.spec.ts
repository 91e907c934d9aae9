// Model-based conformance of the ledger decider, in the style of Jepsen: fast-check generates random
// command sequences (fc.commands, run by the pure, synchronous fc.modelRun) against decideLedger and
// against a small model written here from the README's rules alone (plain maps of bigints, no code of
// the decider). Each step must agree with the model: accepted / replayed / rejected, a rejection's
// reason one the model found, the same posted and pending balances, statuses and id records. After
// every step the real state must keep the ledger's invariants: per currency the posted balances sum to
// zero (double entry), no account beyond its flag's limit, pending equal to the open holds, an id's
// effect (posting, placing, capturing, releasing) at most once over the whole run, refusals and
// replays moving no money, and folding every emitted event from the initial state giving the state
// the decider returned. About 30% of the id-bearing commands reuse an earlier id, with the same body
// (a retry: replayed) or another one (duplicate_id_different_body), and the rest mix wrong
// currencies, overdrafts, credit limits, frozen and closed accounts, and holds past their expiry.
//
// A failure shrinks to a short sequence and fast-check prints `{ seed, path }` and the counterexample
// with its `/*replayPath=...*/`. To reproduce it:
//   FC_SEED=<seed> FC_PATH=<path> FC_REPLAY_PATH=<replayPath> npx node --experimental-vm-modules \
//     node_modules/jest/bin/jest.js libs/ledger-domain/src/ledger.model-based.spec.ts
// FC_RUNS overrides the number of sequences (default 5000; with the payments' 5000, 10,000 per CI run);
// FC_COVERAGE=1 prints how often each command met each outcome.
import fc from 'fast-check';
import type { LedgerRejectionCode, OpenAccountData, WireMoney } from '@clearline/contracts';
import { accountStateToJson } from './account.js';
import { decideLedger, type LedgerCommand } from './ledger.js';
import { applyLedgerEvents, initialLedgerState, LedgerDomainError, type LedgerEvent, type LedgerResult, type LedgerState } from './ledger-state.js';

const RUNS = Number(process.env.FC_RUNS ?? 5_000);
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
const START_MS = Date.parse('2026-11-27T09:00:00.000Z');
const PAYMENT_ID = '3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';

// Two funding accounts (no balance flag: they mirror money outside) are open from the start; the
// others are opened by the sequence, with random currencies, flags and limits; 'ghost' never is.
const FUNDING: OpenAccountData[] = [
  { accountId: 'fund-eur', ownerId: 'platform', kind: 'funding', currency: 'EUR', allowNegativeBalance: true },
  { accountId: 'fund-usd', ownerId: 'platform', kind: 'funding', currency: 'USD', allowNegativeBalance: true },
];
const ACCOUNT_IDS = ['fund-eur', 'fund-usd', 'acct-0', 'acct-1', 'acct-2', 'acct-3', 'ghost'];
type Currency = 'EUR' | 'USD' | 'JPY';

// ---------------------------------------------------------------------------------------------------
// The model: what the README promises, as plainly as it can be written.

type Rule = 'debits' | 'credits' | 'none';

interface ModelAccount {
  currency: string;
  /** Owner and kind: with the currency, rule and limits as they are now, the terms a reopening must repeat to be a retry. */
  owner: string;
  rule: Rule;
  overdraft: bigint;
  creditLimit: bigint;
  status: 'open' | 'frozen' | 'closed';
  posted: bigint;
  holds: Map<string, { amount: bigint; expiresAtMs?: number }>;
}

interface Moved { from: string; to: string; currency: string; amount: bigint }

interface ModelTransfer { body: string; moved?: Moved; reversed: bigint }

interface ModelHold {
  body: string;
  status: 'rejected' | 'open' | 'captured' | 'voided' | 'expired';
  accountId: string;
  amount: bigint;
  expiresAtMs?: number;
  captureBody?: string;
  moved?: Moved;
  reversed: bigint;
}

type Prediction =
  | { status: 'accepted' | 'replayed' }
  | { status: 'rejected'; reasons: LedgerRejectionCode[] }
  /** Input no state makes valid: the decider throws LedgerDomainError. */
  | { status: 'invalid' };

/** A prediction and what it does to the model; rejections the ledger records still claim their id. */
interface Decision { prediction: Prediction; commit: () => void }

const nothing = (): void => undefined;
const rejectedFor = (reasons: LedgerRejectionCode[], commit: () => void = nothing): Decision => ({ prediction: { status: 'rejected', reasons }, commit });
const moneyKey = (money: WireMoney): string => `${money.amountMinor} ${money.currency}`;

class LedgerModel {
  nowMs = START_MS;
  readonly accounts = new Map<string, ModelAccount>();
  readonly transfers = new Map<string, ModelTransfer>();
  readonly holds = new Map<string, ModelHold>();
  /** Every id-bearing command sent so far, for the sequence's retries and reuses of ids. */
  readonly sentTransfers: LedgerCommand[] = [];
  readonly sentHolds: Extract<LedgerCommand, { type: 'PlaceHold' }>[] = [];
  readonly sentCaptures: Extract<LedgerCommand, { type: 'CaptureHold' }>[] = [];
  private nextId = 0;

  freshId(prefix: string): string {
    return `${prefix}-${this.nextId++}`;
  }

  currencyOf(accountId: string): string {
    return this.accounts.get(accountId)?.currency ?? 'EUR';
  }

  decide(command: LedgerCommand): Decision {
    switch (command.type) {
      case 'OpenAccount': return this.open(command.data);
      case 'ModifyAccount': return this.modify(command.data.accountId, command.data.overdraftLimitMinor, command.data.creditLimitMinor);
      case 'FreezeAccount': return this.setStatus(command.data.accountId, 'open', 'frozen');
      case 'UnfreezeAccount': return this.setStatus(command.data.accountId, 'frozen', 'open');
      case 'CloseAccount': return this.close(command.data.accountId);
      case 'PostTransfer': return this.transfer(command);
      case 'ReverseTransfer': return this.reverse(command);
      case 'PlaceHold': return this.placeHold(command);
      case 'CaptureHold': return this.capture(command);
      case 'VoidHold': return this.release(command.data.holdId, command.data.accountId, 'voided');
      case 'ExpireHold': return this.release(command.data.holdId, command.data.accountId, 'expired');
      default: throw new Error(`the model does not know ${command.type}`);
    }
  }

  private open(data: OpenAccountData): Decision {
    const debitsFlag = data.debitsMustNotExceedCredits;
    const creditsFlag = data.creditsMustNotExceedDebits === true;
    if (debitsFlag === true && creditsFlag) return { prediction: { status: 'invalid' }, commit: nothing };
    // No flag named: allowNegativeBalance false (or absent) means the debit rule, true means none.
    const rule: Rule = debitsFlag === true ? 'debits' : creditsFlag ? 'credits' : debitsFlag === false ? 'none' : data.allowNegativeBalance === true ? 'none' : 'debits';
    if (data.allowNegativeBalance !== undefined && data.allowNegativeBalance !== (rule !== 'debits')) return { prediction: { status: 'invalid' }, commit: nothing };
    const overdraft = BigInt(data.overdraftLimitMinor ?? '0');
    const creditLimit = BigInt(data.creditLimitMinor ?? '0');
    if ((overdraft > 0n && rule !== 'debits') || (creditLimit > 0n && rule !== 'credits')) return { prediction: { status: 'invalid' }, commit: nothing };
    const owner = `${data.ownerId}/${data.kind}`;
    const existing = this.accounts.get(data.accountId);
    if (existing) {
      // The terms as they are now: after a ModifyAccount, a late retry of the first opening no longer matches.
      const same = existing.owner === owner && existing.currency === data.currency && existing.rule === rule && existing.overdraft === overdraft && existing.creditLimit === creditLimit;
      return same ? { prediction: { status: 'replayed' }, commit: nothing } : rejectedFor(['account_already_exists']);
    }
    return {
      prediction: { status: 'accepted' },
      commit: () => this.accounts.set(data.accountId, { currency: data.currency, owner, rule, overdraft, creditLimit, status: 'open', posted: 0n, holds: new Map() }),
    };
  }

  private modify(accountId: string, overdraftMinor: string | undefined, creditLimitMinor: string | undefined): Decision {
    const account = this.accounts.get(accountId);
    if (!account) return rejectedFor(['account_not_found']);
    if (account.status === 'closed') return rejectedFor(['account_closed']);
    const overdraft = overdraftMinor === undefined ? account.overdraft : BigInt(overdraftMinor);
    const creditLimit = creditLimitMinor === undefined ? account.creditLimit : BigInt(creditLimitMinor);
    if (overdraft === account.overdraft && creditLimit === account.creditLimit) return { prediction: { status: 'replayed' }, commit: nothing };
    const changed = { ...account, overdraft, creditLimit };
    if (!withinLimits(changed)) return rejectedFor(['limit_exceeded']);
    return { prediction: { status: 'accepted' }, commit: () => Object.assign(account, { overdraft, creditLimit }) };
  }

  private setStatus(accountId: string, from: 'open' | 'frozen', to: 'open' | 'frozen'): Decision {
    const account = this.accounts.get(accountId);
    if (!account) return rejectedFor(['account_not_found']);
    if (account.status === 'closed') return rejectedFor(['account_closed']);
    if (account.status !== from) return { prediction: { status: 'replayed' }, commit: nothing };
    return { prediction: { status: 'accepted' }, commit: () => { account.status = to; } };
  }

  private close(accountId: string): Decision {
    const account = this.accounts.get(accountId);
    if (!account) return rejectedFor(['account_not_found']);
    if (account.status === 'closed') return { prediction: { status: 'replayed' }, commit: nothing };
    const reasons: LedgerRejectionCode[] = [];
    if (account.holds.size > 0) reasons.push('account_has_open_holds');
    if (account.posted !== 0n) reasons.push('account_has_balance');
    if (reasons.length > 0) return rejectedFor(reasons);
    return { prediction: { status: 'accepted' }, commit: () => { account.status = 'closed'; } };
  }

  /** Why an account may not move `currency` now: every reason that applies (the decider names one). */
  private participation(accountId: string, currency: string): LedgerRejectionCode[] {
    const account = this.accounts.get(accountId);
    if (!account) return ['account_not_found'];
    const reasons: LedgerRejectionCode[] = [];
    if (account.status === 'closed') reasons.push('account_closed');
    if (account.status === 'frozen') reasons.push('account_frozen');
    if (account.currency !== currency) reasons.push('currency_mismatch');
    return reasons;
  }

  private movementReasons(from: string, to: string, currency: string, amount: bigint): LedgerRejectionCode[] {
    const reasons: LedgerRejectionCode[] = [];
    if (from === to) return ['same_account'];
    reasons.push(...this.participation(from, currency), ...this.participation(to, currency));
    const debit = this.accounts.get(from);
    const credit = this.accounts.get(to);
    if (debit && debit.rule === 'debits' && available(debit) - amount < -debit.overdraft) reasons.push('insufficient_funds');
    if (credit && credit.rule === 'credits' && credit.posted + amount > credit.creditLimit) reasons.push('limit_exceeded');
    return reasons;
  }

  private move(moved: Moved): void {
    this.accounts.get(moved.from)!.posted -= moved.amount;
    this.accounts.get(moved.to)!.posted += moved.amount;
  }

  /** An id already used in the transfer namespace: the same body is a retry, another one is refused and recorded nowhere. */
  private repeatedTransferId(transferId: string, body: string): Decision | undefined {
    const record = this.transfers.get(transferId);
    if (!record) return undefined;
    return record.body === body ? { prediction: { status: 'replayed' }, commit: nothing } : rejectedFor(['duplicate_id_different_body']);
  }

  private transfer(command: Extract<LedgerCommand, { type: 'PostTransfer' }>): Decision {
    const { transferId, debitAccountId, creditAccountId, amount } = command.data;
    const body = JSON.stringify(['PostTransfer', transferId, debitAccountId, creditAccountId, moneyKey(amount)]);
    const repeat = this.repeatedTransferId(transferId, body);
    if (repeat) return repeat;
    const moved: Moved = { from: debitAccountId, to: creditAccountId, currency: amount.currency, amount: BigInt(amount.amountMinor) };
    const reasons = this.movementReasons(moved.from, moved.to, moved.currency, moved.amount);
    if (reasons.length > 0) return rejectedFor(reasons, () => this.transfers.set(transferId, { body, reversed: 0n }));
    return {
      prediction: { status: 'accepted' },
      commit: () => {
        this.move(moved);
        this.transfers.set(transferId, { body, moved, reversed: 0n });
      },
    };
  }

  private reverse(command: Extract<LedgerCommand, { type: 'ReverseTransfer' }>): Decision {
    const { transferId, originalTransferId, amount } = command.data;
    const body = JSON.stringify(['ReverseTransfer', transferId, originalTransferId, moneyKey(amount)]);
    const repeat = this.repeatedTransferId(transferId, body);
    if (repeat) return repeat;
    const record = () => this.transfers.set(transferId, { body, reversed: 0n });
    const original: ModelTransfer | ModelHold | undefined = this.transfers.get(originalTransferId) ?? this.holds.get(originalTransferId);
    if (!original) return rejectedFor(['transfer_not_found'], record);
    if (!original.moved) return rejectedFor(['transfer_not_reversible'], record);
    const amountMinor = BigInt(amount.amountMinor);
    const back: Moved = { from: original.moved.to, to: original.moved.from, currency: original.moved.currency, amount: amountMinor };
    const reasons = this.movementReasons(back.from, back.to, back.currency, back.amount);
    if (amount.currency !== original.moved.currency) reasons.push('currency_mismatch');
    if (amountMinor > original.moved.amount - original.reversed) reasons.push('reversal_exceeds_original');
    if (reasons.length > 0) return rejectedFor(reasons, record);
    return {
      prediction: { status: 'accepted' },
      commit: () => {
        this.move(back);
        original.reversed += amountMinor;
        this.transfers.set(transferId, { body, moved: back, reversed: 0n });
      },
    };
  }

  private placeHold(command: Extract<LedgerCommand, { type: 'PlaceHold' }>): Decision {
    const { holdId, accountId, amount, paymentId, expiresAt } = command.data;
    const body = JSON.stringify(['PlaceHold', holdId, accountId, moneyKey(amount), paymentId, expiresAt ?? null]);
    const existing = this.holds.get(holdId);
    if (existing) return existing.body === body ? { prediction: { status: 'replayed' }, commit: nothing } : rejectedFor(['duplicate_id_different_body']);
    const amountMinor = BigInt(amount.amountMinor);
    const expiresAtMs = expiresAt === undefined ? undefined : Date.parse(expiresAt);
    const hold: ModelHold = { body, status: 'rejected', accountId, amount: amountMinor, ...(expiresAtMs === undefined ? {} : { expiresAtMs }), reversed: 0n };
    const reasons = this.participation(accountId, amount.currency);
    if (expiresAtMs !== undefined && this.nowMs >= expiresAtMs) reasons.push('hold_expired');
    const account = this.accounts.get(accountId);
    if (account && account.rule === 'debits' && available(account) - amountMinor < -account.overdraft) reasons.push('insufficient_funds');
    if (reasons.length > 0) return rejectedFor(reasons, () => this.holds.set(holdId, hold));
    return {
      prediction: { status: 'accepted' },
      commit: () => {
        this.holds.set(holdId, { ...hold, status: 'open' });
        account!.holds.set(holdId, { amount: amountMinor, ...(expiresAtMs === undefined ? {} : { expiresAtMs }) });
      },
    };
  }

  private capture(command: Extract<LedgerCommand, { type: 'CaptureHold' }>): Decision {
    const { holdId, accountId, creditAccountId, amount, paymentId } = command.data;
    const body = JSON.stringify(['CaptureHold', holdId, accountId, creditAccountId, moneyKey(amount), paymentId]);
    const hold = this.holds.get(holdId);
    // A hold ends once: a repeat of its capture is a retry, anything else asked of it afterwards is refused.
    if (hold?.status === 'captured') return hold.captureBody === body ? { prediction: { status: 'replayed' }, commit: nothing } : rejectedFor(['hold_already_final']);
    if (hold?.status === 'voided') return rejectedFor(['hold_already_final']);
    if (hold?.status === 'expired') return rejectedFor(['hold_expired']);
    if (hold?.status === 'rejected') return rejectedFor(['hold_not_found']);
    const amountMinor = BigInt(amount.amountMinor);
    const reasons: LedgerRejectionCode[] = accountId === creditAccountId ? ['same_account'] : [];
    reasons.push(...this.participation(accountId, amount.currency), ...this.participation(creditAccountId, amount.currency));
    const onThisAccount = hold !== undefined && hold.accountId === accountId;
    if (!onThisAccount) reasons.push('hold_not_found');
    else {
      if (hold.expiresAtMs !== undefined && this.nowMs >= hold.expiresAtMs) reasons.push('hold_expired');
      if (amountMinor > hold.amount) reasons.push('amount_exceeds_hold');
      const credit = this.accounts.get(creditAccountId);
      if (credit && credit.rule === 'credits' && credit.posted + amountMinor > credit.creditLimit) reasons.push('limit_exceeded');
    }
    if (reasons.length > 0 || hold === undefined) return rejectedFor(reasons);
    return {
      prediction: { status: 'accepted' },
      commit: () => {
        const moved: Moved = { from: accountId, to: creditAccountId, currency: amount.currency, amount: amountMinor };
        this.move(moved);
        this.accounts.get(accountId)!.holds.delete(holdId);
        Object.assign(hold, { status: 'captured', captureBody: body, moved });
      },
    };
  }

  private release(holdId: string, accountId: string, to: 'voided' | 'expired'): Decision {
    const hold = this.holds.get(holdId);
    if (hold?.status === to) return { prediction: { status: 'replayed' }, commit: nothing };
    const onThisAccount = hold?.status === 'open' && hold.accountId === accountId && this.accounts.has(accountId);
    // An expiry is the timeout as a command: it waits for the hold's expiry instant (forever without one).
    const notYet = hold?.expiresAtMs === undefined || this.nowMs < hold.expiresAtMs;
    if (to === 'expired' && onThisAccount && notYet) return rejectedFor(['hold_not_expired']);
    if (hold?.status === 'captured' || hold?.status === 'voided') return rejectedFor(['hold_already_final']);
    if (hold?.status === 'expired') return rejectedFor(['hold_expired']);
    if (hold?.status === 'rejected') return rejectedFor(['hold_not_found']);
    if (!this.accounts.has(accountId)) return rejectedFor(['account_not_found']);
    if (!onThisAccount || hold === undefined) return rejectedFor(['hold_not_found']);
    return {
      prediction: { status: 'accepted' },
      commit: () => {
        this.accounts.get(accountId)!.holds.delete(holdId);
        hold.status = to;
      },
    };
  }
}

function available(account: ModelAccount): bigint {
  let pending = 0n;
  for (const hold of account.holds.values()) pending += hold.amount;
  return account.posted - pending;
}

function withinLimits(account: ModelAccount): boolean {
  if (account.rule === 'debits') return available(account) >= -account.overdraft;
  if (account.rule === 'credits') return account.posted <= account.creditLimit;
  return true;
}

// ---------------------------------------------------------------------------------------------------
// The real system: the decider's state as a single writer keeps it, and every event it emitted.

interface RealLedger {
  state: LedgerState;
  /** The initial state with every emitted event folded on, kept apart from `state`. */
  folded: LedgerState;
  nowMs: number;
  /** Effects that may happen once per id: `TransferPosted:<id>`, `AccountDebited:<transferId>`, `HoldFinal:<holdId>`... */
  readonly effects: Set<string>;
}

function fail(message: string, command: LedgerCommand, extra: unknown = undefined): never {
  throw new Error(`${message}\n  command: ${show(command)}${extra === undefined ? '' : `\n  ${show(extra)}`}`);
}

function show(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'bigint') return `${item}n`;
    if (item instanceof Map) return Object.fromEntries(item);
    return item;
  });
}

/** How often each command type met each outcome over the whole test: proof the sequences reach the interesting cases. */
const coverage = new Map<string, number>();

/** Sends one command to the decider and the model and checks that they agree and the invariants hold. */
function step(model: LedgerModel, real: RealLedger, command: LedgerCommand): void {
  const { prediction, commit } = model.decide(command);
  let result: LedgerResult;
  try {
    result = decideLedger(command, real.state, new Date(real.nowMs));
  } catch (error) {
    if (prediction.status === 'invalid' && error instanceof LedgerDomainError) {
      coverage.set(`${command.type} invalid`, (coverage.get(`${command.type} invalid`) ?? 0) + 1);
      return;
    }
    throw error;
  }
  if (prediction.status === 'invalid') fail(`the decider ${result.status} input the model says no state makes valid`, command);
  if (result.status !== prediction.status) fail(`decider ${result.status} (${result.reasonCode ?? '-'}), model ${prediction.status}`, command, prediction);
  if (prediction.status === 'rejected' && (result.reasonCode === undefined || !prediction.reasons.includes(result.reasonCode))) {
    fail(`decider refused with ${result.reasonCode}, the model with one of ${prediction.reasons.join(', ')}`, command);
  }
  commit();
  const seen = `${command.type} ${result.status}${result.reasonCode ? ` ${result.reasonCode}` : ''}`;
  coverage.set(seen, (coverage.get(seen) ?? 0) + 1);
  if (result.status !== 'accepted' && result.events.some((event) => event.category === 'account')) fail(`a ${result.status} command moved money`, command, result.events);
  if (result.status === 'replayed' && result.events.length > 0) fail('a replay appended events', command, result.events);
  countEffects(real, command, result.events);
  const before = real.state;
  real.state = result.state;
  real.folded = applyLedgerEvents(real.folded, result.events);
  checkFold(before, real, result.events, command);
  checkInvariants(model, real, command);
}

/** Every posting, hold placement and hold ending belongs to one id and happens at most once in a run. */
function countEffects(real: RealLedger, command: LedgerCommand, events: readonly LedgerEvent[]): void {
  for (const { event } of events) {
    let key: string | undefined;
    switch (event.type) {
      case 'TransferPosted':
      case 'TransferReversed':
        key = `${event.type}:${event.data.transferId}`;
        break;
      case 'AccountDebited':
      case 'AccountCredited':
        key = `${event.type}:${event.data.transferId}`;
        break;
      case 'HoldPlaced':
      case 'AccountFundsHeld':
      case 'AccountHoldCaptured':
      case 'AccountHoldReleased':
        key = `${event.type}:${event.data.holdId}`;
        break;
      case 'HoldCaptured':
      case 'HoldVoided':
      case 'HoldExpired':
        key = `HoldFinal:${event.data.holdId}`;
        break;
      default:
        break;
    }
    if (key === undefined) continue;
    if (real.effects.has(key)) fail(`${key} happened twice`, command);
    real.effects.add(key);
  }
}

function checkInvariants(model: LedgerModel, real: RealLedger, command: LedgerCommand): void {
  const postedByCurrency = new Map<string, bigint>();
  for (const [accountId, account] of real.state.accounts) {
    if (account.status === 'unopened') continue;
    postedByCurrency.set(account.currency, (postedByCurrency.get(account.currency) ?? 0n) + account.postedMinor);
    let held = 0n;
    for (const hold of account.holds.values()) held += hold.amountMinor;
    if (held !== account.pendingMinor) fail(`${accountId}: pending ${account.pendingMinor} but open holds of ${held}`, command);
    const availableMinor = account.postedMinor - account.pendingMinor;
    if (account.debitsMustNotExceedCredits && availableMinor < -account.overdraftLimitMinor) fail(`${accountId} overdrew: available ${availableMinor}`, command);
    if (account.creditsMustNotExceedDebits && account.postedMinor > account.creditLimitMinor) fail(`${accountId} passed its credit limit: ${account.postedMinor}`, command);
    const expected = model.accounts.get(accountId);
    const rule: Rule = account.debitsMustNotExceedCredits ? 'debits' : account.creditsMustNotExceedDebits ? 'credits' : 'none';
    if (!expected || expected.posted !== account.postedMinor || available(expected) !== availableMinor || expected.status !== account.status
      || expected.rule !== rule || expected.overdraft !== account.overdraftLimitMinor || expected.creditLimit !== account.creditLimitMinor) {
      fail(`${accountId} differs from the model`, command, { real: accountStateToJson(account), model: expected });
    }
  }
  for (const [currency, total] of postedByCurrency) if (total !== 0n) fail(`${currency} posted balances sum to ${total}: not double entry`, command);
  if ([...model.accounts.keys()].some((accountId) => real.state.accounts.get(accountId)?.status === undefined)) fail('the model has an account the ledger does not', command);
  for (const [holdId, hold] of model.holds) {
    const record = real.state.holds.get(holdId);
    if (record?.status !== hold.status) fail(`hold ${holdId} is ${record?.status} in the ledger, ${hold.status} in the model`, command);
    if (record.status === 'captured' && record.reversedMinor !== hold.reversed) fail(`hold ${holdId} reversed ${record.reversedMinor}, model ${hold.reversed}`, command);
  }
  for (const [transferId, transfer] of model.transfers) {
    const record = real.state.transfers.get(transferId);
    if (record?.status !== 'decided' || (record.movement === undefined) !== (transfer.moved === undefined) || record.reversedMinor !== transfer.reversed) {
      fail(`transfer ${transferId} differs from the model`, command, { real: record, model: transfer });
    }
  }
  if (real.state.holds.size !== model.holds.size || real.state.transfers.size !== model.transfers.size) fail('the ledger knows ids the model does not', command);
}

/**
 * The decider's state equals the fold of every event emitted so far. Compared stream by stream: the
 * streams this step's events touched in full, the others by identity with the state before the step
 * (a stream no event touched must not change), falling back to the full comparison.
 */
function checkFold(before: LedgerState, real: RealLedger, events: readonly LedgerEvent[], command: LedgerCommand): void {
  const touched = new Set(events.map((event) => `${event.category}:${event.id}`));
  const compare = <T>(category: LedgerEvent['category'], state: ReadonlyMap<string, T>, previous: ReadonlyMap<string, T>, folded: ReadonlyMap<string, T>, json: (value: T) => unknown) => {
    if (state.size !== folded.size) fail(`the decider's state has ${state.size} ${category} streams, the fold of its events ${folded.size}`, command);
    for (const [id, value] of state) {
      if (!touched.has(`${category}:${id}`) && value === previous.get(id)) continue;
      const foldedValue = folded.get(id);
      if (foldedValue === undefined || show(json(value)) !== show(json(foldedValue))) {
        fail(`${category}-${id} in the decider's state is not the fold of its events`, command, { state: json(value), folded: foldedValue === undefined ? null : json(foldedValue) });
      }
    }
  };
  compare('account', real.state.accounts, before.accounts, real.folded.accounts, accountStateToJson);
  compare('transfer', real.state.transfers, before.transfers, real.folded.transfers, (transfer) => transfer);
  compare('hold', real.state.holds, before.holds, real.folded.holds, (hold) => hold);
}

// ---------------------------------------------------------------------------------------------------
// The commands fast-check generates: intents, resolved against the run so far (which ids exist).

/** Reuse of an earlier id: resend that command as it was (a retry), or this one's fields under its id. */
type Reuse = { earlier: number; sameBody: boolean } | null;

type OpeningRule = 'debits' | 'debits-default' | 'debits-shorthand' | 'credits' | 'none' | 'none-flag' | 'both-flags' | 'overdraft-without-flag';

type Intent =
  | { kind: 'open'; account: number; currency: Currency; rule: OpeningRule; limit: bigint; owner: number }
  | { kind: 'transfer'; from: number; to: number; amount: bigint; wrongCurrency: boolean; coherent: boolean; reuse: Reuse }
  | { kind: 'reverse'; original: number; amount: bigint; wrongCurrency: boolean; reuse: Reuse }
  | { kind: 'hold'; account: number; amount: bigint; expiresInMs: number | null; wrongCurrency: boolean; coherent: boolean; reuse: Reuse }
  | { kind: 'capture'; hold: number; to: number; amount: bigint; wrongAccount: boolean; coherent: boolean; reuse: Reuse }
  | { kind: 'void' | 'expire'; hold: number; wrongAccount: boolean; coherent: boolean }
  | { kind: 'freeze' | 'unfreeze' | 'close'; account: number }
  | { kind: 'modify'; account: number; limit: bigint }
  | { kind: 'wait'; ms: number }
  /** Time moves to just before, exactly at or just after an open hold's expiry: the instant the README pins down. */
  | { kind: 'waitForExpiry'; hold: number; offsetMs: -1 | 0 | 1 };

function otherCurrency(currency: string): string {
  return currency === 'EUR' ? 'USD' : 'EUR';
}

function money(amount: bigint, currency: string): WireMoney {
  return { amountMinor: amount.toString(), currency };
}

function openingData(intent: Extract<Intent, { kind: 'open' }>): OpenAccountData {
  const base = { accountId: ACCOUNT_IDS[intent.account]!, ownerId: `owner-${intent.owner}`, kind: 'customer_wallet' as const, currency: intent.currency };
  const limit = intent.limit.toString();
  switch (intent.rule) {
    case 'debits': return { ...base, debitsMustNotExceedCredits: true, overdraftLimitMinor: limit };
    case 'debits-default': return base;
    case 'debits-shorthand': return { ...base, allowNegativeBalance: false };
    case 'credits': return { ...base, creditsMustNotExceedDebits: true, creditLimitMinor: limit };
    case 'none': return { ...base, allowNegativeBalance: true };
    case 'none-flag': return { ...base, debitsMustNotExceedCredits: false };
    case 'both-flags': return { ...base, debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: true };
    case 'overdraft-without-flag': return { ...base, allowNegativeBalance: true, overdraftLimitMinor: (intent.limit + 1n).toString() };
    default: {
      const unreachable: never = intent.rule;
      return unreachable;
    }
  }
}

/** The command an intent means now; undefined for the passage of time. */
function resolve(model: LedgerModel, real: RealLedger, intent: Intent): LedgerCommand | undefined {
  const accountId = (index: number) => ACCOUNT_IDS[index % ACCOUNT_IDS.length]!;
  const earlier = <T>(sent: readonly T[], reuse: Reuse): T | undefined => (reuse && sent.length > 0 ? sent[reuse.earlier % sent.length] : undefined);
  // A coherent intent names accounts that exist (in the currency that matters) and holds still open, so
  // that most commands get past the obvious refusals; the others name anything, which finds those.
  const usable = (index: number, coherent: boolean, currency?: string, except?: string) => {
    const candidates = [...model.accounts].filter(([id, account]) => account.status !== 'closed' && id !== except && (currency === undefined || account.currency === currency));
    return coherent && candidates.length > 0 ? candidates[index % candidates.length]![0] : accountId(index);
  };
  const placedHold = (index: number, coherent: boolean) => {
    const open = model.sentHolds.filter((sent) => model.holds.get(sent.data.holdId)?.status === 'open');
    const pool = coherent && open.length > 0 ? open : model.sentHolds;
    return pool[index % Math.max(1, pool.length)]?.data ?? { holdId: 'h-never-placed', accountId: 'acct-0' };
  };
  switch (intent.kind) {
    case 'open':
      return { type: 'OpenAccount', data: openingData(intent) };
    case 'transfer': {
      const retry = earlier(model.sentTransfers, intent.reuse);
      if (retry && intent.reuse?.sameBody) return retry;
      const from = usable(intent.from, intent.coherent);
      const to = usable(intent.to, intent.coherent, model.currencyOf(from), from);
      const currency = intent.wrongCurrency ? otherCurrency(model.currencyOf(from)) : model.currencyOf(from);
      const transferId = retry?.type === 'PostTransfer' || retry?.type === 'ReverseTransfer' ? retry.data.transferId : model.freshId('t');
      const command: LedgerCommand = { type: 'PostTransfer', data: { transferId, debitAccountId: from, creditAccountId: to, amount: money(intent.amount, currency) } };
      model.sentTransfers.push(command);
      return command;
    }
    case 'reverse': {
      const retry = earlier(model.sentTransfers, intent.reuse);
      if (retry && intent.reuse?.sameBody) return retry;
      // Mostly something that moved money (a posting, a reversal, a captured hold); else any id, or one nobody used.
      const known = [...model.transfers, ...model.holds];
      const moved = known.filter(([, record]) => record.moved !== undefined).map(([id]) => id);
      const originals = moved.length > 0 && intent.original % 5 !== 0 ? moved : [...known.map(([id]) => id), 'never-used'];
      const originalTransferId = originals[intent.original % originals.length]!;
      const original = model.transfers.get(originalTransferId) ?? model.holds.get(originalTransferId);
      const currency = original?.moved?.currency ?? 'EUR';
      const transferId = retry?.type === 'PostTransfer' || retry?.type === 'ReverseTransfer' ? retry.data.transferId : model.freshId('t');
      const command: LedgerCommand = {
        type: 'ReverseTransfer', data: { transferId, originalTransferId, amount: money(intent.amount, intent.wrongCurrency ? otherCurrency(currency) : currency) },
      };
      model.sentTransfers.push(command);
      return command;
    }
    case 'hold': {
      const retry = earlier(model.sentHolds, intent.reuse);
      if (retry && intent.reuse?.sameBody) return retry;
      const holder = usable(intent.account, intent.coherent);
      const currency = intent.wrongCurrency ? otherCurrency(model.currencyOf(holder)) : model.currencyOf(holder);
      const expiry = intent.expiresInMs === null ? {} : { expiresAt: new Date(real.nowMs + intent.expiresInMs).toISOString() };
      const command: Extract<LedgerCommand, { type: 'PlaceHold' }> = {
        type: 'PlaceHold', data: { holdId: retry?.data.holdId ?? model.freshId('h'), accountId: holder, amount: money(intent.amount, currency), paymentId: PAYMENT_ID, ...expiry },
      };
      model.sentHolds.push(command);
      return command;
    }
    case 'capture': {
      const retry = earlier(model.sentCaptures, intent.reuse);
      if (retry && intent.reuse?.sameBody) return retry;
      const placed = retry?.data ?? placedHold(intent.hold, intent.coherent);
      const holder = intent.wrongAccount ? accountId(intent.hold) : placed.accountId;
      const receiver = usable(intent.to, intent.coherent, model.currencyOf(holder), holder);
      const command: Extract<LedgerCommand, { type: 'CaptureHold' }> = {
        type: 'CaptureHold',
        data: { holdId: placed.holdId, accountId: holder, creditAccountId: receiver, amount: money(intent.amount, model.currencyOf(holder)), paymentId: PAYMENT_ID },
      };
      model.sentCaptures.push(command);
      return command;
    }
    case 'void':
    case 'expire': {
      const placed = placedHold(intent.hold, intent.coherent);
      const data = { holdId: placed.holdId, accountId: intent.wrongAccount ? accountId(intent.hold) : placed.accountId };
      return intent.kind === 'void' ? { type: 'VoidHold', data } : { type: 'ExpireHold', data };
    }
    case 'freeze':
      return { type: 'FreezeAccount', data: { accountId: accountId(intent.account) } };
    case 'unfreeze':
      return { type: 'UnfreezeAccount', data: { accountId: accountId(intent.account) } };
    case 'close':
      return { type: 'CloseAccount', data: { accountId: accountId(intent.account) } };
    case 'modify': {
      const target = accountId(intent.account);
      const rule = model.accounts.get(target)?.rule;
      // Each limit only where its flag is: the other is input no state makes valid, not a ledger decision.
      const limit = rule === 'credits' ? { creditLimitMinor: intent.limit.toString() } : rule === 'none' ? {} : { overdraftLimitMinor: intent.limit.toString() };
      return { type: 'ModifyAccount', data: { accountId: target, ...limit } };
    }
    case 'wait':
    case 'waitForExpiry':
      return undefined;
    default: {
      const unreachable: never = intent;
      return unreachable;
    }
  }
}

function expiryInstant(model: LedgerModel, index: number, offsetMs: number): number {
  const expiries = [...model.holds.values()].filter((hold) => hold.status === 'open' && hold.expiresAtMs !== undefined && hold.expiresAtMs + offsetMs > model.nowMs);
  const hold = expiries[index % Math.max(1, expiries.length)];
  return hold?.expiresAtMs === undefined ? model.nowMs : hold.expiresAtMs + offsetMs;
}

class LedgerStep implements fc.Command<LedgerModel, RealLedger> {
  constructor(readonly intent: Intent) {}

  check(): boolean {
    return true;
  }

  run(model: LedgerModel, real: RealLedger): void {
    if (this.intent.kind === 'wait' || this.intent.kind === 'waitForExpiry') {
      const nowMs = this.intent.kind === 'wait' ? model.nowMs + this.intent.ms : expiryInstant(model, this.intent.hold, this.intent.offsetMs);
      model.nowMs = nowMs;
      real.nowMs = nowMs;
      return;
    }
    const command = resolve(model, real, this.intent);
    if (command) step(model, real, command);
  }

  toString(): string {
    return show(this.intent);
  }
}

// Retries and reuses in 30% of the id-bearing commands, half with the same body.
const reuse: fc.Arbitrary<Reuse> = fc.oneof(
  { weight: 7, arbitrary: fc.constant(null) },
  { weight: 3, arbitrary: fc.record({ earlier: fc.nat(50), sameBody: fc.boolean() }) },
);
const accountIndex = fc.nat(ACCOUNT_IDS.length - 1);
const amount = fc.oneof({ weight: 4, arbitrary: fc.bigInt({ min: 1n, max: 500n }) }, { weight: 1, arbitrary: fc.bigInt({ min: 501n, max: 5_000n }) });
const rarely = fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });
const mostly = rarely.map((value) => !value);
const opening: fc.Arbitrary<Intent> = fc.record({
    kind: fc.constant('open' as const),
    // Mostly the accounts the sequence opens, sometimes a funding account again (same or other terms).
    account: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 2, max: 5 }) }, { weight: 1, arbitrary: fc.nat(1) }),
    currency: fc.constantFrom<Currency>('EUR', 'EUR', 'USD', 'JPY'),
    rule: fc.constantFrom<OpeningRule>('debits', 'debits', 'debits-default', 'debits-shorthand', 'credits', 'credits', 'none', 'none-flag', 'both-flags', 'overdraft-without-flag'),
    limit: fc.bigInt({ min: 0n, max: 1_000n }),
    owner: fc.nat(1),
  });
// Funding and movements between the sequence's accounts weigh most: they are what the limits, holds and reversals need.
const intents: fc.Arbitrary<Intent>[] = [
  opening,
  fc.record({ kind: fc.constant('transfer' as const), from: fc.nat(20), to: fc.nat(20), amount, wrongCurrency: rarely, coherent: mostly, reuse }),
  fc.record({ kind: fc.constant('transfer' as const), from: fc.nat(1), to: fc.integer({ min: 2, max: 5 }), amount, wrongCurrency: rarely, coherent: fc.constant(false), reuse }),
  fc.record({ kind: fc.constant('reverse' as const), original: fc.nat(100), amount, wrongCurrency: rarely, reuse }),
  fc.record({ kind: fc.constant('hold' as const), account: fc.nat(20), amount, expiresInMs: fc.option(fc.integer({ min: -1_000, max: 60_000 }), { nil: null }), wrongCurrency: rarely, coherent: mostly, reuse }),
  fc.record({ kind: fc.constant('capture' as const), hold: fc.nat(100), to: fc.nat(20), amount, wrongAccount: rarely, coherent: mostly, reuse }),
  fc.record({ kind: fc.constantFrom('void' as const, 'expire' as const), hold: fc.nat(100), wrongAccount: rarely, coherent: mostly }),
  fc.record({ kind: fc.constantFrom('freeze' as const, 'unfreeze' as const, 'close' as const), account: accountIndex }),
  fc.record({ kind: fc.constant('modify' as const), account: accountIndex, limit: fc.bigInt({ min: 0n, max: 1_000n }) }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 30_000 }) }),
  fc.record({ kind: fc.constant('waitForExpiry' as const), hold: fc.nat(20), offsetMs: fc.constantFrom(-1 as const, 0 as const, 1 as const) }),
];

/** The funding accounts, then the sequence's first openings (so that most of it has accounts to work on). */
function setup(openings: readonly Intent[]): { model: LedgerModel; real: RealLedger } {
  const model = new LedgerModel();
  const state = initialLedgerState();
  const real: RealLedger = { state, folded: state, nowMs: START_MS, effects: new Set() };
  for (const data of FUNDING) step(model, real, { type: 'OpenAccount', data });
  for (const opening of openings) new LedgerStep(opening).run(model, real);
  return { model, real };
}

const REQUIRED_OUTCOMES = [
  'OpenAccount accepted', 'OpenAccount replayed', 'OpenAccount rejected account_already_exists', 'OpenAccount invalid',
  'ModifyAccount accepted', 'ModifyAccount rejected limit_exceeded', 'FreezeAccount accepted', 'UnfreezeAccount accepted',
  'CloseAccount accepted', 'CloseAccount rejected account_has_balance', 'CloseAccount rejected account_has_open_holds',
  'PostTransfer accepted', 'PostTransfer replayed', 'PostTransfer rejected duplicate_id_different_body', 'PostTransfer rejected insufficient_funds',
  'PostTransfer rejected limit_exceeded', 'PostTransfer rejected currency_mismatch', 'PostTransfer rejected account_frozen', 'PostTransfer rejected account_closed',
  'ReverseTransfer accepted', 'ReverseTransfer replayed', 'ReverseTransfer rejected reversal_exceeds_original', 'ReverseTransfer rejected transfer_not_reversible',
  'PlaceHold accepted', 'PlaceHold replayed', 'PlaceHold rejected duplicate_id_different_body', 'PlaceHold rejected insufficient_funds', 'PlaceHold rejected hold_expired',
  'CaptureHold accepted', 'CaptureHold replayed', 'CaptureHold rejected amount_exceeds_hold', 'CaptureHold rejected hold_expired', 'CaptureHold rejected hold_already_final',
  'CaptureHold rejected limit_exceeded', 'VoidHold accepted', 'VoidHold replayed', 'ExpireHold accepted', 'ExpireHold replayed', 'ExpireHold rejected hold_not_expired',
];

describe('ledger decider against its model', () => {
  it('agrees with the model and keeps the invariants over random command sequences', () => {
    fc.assert(
      fc.property(
        fc.array(opening, { minLength: 2, maxLength: 4 }),
        fc.commands(intents.map((intent) => intent.map((value) => new LedgerStep(value))), { maxCommands: 30, size: 'medium', replayPath: process.env.FC_REPLAY_PATH }),
        (openings, commands) => fc.modelRun(() => setup(openings), commands),
      ),
      { numRuns: RUNS, verbose: fc.VerbosityLevel.Verbose, ...(SEED === undefined ? {} : { seed: SEED }), ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}) },
    );
    if (process.env.FC_COVERAGE) console.log([...coverage].sort().map(([outcome, count]) => `${outcome}: ${count}`).join('\n'));
    // Random sequences that never reach a case prove nothing about it: these must all have happened.
    if (SEED === undefined && RUNS >= 1_000) expect(REQUIRED_OUTCOMES.filter((outcome) => !coverage.has(outcome))).toEqual([]);
  });
});
