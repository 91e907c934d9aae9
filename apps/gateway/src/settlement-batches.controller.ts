import { Body, Controller, Get, Injectable, Param, Post, Query, Req, Res, type PipeTransform } from '@nestjs/common';
import { isUuid, SETTLEMENT_CLOSE_REASONS, UUID_PATTERN } from '@clearline/contracts';
import { ProblemException } from '@clearline/service-runtime';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiPropertyOptional, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import type { Request, Response } from 'express';
import { ApiProblems, IdempotentCommand } from './api-docs.decorators.js';
import { authenticatedClientOf } from './authenticated-client.js';
import { CommandSender } from './command-sender.js';
import { commandIdFor } from './command-ids.js';
import { correlationIdOf } from './correlation.middleware.js';
import { idempotentRequestOf } from './idempotency.interceptor.js';
import { KeysetPageQuery } from './ledger-requests.dto.js';
import { notFound, ObjectAccess, OwnershipRegistry } from './object-ownership.js';
import { CURRENCY_PROPERTY, IDENTIFIER, IDENTIFIER_MESSAGE, IDENTIFIER_PROPERTY, IsIsoCurrency } from './payment-requests.dto.js';
import { ReadModelClient, type ReadResult } from './read-model.client.js';

const BATCH_STATUSES = ['open', 'closed'] as const;
/** How many open batches one merchant account may have in one currency (one per merchant paid into it): more is a misconfiguration. */
const MAX_OPEN_BATCHES_PER_ACCOUNT = 20;
const MINOR_UNITS = { type: String, pattern: '^(0|-?[1-9][0-9]*)$', description: 'Integer minor units as a string' } as const;
const NULLABLE_MINOR_UNITS = { ...MINOR_UNITS, nullable: true } as const;
const READ_PROBLEMS: [number, string][] = [[400, 'Invalid path or query'], [503, 'The read models did not answer; retry shortly']];

// ---------------------------------------------------------------- requests

export class SettlementBatchesQuery extends KeysetPageQuery {
  @ApiPropertyOptional({ ...IDENTIFIER_PROPERTY, description: "The merchant account paid out by the batches; required for a channel (one of its own accounts), optional for an analyst", example: 'merchant-7-eur' })
  @IsOptional()
  @Matches(IDENTIFIER, { message: `merchantAccountId ${IDENTIFIER_MESSAGE}` })
  merchantAccountId?: string;

  @ApiPropertyOptional(CURRENCY_PROPERTY)
  @IsOptional()
  @IsIsoCurrency()
  currency?: string;

  @ApiPropertyOptional({ enum: BATCH_STATUSES })
  @IsOptional()
  @IsIn(BATCH_STATUSES)
  status?: (typeof BATCH_STATUSES)[number];
}

export class CloseSettlementBatchRequest {
  @ApiProperty({ ...IDENTIFIER_PROPERTY, description: 'A merchant account this channel opened', example: 'merchant-7-eur' })
  @Matches(IDENTIFIER, { message: `merchantAccountId ${IDENTIFIER_MESSAGE}` })
  merchantAccountId!: string;

  @ApiProperty(CURRENCY_PROPERTY)
  @IsIsoCurrency()
  currency!: string;
}

// ---------------------------------------------------------------- answers (for the OpenAPI document: analytics' JSON passes through)

export class SettlementBatchView {
  @ApiProperty({ type: String, format: 'uuid' })
  batchId!: string;

  @ApiProperty({ type: String })
  merchantId!: string;

  @ApiProperty({ type: String })
  merchantAccountId!: string;

  @ApiProperty({ type: String, example: 'EUR' })
  currency!: string;

  @ApiProperty({ type: Number, description: "The merchant's batch number in this currency, from 1" })
  batchNo!: number;

  @ApiProperty({ enum: BATCH_STATUSES })
  status!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  openedAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  closedAt!: string | null;

  @ApiProperty({ enum: SETTLEMENT_CLOSE_REASONS, nullable: true })
  closeReason!: string | null;

  @ApiProperty({ type: Number })
  paymentCount!: number;

  @ApiProperty({ type: Number })
  refundCount!: number;

  @ApiProperty(MINOR_UNITS)
  grossMinor!: string;

  @ApiProperty(MINOR_UNITS)
  refundsMinor!: string;

  @ApiProperty(MINOR_UNITS)
  feesMinor!: string;

  @ApiProperty(MINOR_UNITS)
  carriedInMinor!: string;

  @ApiProperty({ ...NULLABLE_MINOR_UNITS, description: 'Paid out at the close; null while open' })
  netMinor!: string | null;

  @ApiProperty({ ...NULLABLE_MINOR_UNITS, description: 'A negative balance carried into the next batch; null while open' })
  carriedForwardMinor!: string | null;

  @ApiProperty({ enum: ['posted', 'rejected'], nullable: true, description: "The ledger's answer to the payout" })
  payoutStatus!: string | null;
}

export class SettlementBatchDetailView extends SettlementBatchView {
  @ApiProperty({ type: String, nullable: true, description: 'Why the ledger refused the payout' })
  payoutReasonCode!: string | null;
}

export class SettlementBatchesPageView {
  @ApiProperty({ type: [SettlementBatchView], description: 'Oldest opened first' })
  items!: SettlementBatchView[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last page' })
  nextCursor!: string | null;
}

export class SettlementCloseAcceptedView {
  @ApiProperty({ type: String })
  merchantAccountId!: string;

  @ApiProperty({ type: String })
  currency!: string;

  @ApiProperty({ enum: ['CloseSettlementBatch'] })
  command!: 'CloseSettlementBatch';

  @ApiProperty({ enum: ['accepted'] })
  status!: 'accepted';

  @ApiProperty({ type: [String], description: 'The open batches asked to close (one per merchant paid into this account; usually one)' })
  settlementBatchIds!: string[];

  @ApiProperty({ type: String })
  correlationId!: string;

  @ApiProperty({ type: Object, description: 'links.self: the batches of this merchant account in this currency' })
  links!: { self: string };
}

// ---------------------------------------------------------------- routes

/** Checks a batch id in the path (a uuid, lower case as the contracts spell it); never echoes the value. */
@Injectable()
export class SettlementBatchIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const batchId = value.toLowerCase();
    if (!isUuid(batchId)) throw new ProblemException(400, 'invalid-settlement-batch-id', 'Invalid settlement batch id', 'The settlement batch id in the path must be a uuid.');
    return batchId;
  }
}

/** A channel's answer for another's batch is the very answer analytics gives for a missing one. */
function batchNotFound(batchId: string): ProblemException {
  return new ProblemException(404, 'settlement-batch-not-found', 'Settlement batch not found', `no settlement batch ${batchId}`);
}

interface BatchSummary {
  batchId: string;
  merchantId: string;
  merchantAccountId: string;
}

/**
 * Settlement batches of the payments service: reads come from analytics' settlement-batches read
 * model, a close goes to payments as CloseSettlementBatch. Batches belong to a merchant account: a
 * channel sees and closes only those of accounts it opened here (the ownership registry), an analyst
 * reads all of them. The registry knows the owner of an account, not the accounts of an owner, so a
 * channel's listing names its merchant account.
 */
@ApiTags('settlement batches')
@Controller('v1/settlement-batches')
@ObjectAccess()
export class SettlementBatchesController {
  constructor(
    private readonly commands: CommandSender,
    private readonly readModels: ReadModelClient,
    private readonly ownership: OwnershipRegistry,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Settlement batches, oldest opened first',
    description: 'Filter by merchantAccountId (required for a channel: one of its accounts), currency and status; pages of up to `limit`, pass nextCursor as cursor (with the same filters) for the next.',
  })
  @ApiOkResponse({ type: SettlementBatchesPageView })
  @ApiProblems(...READ_PROBLEMS, [404, "account-not-found: the merchant account is not this channel's"])
  async list(@Query() query: SettlementBatchesQuery, @Req() request: Request, @Res() response: Response): Promise<void> {
    const client = authenticatedClientOf(request);
    if (client.role !== 'analyst') {
      if (query.merchantAccountId === undefined) {
        throw new ProblemException(400, 'merchant-account-required', 'merchantAccountId required', 'A channel lists the settlement batches of one of its merchant accounts: give merchantAccountId.');
      }
      // The same answer as for an account that does not exist: another channel's accounts stay unseen.
      if (!(await this.ownership.owns(client.client, 'account', query.merchantAccountId))) throw notFound('account', query.merchantAccountId);
    }
    this.pass(response, await this.readModels.get('/analytics/settlement-batches', correlationIdOf(request), {
      merchantAccountId: query.merchantAccountId, currency: query.currency, status: query.status, limit: query.limit, cursor: query.cursor,
    }));
  }

  @Get(':batchId')
  @ApiOperation({ summary: 'A settlement batch: running totals while open, the paid-out totals and the payout outcome once closed' })
  @ApiParam({ name: 'batchId', schema: { type: 'string', format: 'uuid', pattern: UUID_PATTERN } })
  @ApiOkResponse({ type: SettlementBatchDetailView })
  @ApiProblems(...READ_PROBLEMS, [404, 'No such settlement batch (or not one of this channel\'s merchant accounts)'])
  async get(@Param('batchId', SettlementBatchIdPipe) batchId: string, @Req() request: Request, @Res() response: Response): Promise<void> {
    const result = await this.readModels.get(`/settlement-batches/${batchId}`, correlationIdOf(request));
    const client = authenticatedClientOf(request);
    if (result.status === 200 && client.role !== 'analyst') {
      const batch = parseJson(result.body) as Partial<BatchSummary> | undefined;
      const merchantAccountId = typeof batch?.merchantAccountId === 'string' ? batch.merchantAccountId : '';
      if (!(await this.ownership.owns(client.client, 'account', merchantAccountId))) throw batchNotFound(batchId);
    }
    this.pass(response, result);
  }

  /**
   * 202: CloseSettlementBatch for each open batch of the merchant account in the currency, naming the
   * batch (the command is keyed by merchant; the read model tells which merchant's batch pays into
   * this account). The command id derives from the Idempotency-Key, so a retry closes nothing twice.
   */
  @Post('close')
  @IdempotentCommand()
  @ApiOperation({
    summary: "Close a merchant account's open settlement batch now",
    description: [
      'CloseSettlementBatch to the payments service for the open batch paying into merchantAccountId in currency, instead of waiting for the schedule;',
      'the totals and payout follow in GET /v1/settlement-batches/{batchId}. A 409 no-open-settlement-batch means the read model shows none open',
      '(a batch opened by a capture of the last seconds may not show yet: retry shortly); 422 merchant-account-not-owned: not an account this channel opened.',
    ].join(' '),
  })
  @ApiResponse({ status: 202, type: SettlementCloseAcceptedView })
  @ApiProblems([409, 'no-open-settlement-batch: nothing to close (or a request with this key is in progress)'], [422, 'merchant-account-not-owned, or the Idempotency-Key was used with another request'])
  async close(@Body() body: CloseSettlementBatchRequest, @Req() request: Request): Promise<SettlementCloseAcceptedView> {
    if (!(await this.ownership.owns(authenticatedClientOf(request).client, 'account', body.merchantAccountId))) {
      throw new ProblemException(422, 'merchant-account-not-owned', 'Merchant account not usable', 'merchantAccountId must be an account this client opened.');
    }
    const correlationId = correlationIdOf(request);
    const open = await this.openBatches(body.merchantAccountId, body.currency, correlationId);
    if (open.length === 0) {
      throw new ProblemException(409, 'no-open-settlement-batch', 'No open settlement batch', `merchant account ${body.merchantAccountId} has no open settlement batch in ${body.currency} (a batch opened seconds ago may not show yet: retry shortly)`);
    }
    const { key } = idempotentRequestOf(request);
    for (const batch of open) {
      await this.commands.send('CloseSettlementBatch', {
        commandId: commandIdFor(batch.batchId, 'CloseSettlementBatch', key), merchantId: batch.merchantId, currency: body.currency, settlementBatchId: batch.batchId,
      }, correlationId);
    }
    const self = `/v1/settlement-batches?${new URLSearchParams({ merchantAccountId: body.merchantAccountId, currency: body.currency }).toString()}`;
    return {
      merchantAccountId: body.merchantAccountId, currency: body.currency, command: 'CloseSettlementBatch', status: 'accepted',
      settlementBatchIds: open.map((batch) => batch.batchId), correlationId, links: { self },
    };
  }

  private async openBatches(merchantAccountId: string, currency: string, correlationId: string): Promise<BatchSummary[]> {
    const unavailable = () => new ProblemException(503, 'read-model-unavailable', 'Read model unavailable', 'The gateway could not look up the open settlement batch; retry with the same Idempotency-Key.');
    const result = await this.readModels.get('/analytics/settlement-batches', correlationId, { merchantAccountId, currency, status: 'open', limit: MAX_OPEN_BATCHES_PER_ACCOUNT });
    if (result.status !== 200) throw unavailable();
    const page = parseJson(result.body) as { items?: unknown } | undefined;
    if (!Array.isArray(page?.items)) throw unavailable();
    return (page.items as Partial<BatchSummary>[])
      .filter((item) => typeof item.batchId === 'string' && isUuid(item.batchId) && typeof item.merchantId === 'string' && IDENTIFIER.test(item.merchantId) && item.merchantAccountId === merchantAccountId)
      .map((item) => ({ batchId: item.batchId as string, merchantId: item.merchantId as string, merchantAccountId }));
  }

  /** Analytics' answer as it is: status, content type (problem+json included) and body. */
  private pass(response: Response, result: ReadResult): void {
    response.status(result.status).type(result.contentType).send(result.body);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
