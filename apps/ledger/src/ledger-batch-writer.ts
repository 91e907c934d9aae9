import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  EventStoreInputError, MAX_EVENTS_PER_APPEND, PostgresEventStore, WrongExpectedVersionError, type AppendResult, type ExpectedVersion, type NewEvent,
  type StreamAppend,
} from '@clearline/event-store';
import {
  initialHoldState, initialTransferState, LedgerBatch, reversedAccounts, streamIdOf, streamsNamedBy, type AccountState, type HoldState,
  type LedgerCommand, type LedgerEvent, type LedgerResult, type StreamsNamed, type TransferState,
} from '@clearline/ledger-domain';
import { silentLogger, type Logger } from '@clearline/messaging';
import type { Pool, PoolClient } from 'pg';
import { ledgerEventsFor, replyAppendFor, type LedgerCause } from './ledger-appends.js';
import { ACCOUNT_SNAPSHOTS, LedgerStateLoader } from './ledger-state.loader.js';
import { recordOpenHolds } from './open-holds.js';

/**
 * The hot-account ledger writer: one writer per ledger partition (a PostgreSQL advisory lock), the
 * streams it has touched held in memory with their versions, commands decided in batches against
 * that state, and ONE event-store append per batch (group commit). A command's result is resolved
 * only after the append that carries its events has committed. Design and figures:
 * docs/architecture.md ("Batch writer") and docs/benchmarks.md ("Ledger").
 */

export interface LedgerBatchWriterOptions {
  pool: Pool;
  store: PostgresEventStore;
  /** The ledger partition this writer serves; one writer per partition holds its lock. Default 'default'. */
  partition?: string;
  /** Commands decided and appended together, at most. Default 1,000. */
  maxBatchCommands?: number;
  /** Commands waiting for a batch, at most: a submit beyond it is refused (LedgerWriterOverloadedError). Default 10,000. */
  maxQueuedCommands?: number;
  /** Decide-and-append attempts per batch when another writer got there first. Default 5. */
  maxAttemptsPerBatch?: number;
  /** Streams loaded concurrently from the event store. Default 32. */
  loadConcurrency?: number;
  /** Accounts kept in memory; the least recently written ones are dropped beyond it (and reloaded on demand). Default 100,000. */
  maxCachedAccounts?: number;
  /** Transfer and hold records kept in memory, likewise. Default 100,000. */
  maxCachedRecords?: number;
  /** How often a writer waiting for the partition's lock tries again. Default 500 ms. */
  lockPollIntervalMs?: number;
  /** The clock decisions are judged against (hold expiry). Default: the system clock. */
  now?: () => Date;
  logger?: Logger;
}

/** The queue is full: the caller should slow down and retry. Nothing was queued. */
export class LedgerWriterOverloadedError extends Error {
  override name = 'LedgerWriterOverloadedError';
}

/** The writer stopped, or lost its partition lock, before the command was appended. */
export class LedgerWriterStoppedError extends Error {
  override name = 'LedgerWriterStoppedError';
}

/**
 * The append of the command's batch failed in a way that leaves its outcome unknown (the connection
 * died around the commit). Retrying the command is safe: ids make it idempotent.
 */
export class LedgerOutcomeUnknownError extends Error {
  override name = 'LedgerOutcomeUnknownError';
}

/** Where the writer's time went, cumulative since start (the benchmark reads it). */
export interface LedgerWriterStatistics {
  batches: number;
  commands: number;
  events: number;
  attempts: number;
  conflicts: number;
  loadMs: number;
  decideMs: number;
  /** Building the appends: event ids, metadata. */
  prepareMs: number;
  /** begin + appendToStreams + open holds + commit, on the lock session. */
  appendMs: number;
  snapshotMs: number;
  streamsLoaded: number;
}

interface Cached<State> {
  state: State;
  version: ExpectedVersion;
  /** The version of the last snapshot known to be stored (accounts). */
  snapshotVersion?: bigint;
  /** Not read from the store: an id a command uses for the first time, taken to be new until an append says otherwise. */
  assumedNew?: boolean;
}

interface Submission {
  command: LedgerCommand;
  cause: LedgerCause;
  resolve: (result: LedgerResult) => void;
  reject: (error: Error) => void;
}

type Decided = { submission: Submission; result: LedgerResult } | { submission: Submission; error: Error };

const PRODUCER_CAUSE = 'ledger-batch-writer';

export class LedgerBatchWriter {
  private readonly loader: LedgerStateLoader;
  private readonly settings: Required<Omit<LedgerBatchWriterOptions, 'pool' | 'store' | 'logger' | 'now'>>;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly accounts = new Map<string, Cached<AccountState>>();
  private readonly transfers = new Map<string, Cached<TransferState>>();
  private readonly holds = new Map<string, Cached<HoldState>>();
  private queue: Submission[] = [];
  private queueHead = 0;
  private state: 'idle' | 'waiting_for_lock' | 'writing' | 'stopping' | 'stopped' = 'idle';
  private lockClient: PoolClient | undefined;
  private lockLost: Error | undefined;
  private loop: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private readonly statistics: LedgerWriterStatistics = {
    batches: 0, commands: 0, events: 0, attempts: 0, conflicts: 0, loadMs: 0, decideMs: 0, prepareMs: 0, appendMs: 0, snapshotMs: 0, streamsLoaded: 0,
  };

  constructor(private readonly options: LedgerBatchWriterOptions) {
    this.loader = new LedgerStateLoader(options.store);
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? (() => new Date());
    this.settings = {
      partition: options.partition ?? 'default',
      maxBatchCommands: bounded('maxBatchCommands', options.maxBatchCommands ?? 1_000, 1, MAX_EVENTS_PER_APPEND),
      maxQueuedCommands: bounded('maxQueuedCommands', options.maxQueuedCommands ?? 10_000, 1, 1_000_000),
      maxAttemptsPerBatch: bounded('maxAttemptsPerBatch', options.maxAttemptsPerBatch ?? 5, 1, 100),
      loadConcurrency: bounded('loadConcurrency', options.loadConcurrency ?? 32, 1, 1_000),
      maxCachedAccounts: bounded('maxCachedAccounts', options.maxCachedAccounts ?? 100_000, 1, 10_000_000),
      maxCachedRecords: bounded('maxCachedRecords', options.maxCachedRecords ?? 100_000, 1, 10_000_000),
      lockPollIntervalMs: bounded('lockPollIntervalMs', options.lockPollIntervalMs ?? 500, 1, 60_000),
    };
  }

  get lockKey(): string {
    return `clearline-ledger-writer:${this.settings.partition}`;
  }

  /** True while this writer holds its partition's lock and writes. */
  get leading(): boolean {
    return this.state === 'writing' && this.lockLost === undefined;
  }

  get queuedCommands(): number {
    return this.queue.length - this.queueHead;
  }

  stats(): LedgerWriterStatistics {
    return { ...this.statistics };
  }

  /**
   * Waits for the partition's lock (another writer holding it makes this wait, polling), then starts
   * the group-commit loop. Commands submitted meanwhile wait in the queue.
   */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`the ledger writer cannot start: it is ${this.state}`);
    this.state = 'waiting_for_lock';
    while (this.state === 'waiting_for_lock') {
      const client = await this.tryLock();
      if (client !== undefined && this.state !== 'waiting_for_lock') {
        // Stopped while the lock was being taken: give it back at once.
        this.lockClient = client;
        await this.releaseLock();
        return;
      }
      if (client !== undefined) {
        this.lockClient = client;
        this.state = 'writing';
        this.loop = this.run();
        this.logger.info({ partition: this.settings.partition }, 'ledger writer holds its partition lock and writes');
        return;
      }
      await this.sleep(this.settings.lockPollIntervalMs);
    }
  }

  /**
   * Queues a command for the next batch and resolves with its result once the batch's append has
   * committed. Refuses at once (LedgerWriterOverloadedError) when the queue is full.
   */
  submit(command: LedgerCommand, cause: LedgerCause = ownCause()): Promise<LedgerResult> {
    if (this.state === 'stopping' || this.state === 'stopped') return Promise.reject(new LedgerWriterStoppedError('the ledger writer is stopped'));
    if (this.queuedCommands >= this.settings.maxQueuedCommands) {
      return Promise.reject(new LedgerWriterOverloadedError(`the ledger writer's queue is full (${this.settings.maxQueuedCommands} commands); retry later`));
    }
    return new Promise<LedgerResult>((resolve, reject) => {
      this.queue.push({ command, cause, resolve, reject });
      // Only the loop is woken: a writer still waiting for its lock keeps its polling pace.
      if (this.state === 'writing') this.wake?.();
    });
  }

  /**
   * Resolves when the writer stops writing: stop() was called, or it lost its partition lock (its
   * session died), after which it refuses every command and only stop() is left to call.
   */
  async untilStopped(): Promise<void> {
    await this.loop;
  }

  /** Finishes the batch in hand, refuses what is still queued, releases the lock. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasWriting = this.state === 'writing';
    this.state = 'stopping';
    this.wake?.();
    if (wasWriting) await this.loop;
    this.rejectQueued(new LedgerWriterStoppedError('the ledger writer stopped before this command was appended'));
    await this.releaseLock();
    this.state = 'stopped';
  }

  // ------------------------------------------------------------------------------------- lock ---

  /** A dedicated session holding the partition's advisory lock, or undefined when another writer holds it. */
  private async tryLock(): Promise<PoolClient | undefined> {
    const client = await this.options.pool.connect();
    client.on('error', this.onLockSessionError);
    try {
      const { rows } = await client.query<{ acquired: boolean }>('select pg_try_advisory_lock(hashtext($1)) as acquired', [this.lockKey]);
      if (rows[0]?.acquired === true) return client;
      client.off('error', this.onLockSessionError);
      client.release();
      return undefined;
    } catch (error) {
      client.off('error', this.onLockSessionError);
      client.release(asError(error));
      throw error;
    }
  }

  /**
   * The lock session died: PostgreSQL released the lock, so another writer may take over. Appends
   * run on this very session, so none of ours can commit after this point; the loop stops at its
   * next append.
   */
  private readonly onLockSessionError = (error: Error): void => {
    if (this.lockLost !== undefined) return;
    this.lockLost = error;
    this.logger.error({ err: error, partition: this.settings.partition }, 'ledger writer lost its lock session; it stops writing');
    this.wake?.();
  };

  private async releaseLock(): Promise<void> {
    const client = this.lockClient;
    this.lockClient = undefined;
    if (client === undefined) return;
    let releaseError = this.lockLost;
    if (releaseError === undefined) {
      try {
        await client.query('select pg_advisory_unlock(hashtext($1))', [this.lockKey]);
      } catch (error) {
        releaseError = asError(error);
      }
    }
    client.off('error', this.onLockSessionError);
    client.release(releaseError);
  }

  // ------------------------------------------------------------------------------------ loop ---

  private async run(): Promise<void> {
    while (this.state === 'writing') {
      if (this.lockLost !== undefined) {
        this.failWriter();
        return;
      }
      if (this.queuedCommands === 0) {
        await this.sleep(60_000);
        continue;
      }
      await this.commitBatch(this.takeBatch());
    }
  }

  private takeBatch(): Submission[] {
    const end = Math.min(this.queue.length, this.queueHead + this.settings.maxBatchCommands);
    const batch = this.queue.slice(this.queueHead, end);
    this.queueHead = end;
    if (this.queueHead >= 4_096 && this.queueHead * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    return batch;
  }

  /** Puts commands that did not fit a batch back at the front of the queue, in their order. */
  private requeueFront(submissions: Submission[]): void {
    if (submissions.length === 0) return;
    this.queue = [...submissions, ...this.queue.slice(this.queueHead)];
    this.queueHead = 0;
  }

  /**
   * Decides and appends one batch, retrying on conflicts with fresh state. Every submission of the
   * batch is settled when this returns (or requeued, when it did not fit the append).
   */
  private async commitBatch(submissions: Submission[]): Promise<void> {
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= this.settings.maxAttemptsPerBatch; attempt += 1) {
      this.statistics.attempts += 1;
      if (this.lockLost !== undefined) return this.settle(submissions, new LedgerWriterStoppedError('the ledger writer lost its partition lock'));
      const loadStarted = performance.now();
      try {
        await this.ensureLoaded(submissions, attempt > 1);
      } catch (error) {
        lastError = asError(error);
        this.logger.error({ err: lastError, attempt }, 'ledger writer could not load streams; retrying the batch');
        continue;
      } finally {
        this.statistics.loadMs += performance.now() - loadStarted;
      }
      const decideStarted = performance.now();
      const now = this.now();
      const { batch, decided, deferred } = this.decideBatch(submissions, now);
      this.statistics.decideMs += performance.now() - decideStarted;
      const prepareStarted = performance.now();
      const appends = this.appendsFor(batch, decided, now);
      this.statistics.prepareMs += performance.now() - prepareStarted;
      try {
        const versions = await this.append(appends, decided);
        this.commitToCache(batch, versions);
        this.requeueFront(deferred);
        this.resolve(decided);
        this.statistics.batches += 1;
        this.statistics.commands += decided.length;
        this.statistics.events += appends.reduce((sum, append) => sum + append.events.length, 0);
        await this.snapshotHotAccounts(batch.changedStreams().filter((stream) => stream.category === 'account').map((stream) => stream.id));
        this.evict();
        return;
      } catch (error) {
        lastError = asError(error);
        if (!this.isConflict(lastError)) {
          if (lastError instanceof EventStoreInputError) return this.settle(submissions, lastError);
          // It may have committed or not: what the batch read is reloaded before it is trusted again.
          for (const streamId of batch.streamsRead) this.forget(streamId);
          return this.settle(submissions, new LedgerOutcomeUnknownError(`the batch's append failed: ${lastError.message}`, { cause: lastError }));
        }
        this.statistics.conflicts += 1;
        this.forgetAfterConflict(lastError, batch.streamsRead);
        this.logger.warn({ err: lastError, attempt, commands: submissions.length }, 'ledger batch conflicted with another writer; deciding it again on fresh state');
      }
    }
    this.settle(submissions, lastError ?? new Error('the ledger batch failed'));
  }

  private decideBatch(submissions: Submission[], now: Date): { batch: LedgerBatch; decided: Decided[]; deferred: Submission[] } {
    const batch = new LedgerBatch(this.source);
    const decided: Decided[] = [];
    // Every command may add one reply event beside its own events.
    const maxEvents = MAX_EVENTS_PER_APPEND - submissions.length;
    for (const [index, submission] of submissions.entries()) {
      let result: LedgerResult | undefined;
      try {
        result = batch.decide(submission.command, now, maxEvents);
      } catch (error) {
        decided.push({ submission, error: asError(error) });
        continue;
      }
      // Too many events for one append: this command and the rest go to the next batch, in order.
      if (result === undefined) return { batch, decided, deferred: submissions.slice(index) };
      decided.push({ submission, result });
    }
    return { batch, decided, deferred: [] };
  }

  /** One append per stream the batch read: its events (if any) and the version it was read at. */
  private appendsFor(batch: LedgerBatch, decided: readonly Decided[], now: Date): StreamAppend[] {
    const eventsByStream = new Map<string, NewEvent[]>();
    const replies = new Map<string, StreamAppend>();
    for (const entry of decided) {
      if (!('result' in entry) || entry.result.status === 'replayed') continue;
      const { result, submission } = entry;
      for (const [streamId, events] of groupByStream(result.events)) {
        const stored = ledgerEventsFor(submission.cause, streamId, events, now);
        const list = eventsByStream.get(streamId);
        if (list === undefined) eventsByStream.set(streamId, stored);
        else for (const event of stored) list.push(event);
      }
      const reply = replyAppendFor(submission.cause, result, now);
      if (reply !== undefined && !replies.has(reply.streamId)) replies.set(reply.streamId, reply);
    }
    let eventCount = [...replies.values()].reduce((sum, reply) => sum + reply.events.length, 0);
    for (const events of eventsByStream.values()) eventCount += events.length;
    if (eventCount === 0) return [];
    const appends: StreamAppend[] = [...replies.values()];
    for (const streamId of batch.streamsRead) {
      appends.push({ streamId, events: eventsByStream.get(streamId) ?? [], expectedVersion: this.cachedVersion(streamId) });
    }
    return appends;
  }

  /**
   * Appends the batch in one transaction on the lock session: if the session died, PostgreSQL gave
   * the lock away and this append cannot commit. Returns every stream's version after it.
   */
  private async append(appends: StreamAppend[], decided: readonly Decided[]): Promise<Map<string, ExpectedVersion>> {
    const versions = new Map<string, ExpectedVersion>();
    if (appends.length === 0) return versions;
    const client = this.lockClient;
    if (client === undefined) throw new LedgerWriterStoppedError('the ledger writer holds no lock session');
    const started = performance.now();
    let results: AppendResult[];
    await client.query('begin');
    try {
      results = await this.options.store.appendToStreams(appends, { client });
      const holdEvents = decided.flatMap((entry) => ('result' in entry ? entry.result.events.filter((event) => event.category === 'hold') : []));
      if (holdEvents.length > 0) await recordOpenHolds(client, holdEvents);
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      this.statistics.appendMs += performance.now() - started;
    }
    for (const result of results) versions.set(result.streamId, result.nextExpectedVersion < 0n ? 'no_stream' : result.nextExpectedVersion);
    return versions;
  }

  // ----------------------------------------------------------------------------------- cache ---

  /** The batch reads the cache through this. */
  private readonly source = {
    account: (accountId: string): AccountState | undefined => this.accounts.get(accountId)?.state,
    transfer: (transferId: string): TransferState | undefined => this.transfers.get(transferId)?.state,
    hold: (holdId: string): HoldState | undefined => this.holds.get(holdId)?.state,
  };

  /**
   * Loads every stream the batch names that is not in memory. The ids a command uses for the first
   * time (a new transfer or hold) are taken to be new without a read, unless `verifyNewIds`: the
   * append expects them not to exist, so an id used before makes the append fail and the next
   * attempt reads it. Accounts, and the records a command refers to, are always read.
   */
  private async ensureLoaded(submissions: readonly Submission[], verifyNewIds: boolean): Promise<void> {
    const missing: StreamsNamed = { accounts: [], transfers: [], holds: [] };
    const assumed: StreamsNamed = { accounts: [], transfers: [], holds: [] };
    for (const { command } of submissions) {
      const named = streamsNamedBy(command);
      const fresh = verifyNewIds ? undefined : newIdsOf(command);
      for (const id of named.accounts) if (!this.accounts.has(id)) missing.accounts.push(id);
      for (const id of named.transfers) if (!this.transfers.has(id)) (fresh?.transfers.includes(id) ? assumed : missing).transfers.push(id);
      for (const id of named.holds) if (!this.holds.has(id)) (fresh?.holds.includes(id) ? assumed : missing).holds.push(id);
    }
    for (const id of assumed.transfers) this.transfers.set(id, { state: initialTransferState(), version: 'no_stream', assumedNew: true });
    for (const id of assumed.holds) this.holds.set(id, { state: initialHoldState(), version: 'no_stream', assumedNew: true });
    await this.load(missing);
    // A reversal's accounts are those of its original, known once the original is in memory.
    const reversalAccounts: string[] = [];
    for (const { command } of submissions) {
      if (command.type !== 'ReverseTransfer') continue;
      const originalId = command.data.originalTransferId;
      const accountIds = reversedAccounts({ transfer: this.transfers.get(originalId)?.state, hold: this.holds.get(originalId)?.state });
      for (const id of accountIds) if (!this.accounts.has(id)) reversalAccounts.push(id);
    }
    await this.load({ accounts: reversalAccounts, transfers: [], holds: [] });
  }

  private async load(named: StreamsNamed): Promise<void> {
    const accounts = [...new Set(named.accounts)];
    const transfers = [...new Set(named.transfers)];
    const holds = [...new Set(named.holds)];
    const chunk = this.settings.loadConcurrency;
    const ids: { category: 'accounts' | 'transfers' | 'holds'; id: string }[] = [
      ...accounts.map((id) => ({ category: 'accounts' as const, id })),
      ...transfers.map((id) => ({ category: 'transfers' as const, id })),
      ...holds.map((id) => ({ category: 'holds' as const, id })),
    ];
    for (let start = 0; start < ids.length; start += chunk) {
      const part = ids.slice(start, start + chunk);
      const pick = (category: 'accounts' | 'transfers' | 'holds'): string[] => part.filter((entry) => entry.category === category).map((entry) => entry.id);
      const loaded = await this.loader.loadStreams({ accounts: pick('accounts'), transfers: pick('transfers'), holds: pick('holds') });
      for (const [id, state] of loaded.state.accounts) {
        const version = loaded.versions.get(`account-${id}`) ?? 'no_stream';
        this.accounts.set(id, { state, version, ...(typeof version === 'bigint' ? { snapshotVersion: version } : {}) });
      }
      for (const [id, state] of loaded.state.transfers) this.transfers.set(id, { state, version: loaded.versions.get(`transfer-${id}`) ?? 'no_stream' });
      for (const [id, state] of loaded.state.holds) this.holds.set(id, { state, version: loaded.versions.get(`hold-${id}`) ?? 'no_stream' });
      this.statistics.streamsLoaded += part.length;
    }
  }

  private cachedVersion(streamId: string): ExpectedVersion {
    const entry = this.entryOf(streamId);
    if (entry === undefined) throw new Error(`the batch read '${streamId}', which is not in memory (writer bug)`);
    return entry.version;
  }

  private entryOf(streamId: string): Cached<unknown> | undefined {
    const separator = streamId.indexOf('-');
    const category = streamId.slice(0, separator);
    const id = streamId.slice(separator + 1);
    if (category === 'account') return this.accounts.get(id);
    if (category === 'transfer') return this.transfers.get(id);
    if (category === 'hold') return this.holds.get(id);
    return undefined;
  }

  /** The append committed: the batch's states become the cache's, at the versions the store reported. */
  private commitToCache(batch: LedgerBatch, versions: ReadonlyMap<string, ExpectedVersion>): void {
    for (const changed of batch.changedStreams()) {
      const streamId = `${changed.category}-${changed.id}`;
      const version = versions.get(streamId);
      if (version === undefined) throw new Error(`the append reported no version for '${streamId}' (writer bug)`);
      // Deleted and set again: Map order is then the order of last writes, which eviction follows.
      switch (changed.category) {
        case 'account': {
          const snapshotVersion = this.accounts.get(changed.id)?.snapshotVersion;
          this.accounts.delete(changed.id);
          this.accounts.set(changed.id, { state: changed.state, version, ...(snapshotVersion === undefined ? {} : { snapshotVersion }) });
          break;
        }
        case 'transfer':
          this.transfers.delete(changed.id);
          this.transfers.set(changed.id, { state: changed.state, version });
          break;
        case 'hold':
          this.holds.delete(changed.id);
          this.holds.set(changed.id, { state: changed.state, version });
          break;
        default: {
          const unreachable: never = changed;
          return unreachable;
        }
      }
    }
    // Streams only read (an id taken to be new that stayed new) are now known to be where they were.
    for (const streamId of batch.streamsRead) {
      const entry = this.entryOf(streamId);
      const version = versions.get(streamId);
      if (entry !== undefined && version !== undefined) {
        entry.version = version;
        delete entry.assumedNew;
      }
    }
  }

  /**
   * After a conflict: the stream another writer moved is dropped (and reloaded by the next attempt),
   * and so is every id taken to be new; when the error names no stream, everything the batch read.
   */
  private forgetAfterConflict(error: Error, streamsRead: ReadonlySet<string>): void {
    const named = 'streamId' in error && typeof error.streamId === 'string' ? error.streamId : undefined;
    for (const streamId of streamsRead) {
      const entry = this.entryOf(streamId);
      if (named === undefined || streamId === named || entry?.assumedNew === true) this.forget(streamId);
    }
    if (named !== undefined) this.forget(named);
  }

  private forget(streamId: string): void {
    const separator = streamId.indexOf('-');
    const category = streamId.slice(0, separator);
    const id = streamId.slice(separator + 1);
    if (category === 'account') this.accounts.delete(id);
    else if (category === 'transfer') this.transfers.delete(id);
    else if (category === 'hold') this.holds.delete(id);
  }

  private isConflict(error: Error): boolean {
    return error instanceof WrongExpectedVersionError || error.name === 'EventIdConflictError';
  }

  /** Keeps loading a hot account after a restart short: a snapshot every ACCOUNT_SNAPSHOTS.every events it received. */
  private async snapshotHotAccounts(accountIds: readonly string[]): Promise<void> {
    const started = performance.now();
    for (const accountId of accountIds) {
      const entry = this.accounts.get(accountId);
      if (entry === undefined || typeof entry.version !== 'bigint') continue;
      if (entry.version - (entry.snapshotVersion ?? -1n) < BigInt(ACCOUNT_SNAPSHOTS.every)) continue;
      try {
        await this.options.store.saveSnapshot(`account-${accountId}`, ACCOUNT_SNAPSHOTS.name, entry.version, ACCOUNT_SNAPSHOTS.toJson(entry.state));
        entry.snapshotVersion = entry.version;
      } catch (error) {
        // A snapshot is a cache: a failed one only makes the next load read more events.
        this.logger.warn({ err: error, accountId }, 'ledger writer could not store an account snapshot');
      }
    }
    this.statistics.snapshotMs += performance.now() - started;
  }

  private evict(): void {
    trimOldest(this.accounts, this.settings.maxCachedAccounts);
    trimOldest(this.transfers, this.settings.maxCachedRecords);
    trimOldest(this.holds, this.settings.maxCachedRecords);
  }

  // ------------------------------------------------------------------------------- settling ---

  private resolve(decided: readonly Decided[]): void {
    for (const entry of decided) {
      if ('result' in entry) entry.submission.resolve(entry.result);
      else entry.submission.reject(entry.error);
    }
  }

  private settle(submissions: readonly Submission[], error: Error): void {
    for (const submission of submissions) submission.reject(error);
  }

  private rejectQueued(error: Error): void {
    const queued = this.queue.slice(this.queueHead);
    this.queue = [];
    this.queueHead = 0;
    this.settle(queued, error);
  }

  /** The lock is gone: another writer may be writing, so what is in memory can no longer be trusted. */
  private failWriter(): void {
    // Refuses new submissions at once; stop() still releases the dead session.
    this.state = 'stopping';
    this.accounts.clear();
    this.transfers.clear();
    this.holds.clear();
    this.rejectQueued(new LedgerWriterStoppedError('the ledger writer lost its partition lock'));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

/** The ids a command introduces: its transfer, batch, legs or hold. The ones it refers to are not among them. */
function newIdsOf(command: LedgerCommand): StreamsNamed {
  const none: StreamsNamed = { accounts: [], transfers: [], holds: [] };
  switch (command.type) {
    case 'PostTransfer':
    case 'ExchangeCurrency':
    case 'ReverseTransfer':
      return { ...none, transfers: [command.data.transferId] };
    case 'PostLinkedTransfers':
      return { ...none, transfers: [command.data.batchId, ...command.data.transfers.map((leg) => leg.transferId)] };
    case 'PlaceHold':
      return { ...none, holds: [command.data.holdId] };
    default:
      return none;
  }
}

function groupByStream(events: readonly LedgerEvent[]): Map<string, LedgerEvent['event'][]> {
  const byStream = new Map<string, LedgerEvent['event'][]>();
  for (const ledgerEvent of events) {
    const streamId = streamIdOf(ledgerEvent);
    const list = byStream.get(streamId);
    if (list === undefined) byStream.set(streamId, [ledgerEvent.event]);
    else list.push(ledgerEvent.event);
  }
  return byStream;
}

function trimOldest<Value>(map: Map<string, Value>, max: number): void {
  if (map.size <= max) return;
  for (const key of map.keys()) {
    map.delete(key);
    if (map.size <= max) return;
  }
}

/** A command submitted without a message behind it (tests, the benchmark): its own id as the cause. */
function ownCause(): LedgerCause {
  const id = randomUUID();
  return { id, metadata: { correlationId: id, causationId: id, occurredAt: new Date().toISOString(), producer: PRODUCER_CAUSE } };
}

function bounded(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`LedgerBatchWriter: ${name} must be an integer in ${min}..${max}, got ${value}`);
  return value;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
