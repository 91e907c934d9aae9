// A simulated provider per rail, standing in for a card acquirer, an e-wallet or a mobile money
// operator in development and tests. It behaves like a careful real one: idempotent by key (the
// same key gets the same answer, a reused key with another body is refused), captures at most what
// is authorized, refunds at most what is captured. Its bad days are configurable and reproducible:
// seeded latency, decline codes by amount suffix, token or test card (like Stripe's test cards),
// random transient failures, lost replies (acted on, answer never arrives) and outage windows.
import { createHash } from 'node:crypto';
import type { Money } from '@clearline/money';
import { CardTokenNotFoundError, type CardDetokenizer } from '@clearline/cards';
import { systemClock, type Clock, type RandomSource } from './clock.js';
import {
  approved,
  declined,
  failed,
  type AuthorizeRequest,
  type CaptureRequest,
  type Connector,
  type ConnectorCallOptions,
  type ConnectorOperation,
  type ConnectorRail,
  type ConnectorRequests,
  type ConnectorResult,
  type RefundRequest,
  type VoidRequest,
} from './connector.js';
import { derivedRandom } from './seeded-random.js';

export type LatencyProfile =
  | { readonly kind: 'fixed'; readonly ms: number }
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number }
  /** Long-tailed like real networks: the median, a spread (sigma of the log), and a hard cap. */
  | { readonly kind: 'log_normal'; readonly medianMs: number; readonly sigma: number; readonly maxMs: number };

/** What a rule makes the simulator do instead of approving. `no_reply` approves but loses the answer. */
export type SimulatedBehaviour =
  | { readonly outcome: 'declined'; readonly code: string }
  | { readonly outcome: 'failed'; readonly retryable: boolean; readonly code: string }
  | { readonly outcome: 'no_reply' };

/** `[fromMs, untilMs)` in epoch ms: calls fail fast (`unavailable`) or hang (`unresponsive`). */
export interface OutageWindow {
  readonly fromMs: number;
  readonly untilMs: number;
  readonly mode: 'unavailable' | 'unresponsive';
}

export interface ConnectorSimulatorOptions {
  readonly id: string;
  readonly rail: ConnectorRail;
  /** Seeds latency and random failures; the same seed and requests give the same answers and delays. */
  readonly seed: number;
  readonly clock?: Clock;
  readonly latency?: LatencyProfile;
  /** Authorizations whose minor-unit amount ends in a key (longest match wins). Default: ISO 8583-like codes. */
  readonly amountSuffixRules?: Readonly<Record<string, SimulatedBehaviour>>;
  /** Authorizations by source: card token, wallet id or MSISDN. Checked before amounts. */
  readonly sourceRules?: Readonly<Record<string, SimulatedBehaviour>>;
  /** Card rail with a detokenizer: behaviour by PAN, like an acquirer's test cards. Default: Stripe-like. */
  readonly testCards?: Readonly<Record<string, SimulatedBehaviour>>;
  /** Card rail: detokenizes as a real card adapter would (unknown token: declined `card_token_not_found`). */
  readonly detokenizer?: CardDetokenizer;
  /** Probability (0..1) of a transient `processor_unavailable`, not acted on. */
  readonly failureRate?: number;
  /** Probability (0..1) that a call is acted on but its answer never arrives. */
  readonly lostReplyRate?: number;
  readonly outages?: readonly OutageWindow[];
  /** How long an unanswered call hangs before the simulator gives up itself (the caller's timeout is usually shorter). */
  readonly hangMs?: number;
  /** Bound on remembered idempotency keys and authorizations; the oldest are forgotten first. */
  readonly maxRecords?: number;
  /**
   * A simulator keeps its records in memory, but several service instances (or one restarted) each run
   * their own twin of a connector (same id and seed), as if a real provider were shared. With this set,
   * a capture, void or refund naming an authorization of this connector id that this twin never saw is
   * taken as made by another twin, for the amount asked (its limits are then unknown here). Default false:
   * `authorization_not_found`.
   */
  readonly trustTwinAuthorizations?: boolean;
}

/** Amount suffixes after ISO 8583 response codes, so a test amount says what it does: 10.51 is insufficient funds. */
export const DEFAULT_AMOUNT_SUFFIX_RULES: Readonly<Record<string, SimulatedBehaviour>> = {
  '05': { outcome: 'declined', code: 'do_not_honor' },
  '51': { outcome: 'declined', code: 'insufficient_funds' },
  '54': { outcome: 'declined', code: 'expired_card' },
  '61': { outcome: 'declined', code: 'exceeds_withdrawal_limit' },
  '68': { outcome: 'no_reply' },
  '91': { outcome: 'failed', retryable: true, code: 'issuer_unavailable' },
  '96': { outcome: 'failed', retryable: true, code: 'system_malfunction' },
};

/** Luhn-valid test PANs, after Stripe's; 4242 4242 4242 4242 and every other valid card approve. */
export const DEFAULT_TEST_CARDS: Readonly<Record<string, SimulatedBehaviour>> = {
  '4000000000000002': { outcome: 'declined', code: 'card_declined' },
  '4000000000009995': { outcome: 'declined', code: 'insufficient_funds' },
  '4000000000000069': { outcome: 'declined', code: 'expired_card' },
  '4000000000000127': { outcome: 'declined', code: 'incorrect_cvc' },
  '4000000000000119': { outcome: 'failed', retryable: true, code: 'processing_error' },
};

export const SimulatorCodes = {
  invalidRequest: 'invalid_request',
  idempotencyKeyReused: 'idempotency_key_reused',
  serviceUnavailable: 'service_unavailable',
  processorUnavailable: 'processor_unavailable',
  gatewayTimeout: 'gateway_timeout',
  authorizationNotFound: 'authorization_not_found',
  authorizationVoided: 'authorization_voided',
  alreadyCaptured: 'already_captured',
  currencyMismatch: 'currency_mismatch',
  amountExceedsAuthorized: 'amount_exceeds_authorized',
  amountExceedsRefundable: 'amount_exceeds_refundable',
  cardTokenNotFound: 'card_token_not_found',
  vaultUnavailable: 'vault_unavailable',
  expiredCard: 'expired_card',
} as const;

const DEFAULT_LATENCY: LatencyProfile = { kind: 'uniform', minMs: 20, maxMs: 120 };
const MAX_LATENCY_MS = 60_000;
const DEFAULT_HANG_MS = 60_000;
const DEFAULT_MAX_RECORDS = 100_000;
const MAX_RECORDS_LIMIT = 10_000_000;

interface Authorization {
  readonly amount: Money;
  capturedMinor: bigint;
  refundedMinor: bigint;
  voided: boolean;
}

/** A result remembered under an idempotency key, with what the request looked like. */
interface KeyedResult {
  readonly bodyDigest: string;
  readonly decision: Promise<Decision>;
}

interface Decision {
  readonly result: ConnectorResult;
  readonly lostReply: boolean;
}

export class ConnectorSimulator implements Connector {
  readonly id: string;
  readonly rail: ConnectorRail;
  readonly #options: ConnectorSimulatorOptions;
  readonly #clock: Clock;
  readonly #amountRules: readonly [string, SimulatedBehaviour][];
  readonly #maxRecords: number;
  readonly #keyed = new Map<string, KeyedResult>();
  readonly #authorizations = new Map<string, Authorization>();
  readonly #callsPerKey = new Map<string, number>();
  #calls = 0;

  constructor(options: ConnectorSimulatorOptions) {
    assertValidOptions(options);
    this.id = options.id;
    this.rail = options.rail;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS;
    // Longest suffix first, so '051' can override '51'.
    this.#amountRules = Object.entries(options.amountSuffixRules ?? DEFAULT_AMOUNT_SUFFIX_RULES).sort(([a], [b]) => b.length - a.length);
  }

  /** Calls received so far, answered or not (for tests asserting that a breaker spared the provider). */
  get calls(): number {
    return this.#calls;
  }

  authorize(request: AuthorizeRequest, options: ConnectorCallOptions): Promise<ConnectorResult> {
    return this.#handle('authorize', request, options);
  }

  capture(request: CaptureRequest, options: ConnectorCallOptions): Promise<ConnectorResult> {
    return this.#handle('capture', request, options);
  }

  void(request: VoidRequest, options: ConnectorCallOptions): Promise<ConnectorResult> {
    return this.#handle('void', request, options);
  }

  refund(request: RefundRequest, options: ConnectorCallOptions): Promise<ConnectorResult> {
    return this.#handle('refund', request, options);
  }

  async #handle<O extends ConnectorOperation>(operation: O, request: ConnectorRequests[O], options: ConnectorCallOptions): Promise<ConnectorResult> {
    this.#calls += 1;
    const key = request.idempotencyKey;
    const callNumber = (this.#callsPerKey.get(key) ?? 0) + 1;
    this.#remember(this.#callsPerKey, key, callNumber);
    // One random stream per (key, call): the answer to a call does not depend on unrelated traffic.
    const random = derivedRandom(this.#options.seed, this.id, operation, key, String(callNumber));
    const latencyMs = sampleLatency(this.#options.latency ?? DEFAULT_LATENCY, random);

    const invalid = validateRequest(operation, request, this.rail);
    if (invalid !== null) return this.#answer(failed(invalid, false), latencyMs, options);

    const outage = this.#outageAt(this.#clock.now());
    if (outage === 'unavailable') return this.#answer(failed(SimulatorCodes.serviceUnavailable, true), latencyMs, options);
    if (outage === 'unresponsive') return this.#hang(options);

    const bodyDigest = digestOf(operation, request);
    const earlier = this.#keyed.get(key);
    if (earlier !== undefined) {
      if (earlier.bodyDigest !== bodyDigest) return this.#answer(failed(SimulatorCodes.idempotencyKeyReused, false), latencyMs, options);
      // A retry of an acted-on call: answer what was decided then, this time without losing the reply.
      return this.#answer((await earlier.decision).result, latencyMs, options);
    }
    if (random() < (this.#options.failureRate ?? 0)) {
      return this.#answer(failed(SimulatorCodes.processorUnavailable, true), latencyMs, options);
    }
    const loseReply = random() < (this.#options.lostReplyRate ?? 0);
    // Registered before any await, so a concurrent call with the same key waits for this decision.
    const decision = this.#decide(operation, request, loseReply);
    this.#remember(this.#keyed, key, { bodyDigest, decision });
    const { result, lostReply } = await decision;
    // A transient failure is not the answer to the key: a retry must get a fresh chance.
    if (result.outcome === 'failed' && result.retryable) this.#keyed.delete(key);
    if (lostReply) return this.#hang(options);
    return this.#answer(result, latencyMs, options);
  }

  async #decide<O extends ConnectorOperation>(operation: O, request: ConnectorRequests[O], loseReply: boolean): Promise<Decision> {
    if (operation === 'authorize') return this.#authorize(request as AuthorizeRequest, loseReply);
    const result =
      operation === 'capture'
        ? this.#capture(request as CaptureRequest)
        : operation === 'void'
          ? this.#void(request as VoidRequest)
          : this.#refund(request as RefundRequest);
    return { result, lostReply: loseReply };
  }

  async #authorize(request: AuthorizeRequest, loseReply: boolean): Promise<Decision> {
    const behaviour = await this.#behaviourFor(request);
    if (behaviour !== null && behaviour.outcome !== 'no_reply') {
      return { result: behaviour.outcome === 'declined' ? declined(behaviour.code) : failed(behaviour.code, behaviour.retryable), lostReply: false };
    }
    const reference = this.#reference('auth', request.idempotencyKey);
    this.#remember(this.#authorizations, reference, { amount: request.amount, capturedMinor: 0n, refundedMinor: 0n, voided: false });
    return { result: approved(reference), lostReply: loseReply || behaviour?.outcome === 'no_reply' };
  }

  /** An authorization another twin made (see trustTwinAuthorizations), remembered from now on; undefined when not trusted. */
  #twinAuthorization(reference: string, amount: Money, capturedMinor: bigint): Authorization | undefined {
    if (this.#options.trustTwinAuthorizations !== true || !reference.startsWith(`${this.id}_auth_`)) return undefined;
    const authorization: Authorization = { amount, capturedMinor, refundedMinor: 0n, voided: false };
    this.#remember(this.#authorizations, reference, authorization);
    return authorization;
  }

  #capture(request: CaptureRequest): ConnectorResult {
    const authorization = this.#authorizations.get(request.authorizationReference) ?? this.#twinAuthorization(request.authorizationReference, request.amount, 0n);
    if (authorization === undefined) return declined(SimulatorCodes.authorizationNotFound);
    if (authorization.amount.currency !== request.amount.currency) return declined(SimulatorCodes.currencyMismatch);
    if (authorization.voided) return declined(SimulatorCodes.authorizationVoided);
    if (authorization.capturedMinor + request.amount.amountMinor > authorization.amount.amountMinor) {
      return declined(SimulatorCodes.amountExceedsAuthorized);
    }
    authorization.capturedMinor += request.amount.amountMinor;
    return approved(this.#reference('capture', request.idempotencyKey));
  }

  #void(request: VoidRequest): ConnectorResult {
    const authorization = this.#authorizations.get(request.authorizationReference);
    if (authorization === undefined && this.#options.trustTwinAuthorizations === true && request.authorizationReference.startsWith(`${this.id}_auth_`)) {
      return approved(this.#reference('void', request.idempotencyKey));
    }
    if (authorization === undefined) return declined(SimulatorCodes.authorizationNotFound);
    if (authorization.voided) return declined(SimulatorCodes.authorizationVoided);
    if (authorization.capturedMinor > 0n) return declined(SimulatorCodes.alreadyCaptured);
    authorization.voided = true;
    return approved(this.#reference('void', request.idempotencyKey));
  }

  #refund(request: RefundRequest): ConnectorResult {
    // A twin's authorization is taken as captured for at least what is refunded.
    const authorization = this.#authorizations.get(request.authorizationReference)
      ?? this.#twinAuthorization(request.authorizationReference, request.amount, request.amount.amountMinor);
    if (authorization === undefined) return declined(SimulatorCodes.authorizationNotFound);
    if (authorization.amount.currency !== request.amount.currency) return declined(SimulatorCodes.currencyMismatch);
    if (authorization.refundedMinor + request.amount.amountMinor > authorization.capturedMinor) {
      return declined(SimulatorCodes.amountExceedsRefundable);
    }
    authorization.refundedMinor += request.amount.amountMinor;
    return approved(this.#reference('refund', request.idempotencyKey));
  }

  /** Test card, then source rule, then amount suffix; null approves. */
  async #behaviourFor(request: AuthorizeRequest): Promise<SimulatedBehaviour | null> {
    const { source } = request;
    if (source.rail === 'card' && this.#options.detokenizer !== undefined) {
      const byCard = await this.#cardBehaviour(source.token);
      if (byCard !== null) return byCard;
    }
    const sourceKey = source.rail === 'card' ? source.token : source.rail === 'e_wallet' ? source.walletId : source.msisdn;
    const bySource = this.#options.sourceRules?.[sourceKey];
    if (bySource !== undefined) return bySource;
    const digits = request.amount.amountMinor.toString();
    const byAmount = this.#amountRules.find(([suffix]) => digits.endsWith(suffix));
    return byAmount === undefined ? null : byAmount[1];
  }

  async #cardBehaviour(token: string): Promise<SimulatedBehaviour | null> {
    let card;
    try {
      card = await this.#options.detokenizer!.detokenize(token);
    } catch (error) {
      if (error instanceof CardTokenNotFoundError) return { outcome: 'declined', code: SimulatorCodes.cardTokenNotFound };
      return { outcome: 'failed', retryable: true, code: SimulatorCodes.vaultUnavailable };
    }
    const now = new Date(this.#clock.now());
    const expired = card.expYear < now.getUTCFullYear() || (card.expYear === now.getUTCFullYear() && card.expMonth < now.getUTCMonth() + 1);
    if (expired) return { outcome: 'declined', code: SimulatorCodes.expiredCard };
    return (this.#options.testCards ?? DEFAULT_TEST_CARDS)[card.pan.reveal()] ?? null;
  }

  #outageAt(nowMs: number): OutageWindow['mode'] | null {
    return this.#options.outages?.find((window) => nowMs >= window.fromMs && nowMs < window.untilMs)?.mode ?? null;
  }

  /** Deterministic per connector, seed and key, so a replayed scenario produces the same references. */
  #reference(kind: string, idempotencyKey: string): string {
    const digest = createHash('sha256').update(`${this.#options.seed}\u0000${this.id}\u0000${kind}\u0000${idempotencyKey}`).digest('hex');
    return `${this.id}_${kind}_${digest.slice(0, 20)}`;
  }

  async #answer(result: ConnectorResult, latencyMs: number, options: ConnectorCallOptions): Promise<ConnectorResult> {
    await this.#clock.sleep(latencyMs, options.signal);
    return result;
  }

  /** Never answers in time: waits for the caller to give up, or gives up itself after hangMs. */
  async #hang(options: ConnectorCallOptions): Promise<ConnectorResult> {
    await this.#clock.sleep(this.#options.hangMs ?? DEFAULT_HANG_MS, options.signal);
    return failed(SimulatorCodes.gatewayTimeout, true);
  }

  #remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    // Maps iterate in insertion order, so the first key is the oldest.
    while (map.size > this.#maxRecords) map.delete(map.keys().next().value!);
  }
}

function sampleLatency(profile: LatencyProfile, random: RandomSource): number {
  switch (profile.kind) {
    case 'fixed':
      return profile.ms;
    case 'uniform':
      return Math.round(profile.minMs + (profile.maxMs - profile.minMs) * random());
    case 'log_normal': {
      // Box-Muller for one standard normal draw; 1 - random() keeps the logarithm's argument above 0.
      const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      return Math.min(profile.maxMs, Math.round(profile.medianMs * Math.exp(profile.sigma * normal)));
    }
    default: {
      const unreachable: never = profile;
      throw new Error(`unknown latency profile ${JSON.stringify(unreachable)}`);
    }
  }
}

function validateRequest(operation: ConnectorOperation, request: ConnectorRequests[ConnectorOperation], rail: ConnectorRail): string | null {
  if (typeof request.idempotencyKey !== 'string' || request.idempotencyKey.length === 0 || request.idempotencyKey.length > 255) {
    return SimulatorCodes.invalidRequest;
  }
  // A card acquirer cannot charge a wallet: the router never sends one, a hand-wired caller might.
  if (operation === 'authorize' && (request as AuthorizeRequest).source?.rail !== rail) return SimulatorCodes.invalidRequest;
  if (operation !== 'void') {
    const { amount } = request as { amount?: Money };
    if (amount === undefined || typeof amount.amountMinor !== 'bigint' || amount.amountMinor <= 0n) return SimulatorCodes.invalidRequest;
  }
  return null;
}

/** Identifies the body of a request (never the CVV, which is not part of what is being asked). */
function digestOf(operation: ConnectorOperation, request: ConnectorRequests[ConnectorOperation]): string {
  const { amount, source, authorizationReference } = request as Partial<AuthorizeRequest & CaptureRequest>;
  const sourceKey = source === undefined ? null : source.rail === 'card' ? source.token : source.rail === 'e_wallet' ? source.walletId : source.msisdn;
  const body = [operation, request.paymentId, amount?.amountMinor.toString() ?? null, amount?.currency ?? null, authorizationReference ?? null, sourceKey];
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

function assertValidOptions(options: ConnectorSimulatorOptions): void {
  const probability = (name: string, value: number | undefined): void => {
    if (value !== undefined && !(value >= 0 && value <= 1)) throw new RangeError(`simulator ${name} must be in 0..1, got ${value}`);
  };
  const milliseconds = (name: string, value: number): void => {
    if (!Number.isFinite(value) || value < 0 || value > MAX_LATENCY_MS) throw new RangeError(`simulator ${name} must be in 0..${MAX_LATENCY_MS} ms, got ${value}`);
  };
  probability('failureRate', options.failureRate);
  probability('lostReplyRate', options.lostReplyRate);
  const latency = options.latency ?? DEFAULT_LATENCY;
  if (latency.kind === 'fixed') milliseconds('latency.ms', latency.ms);
  if (latency.kind === 'uniform') {
    milliseconds('latency.minMs', latency.minMs);
    milliseconds('latency.maxMs', latency.maxMs);
    if (latency.maxMs < latency.minMs) throw new RangeError('simulator latency.maxMs must be >= minMs');
  }
  if (latency.kind === 'log_normal') {
    milliseconds('latency.medianMs', latency.medianMs);
    milliseconds('latency.maxMs', latency.maxMs);
    if (!(latency.sigma >= 0 && latency.sigma <= 5)) throw new RangeError(`simulator latency.sigma must be in 0..5, got ${latency.sigma}`);
  }
  if (options.hangMs !== undefined) milliseconds('hangMs', options.hangMs);
  const maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS;
  if (!Number.isInteger(maxRecords) || maxRecords < 1 || maxRecords > MAX_RECORDS_LIMIT) {
    throw new RangeError(`simulator maxRecords must be an integer in 1..${MAX_RECORDS_LIMIT}, got ${maxRecords}`);
  }
  for (const window of options.outages ?? []) {
    if (!(window.untilMs > window.fromMs)) throw new RangeError('simulator outage window must end after it starts');
  }
  for (const suffix of Object.keys(options.amountSuffixRules ?? {})) {
    if (!/^[0-9]{1,18}$/.test(suffix)) throw new RangeError(`simulator amount suffix must be digits, got '${suffix}'`);
  }
}
