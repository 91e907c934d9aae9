import { Inject, Injectable } from '@nestjs/common';
import type { ContractEnvelope, MessageEnvelope } from '@clearline/contracts';
import { aggregateStream, PostgresEventStore, type ExpectedVersion, type SnapshotPolicy } from '@clearline/event-store';
import {
  accountStateFromJson, accountStateToJson, ACCOUNT_EVENT_TYPES, decideCaptureHold, decideOpenAccount, decidePlaceHold, decidePostTransfer, evolveAccount,
  initialAccountState, type AccountEvent, type AccountState, type AccountStateJson, type LedgerDecision,
} from '@clearline/ledger-domain';
import { PermanentMessageError } from '@clearline/messaging';
import { eventsCausedBy, LOGGER, type Logger } from '@clearline/service-runtime';
import type { PoolClient } from 'pg';

const PRODUCER = 'ledger';

/**
 * A busy account (a merchant receiving most payments) accumulates events fast; loading it from a
 * snapshot taken every 200 events keeps each command's read short. `-v2` is the state's shape
 * (balance flags, limits, metadata, holds with expiry, monitors); v1 snapshots are ignored and rebuilt.
 */
const ACCOUNT_SNAPSHOTS: SnapshotPolicy<AccountState> = {
  name: 'account-v2',
  every: 200,
  toJson: accountStateToJson,
  fromJson: (json) => accountStateFromJson(json as AccountStateJson),
};

interface LoadedAccount {
  state: AccountState;
  expectedVersion: ExpectedVersion;
}

/**
 * Applies ledger commands to the event store. Account streams (`account-<id>`) hold balance changes;
 * each transfer and hold has its own stream (`transfer-<id>`, `hold-<id>`) whose existence makes a
 * repeated command a no-op. Everything one command changes is appended in one transaction, with the
 * expected version of every account it read, so a concurrent change to the same account retries.
 */
@Injectable()
export class LedgerCommandHandler {
  constructor(
    private readonly store: PostgresEventStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async handle(envelope: ContractEnvelope, client: PoolClient): Promise<void> {
    switch (envelope.type) {
      case 'OpenAccount':
        return this.openAccount(envelope, client);
      case 'PostTransfer':
        return this.postTransfer(envelope, client);
      case 'PlaceHold':
        return this.placeHold(envelope, client);
      case 'CaptureHold':
        return this.captureHold(envelope, client);
      default:
        throw new PermanentMessageError(`the ledger does not handle '${envelope.type}' messages`);
    }
  }

  private async openAccount(envelope: Extract<ContractEnvelope, { type: 'OpenAccount' }>, client: PoolClient): Promise<void> {
    const streamId = accountStream(envelope.data.accountId);
    const account = await this.loadAccount(envelope.data.accountId, client);
    let events: AccountEvent[];
    try {
      events = decideOpenAccount(envelope.data, account.state);
    } catch (error) {
      throw new PermanentMessageError(error instanceof Error ? error.message : String(error));
    }
    await this.store.appendToStream(streamId, eventsCausedBy(envelope, PRODUCER, streamId, events, new Date()), { expectedVersion: account.expectedVersion, client });
  }

  private async postTransfer(envelope: Extract<ContractEnvelope, { type: 'PostTransfer' }>, client: PoolClient): Promise<void> {
    const outcomeStream = `transfer-${envelope.data.transferId}`;
    if (await this.alreadyDecided(outcomeStream, envelope, client)) return;
    const { debitAccountId, creditAccountId } = envelope.data;
    const [debit, credit] = await Promise.all([this.loadAccount(debitAccountId, client), this.loadAccount(creditAccountId, client)]);
    const decision = decidePostTransfer(envelope.data, debit.state, credit.state);
    await this.appendDecision(envelope, decision, new Map([[debitAccountId, debit], [creditAccountId, credit]]), outcomeStream, 'no_stream', client);
  }

  private async placeHold(envelope: Extract<ContractEnvelope, { type: 'PlaceHold' }>, client: PoolClient): Promise<void> {
    const outcomeStream = `hold-${envelope.data.holdId}`;
    if (await this.alreadyDecided(outcomeStream, envelope, client)) return;
    const account = await this.loadAccount(envelope.data.accountId, client);
    // The hold's expiry is judged against the time the ledger decides, not when the command was sent.
    const decision = decidePlaceHold(envelope.data, account.state, new Date());
    await this.appendDecision(envelope, decision, new Map([[envelope.data.accountId, account]]), outcomeStream, 'no_stream', client);
  }

  private async captureHold(envelope: Extract<ContractEnvelope, { type: 'CaptureHold' }>, client: PoolClient): Promise<void> {
    const holdStream = `hold-${envelope.data.holdId}`;
    const holdEvents = await this.store.readStream(holdStream, { client });
    if (holdEvents.some((event) => event.type === 'HoldCaptured' || event.type === 'CaptureRejected')) {
      this.logger.info({ holdId: envelope.data.holdId, correlationId: envelope.metadata.correlationId }, 'hold capture already decided; ignoring the repeat');
      return;
    }
    const { accountId, creditAccountId } = envelope.data;
    const [held, receiving] = await Promise.all([this.loadAccount(accountId, client), this.loadAccount(creditAccountId, client)]);
    const decision = decideCaptureHold(envelope.data, held.state, receiving.state, new Date());
    const holdVersion: ExpectedVersion = holdEvents.length === 0 ? 'no_stream' : holdEvents[holdEvents.length - 1]!.streamVersion;
    await this.appendDecision(envelope, decision, new Map([[accountId, held], [creditAccountId, receiving]]), holdStream, holdVersion, client);
  }

  private async appendDecision(
    cause: MessageEnvelope,
    decision: LedgerDecision<{ type: string; data: unknown }>,
    accounts: ReadonlyMap<string, LoadedAccount>,
    outcomeStream: string,
    outcomeExpectedVersion: ExpectedVersion,
    client: PoolClient,
  ): Promise<void> {
    const now = new Date();
    const appends = [...decision.accountEvents].map(([accountId, events]) => {
      const streamId = accountStream(accountId);
      return { streamId, events: eventsCausedBy(cause, PRODUCER, streamId, events, now), expectedVersion: accounts.get(accountId)?.expectedVersion ?? 'no_stream' };
    });
    appends.push({ streamId: outcomeStream, events: eventsCausedBy(cause, PRODUCER, outcomeStream, [decision.outcome], now), expectedVersion: outcomeExpectedVersion });
    await this.store.appendToStreams(appends, { client });
    this.logger.info({ outcome: decision.outcome.type, stream: outcomeStream, correlationId: cause.metadata.correlationId }, 'ledger decision appended');
  }

  private async alreadyDecided(streamId: string, envelope: MessageEnvelope, client: PoolClient): Promise<boolean> {
    const version = await this.store.streamVersion(streamId, { client });
    if (version === 'no_stream') return false;
    this.logger.info({ stream: streamId, messageId: envelope.id, correlationId: envelope.metadata.correlationId }, 'command already decided; ignoring the repeat');
    return true;
  }

  private async loadAccount(accountId: string, client: PoolClient): Promise<LoadedAccount> {
    const { state, version } = await aggregateStream<AccountState, AccountEvent>(this.store, accountStream(accountId), {
      initialState: initialAccountState,
      evolve: evolveAccount,
      accepts: (type) => ACCOUNT_EVENT_TYPES.has(type),
      snapshot: ACCOUNT_SNAPSHOTS,
      client,
    });
    return { state, expectedVersion: version };
  }
}

export function accountStream(accountId: string): string {
  return `account-${accountId}`;
}
