import { Body, Controller, Get, Inject, Injectable, Param, ParseUUIDPipe, Post, Query, Req, Res, type PipeTransform } from '@nestjs/common';
import { CardValidationError, type CardToken } from '@clearline/cards';
import { deriveMessageId, isUuid, PAYMENT_CHANNELS, UUID_PATTERN, type ContractType, type DataOf, type RequestPaymentData, type WireMoney } from '@clearline/contracts';
import { LOGGER, ProblemException, type Logger } from '@clearline/service-runtime';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiPropertyOptional, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import type { Request, Response } from 'express';
import { ApiProblems, IdempotentCommand } from './api-docs.decorators.js';
import { authenticatedClientOf } from './authenticated-client.js';
import { PAYMENT_STATUSES, PaymentAcceptedView, PaymentCommandAcceptedView, PaymentView } from './api-responses.js';
import { CardTokenizer } from './card-tokenizer.js';
import { CommandSender } from './command-sender.js';
import { commandIdFor, paymentIdFor, refundIdFor } from './command-ids.js';
import { correlationIdOf } from './correlation.middleware.js';
import { idempotentRequestOf } from './idempotency.interceptor.js';
import { EmptyRequest, KeysetPageQuery } from './ledger-requests.dto.js';
import { notFound, ObjectAccess, OwnedBy, OwnershipRegistry } from './object-ownership.js';
import { cardProblem, paymentSourceProblem } from './payment-sources.js';
import { PaymentUpdatesHub } from './payment-updates.hub.js';
import { longPollOf, PAYMENT_WAIT_HEADER } from './payment-updates.js';
import {
  CapturePaymentRequest, CreatePaymentRequest, IDENTIFIER, IDENTIFIER_MESSAGE, IDENTIFIER_PROPERTY, RefundPaymentRequest, ReviewPaymentRequest,
  type AmountDto, type CardDetailsDto,
} from './payment-requests.dto.js';
import { ReadModelClient } from './read-model.client.js';

export interface PaymentAccepted {
  paymentId: string;
  status: 'requested';
  correlationId: string;
  links: { self: string };
}

/** RFC 3339 with an explicit offset (analytics checks the calendar too). */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/i;
const INSTANT_PROPERTY = { type: String, format: 'date-time', pattern: INSTANT.source } as const;

export class PaymentsQuery extends KeysetPageQuery {
  @ApiPropertyOptional({ enum: PAYMENT_STATUSES, description: 'in_review: the analysts\' review queue' })
  @IsOptional()
  @IsIn(PAYMENT_STATUSES)
  status?: (typeof PAYMENT_STATUSES)[number];

  @ApiPropertyOptional({ ...IDENTIFIER_PROPERTY, example: 'merchant-7' })
  @IsOptional()
  @Matches(IDENTIFIER, { message: `merchantId ${IDENTIFIER_MESSAGE}` })
  merchantId?: string;

  @ApiPropertyOptional({ ...IDENTIFIER_PROPERTY, description: 'A merchant account paid by the payments; a channel names one of its own accounts here or as payerAccountId', example: 'merchant-7-eur' })
  @IsOptional()
  @Matches(IDENTIFIER, { message: `merchantAccountId ${IDENTIFIER_MESSAGE}` })
  merchantAccountId?: string;

  @ApiPropertyOptional({ ...IDENTIFIER_PROPERTY, description: 'The account the payments debit; a channel names one of its own accounts here or as merchantAccountId' })
  @IsOptional()
  @Matches(IDENTIFIER, { message: `payerAccountId ${IDENTIFIER_MESSAGE}` })
  payerAccountId?: string;

  @ApiPropertyOptional({ enum: PAYMENT_CHANNELS })
  @IsOptional()
  @IsIn(PAYMENT_CHANNELS)
  channel?: (typeof PAYMENT_CHANNELS)[number];

  @ApiPropertyOptional({ ...INSTANT_PROPERTY, description: 'Requested at or after this instant' })
  @IsOptional()
  @Matches(INSTANT, { message: 'from must be an RFC 3339 date-time with an offset' })
  from?: string;

  @ApiPropertyOptional({ ...INSTANT_PROPERTY, description: 'Requested before this instant' })
  @IsOptional()
  @Matches(INSTANT, { message: 'to must be an RFC 3339 date-time with an offset' })
  to?: string;
}

/** For the OpenAPI document: analytics' JSON passes through. */
export class PaymentsPageView {
  @ApiProperty({ type: [PaymentView], description: 'Newest requested first; each item as GET /v1/payments/{paymentId} answers' })
  items!: PaymentView[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last page' })
  nextCursor!: string | null;
}

type LifecycleCommand = Extract<ContractType, 'CapturePayment' | 'VoidPayment' | 'RefundPayment' | 'ReviewPayment'>;

/** Checks a payment id in the path: a uuid as the contracts spell it (lower case). Never echoes the value. */
@Injectable()
export class PaymentIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const paymentId = value.toLowerCase();
    if (!isUuid(paymentId)) throw new ProblemException(400, 'invalid-payment-id', 'Invalid payment id', 'The payment id in the path must be a uuid.');
    return paymentId;
  }
}

const PAYMENT_ID_PARAMETER = { name: 'paymentId', schema: { type: 'string', format: 'uuid', pattern: UUID_PATTERN } } as const;

const money = (amount: AmountDto): WireMoney => ({ amountMinor: amount.amountMinor, currency: amount.currency });

@ApiTags('payments')
@Controller('v1/payments')
@ObjectAccess()
export class PaymentsController {
  constructor(
    private readonly commands: CommandSender,
    private readonly readModels: ReadModelClient,
    private readonly cards: CardTokenizer,
    private readonly ownership: OwnershipRegistry,
    private readonly updates: PaymentUpdatesHub,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * 202: the payment is accepted for processing; its outcome is read with GET. A card is tokenised
   * here, before anything is sent: the command carries the token and the card's safe facts only.
   */
  @Post()
  @IdempotentCommand()
  @ApiOperation({
    summary: 'Request a payment',
    description: [
      'RequestPayment to the payments service: risk scoring, authorization, capture and settlement follow; read the outcome with GET.',
      "Method 'card' needs `card` (number, expiry, cvv): it is validated (length per brand, Luhn, expiry, security code) and tokenised into the card vault at once;",
      'only the token, fingerprint, last 4 digits, brand and expiry go further, and no answer, log or message ever holds the number or the code.',
      "Method 'e_wallet' needs `eWallet`, 'mobile_money' needs `mobileMoney` (E.164); 'wallet' (a ledger account) takes none.",
      'Besides invalid-request, a 400 may be invalid-card (with `reason`: pan_format, pan_length, pan_luhn, expiry_month, expiry_year, card_expired, cvv_format)',
      'or invalid-payment-source (the source object does not fit the method); a 503 card-vault-unavailable means the card could not be stored: retry with the same key.',
    ].join(' '),
  })
  @ApiResponse({ status: 202, type: PaymentAcceptedView })
  async create(@Body() body: CreatePaymentRequest, @Req() request: Request): Promise<PaymentAccepted> {
    const sourceProblem = paymentSourceProblem(body);
    if (sourceProblem !== undefined) throw new ProblemException(400, 'invalid-payment-source', 'Invalid payment source', sourceProblem);
    const { client } = authenticatedClientOf(request);
    // The payer's account is debited: only its owner may pay from it. The same answer whether it
    // belongs to another channel or does not exist, so the refusal reveals nothing.
    if (!(await this.ownership.owns(client, 'account', body.payerAccountId))) {
      throw new ProblemException(422, 'payer-account-not-owned', 'Payer account not usable', 'payerAccountId must be an account this client opened.');
    }
    // Derived from the request, so a retry that runs again names the same payment (command-ids.ts).
    const paymentId = paymentIdFor(idempotentRequestOf(request));
    // Recorded before the command is sent: the payment is the client's from its first event on.
    await this.ownership.claim('payment', paymentId, client);
    const correlationId = correlationIdOf(request);
    const card = body.card === undefined ? undefined : await this.tokenize(body.card, correlationId);
    const data: RequestPaymentData = {
      paymentId,
      channel: body.channel,
      merchantId: body.merchantId,
      merchantAccountId: body.merchantAccountId,
      payerAccountId: body.payerAccountId,
      amount: money(body.amount),
      method: body.method,
      ...(body.description === undefined ? {} : { description: body.description }),
      ...(body.riskContext === undefined ? {} : { riskContext: { ...body.riskContext } }),
      ...(body.captureMode === undefined ? {} : { captureMode: body.captureMode }),
      ...(body.authorizationTtlMs === undefined ? {} : { authorizationTtlMs: body.authorizationTtlMs }),
      ...(card === undefined ? {} : { card: { token: card.token, fingerprint: card.fingerprint, last4: card.last4, brand: card.brand, expMonth: card.expMonth, expYear: card.expYear } }),
      ...(body.eWallet === undefined ? {} : { eWallet: { walletId: body.eWallet.walletId } }),
      ...(body.mobileMoney === undefined ? {} : { mobileMoney: { phoneNumber: body.mobileMoney.phoneNumber } }),
    };
    try {
      await this.commands.send('RequestPayment', data, correlationId, deriveMessageId(paymentId, 'RequestPayment'));
    } catch (error) {
      // No command names the token: the vault need not keep the card for 48 hours.
      if (card !== undefined) await this.cards.forget(card.token).catch(() => undefined);
      throw error;
    }
    return { paymentId, status: 'requested', correlationId, links: { self: `/v1/payments/${paymentId}` } };
  }

  /**
   * The registry knows the owner of an account, not the accounts of an owner: a channel's listing names
   * one of its merchant or payer accounts. An analyst lists everything: status=in_review is the review queue.
   */
  @Get()
  @ApiOperation({
    summary: 'Payments, newest requested first; status=in_review is the analysts\' review queue',
    description: [
      'Filter by status, merchantId, merchantAccountId, payerAccountId, channel and from / to (requested_at, to exclusive); pages of up to `limit`,',
      'pass nextCursor as cursor (with the same filters) for the next. A channel names merchantAccountId or payerAccountId, one of its own accounts',
      '(400 account-required otherwise; 404 account-not-found for another channel\'s); an analyst may list every payment.',
    ].join(' '),
  })
  @ApiOkResponse({ type: PaymentsPageView })
  @ApiProblems([400, 'Invalid query, or account-required: a channel names one of its accounts'], [404, "account-not-found: the account is not this channel's"], [503, 'The read models did not answer; retry shortly'])
  async list(@Query() query: PaymentsQuery, @Req() request: Request, @Res() response: Response): Promise<void> {
    const client = authenticatedClientOf(request);
    if (client.role !== 'analyst') {
      if (query.merchantAccountId === undefined && query.payerAccountId === undefined) {
        throw new ProblemException(400, 'account-required', 'merchantAccountId or payerAccountId required', 'A channel lists the payments of one of its accounts: give merchantAccountId or payerAccountId.');
      }
      // Every account named must be the channel's; the same answer as for an account that does not exist.
      for (const accountId of [query.merchantAccountId, query.payerAccountId]) {
        if (accountId !== undefined && !(await this.ownership.owns(client.client, 'account', accountId))) throw notFound('account', accountId);
      }
    }
    const result = await this.readModels.get('/payments', correlationIdOf(request), {
      status: query.status, merchantId: query.merchantId, merchantAccountId: query.merchantAccountId, payerAccountId: query.payerAccountId,
      channel: query.channel, from: query.from, to: query.to, limit: query.limit, cursor: query.cursor,
    });
    response.status(result.status).type(result.contentType).send(result.body);
  }

  @Get(':paymentId')
  @OwnedBy('payment', 'paymentId')
  @ApiOperation({
    summary: 'A payment: status, risk assessment, decline reason and lifecycle times; or, with wait, its next change (long-poll)',
    description: [
      'Without `wait`: the read model\'s view of the payment. With `wait` (at most 30 s): answered as soon as an event of the payment reaches the gateway,',
      'with that update (paymentId, event, status, amount, occurredAt, version; header Payment-Wait: changed), else after the wait with the read model\'s view',
      '(Payment-Wait: timeout; a payment the read model has not projected yet is still its 404). With `after` (a version from an earlier update) an update',
      'newer than it that this gateway instance already holds is answered at once. docs/api.md, "Results back to the channel".',
    ].join(' '),
  })
  @ApiParam({ name: 'paymentId', schema: { type: 'string', format: 'uuid' } })
  @ApiQuery({ name: 'wait', required: false, description: 'Long-poll for up to this long: `5s`, `1500ms` or `5` (seconds); at most 30 s', schema: { type: 'string', pattern: '^[0-9]{1,6}(ms|s)?$' } })
  @ApiQuery({ name: 'after', required: false, description: 'The version of the last update heard: only a newer one answers the long-poll', schema: { type: 'string', pattern: '^[0-9]{1,19}$' } })
  @ApiOkResponse({ type: PaymentView, description: 'The payment; with wait, its update (PaymentUpdate) when it changed in time' })
  @ApiProblems([400, 'The payment id is not a uuid, or wait / after is invalid'], [404, 'No such payment (yet: retry shortly)'], [503, 'The read models did not answer; retry shortly'])
  async get(
    @Param('paymentId', new ParseUUIDPipe({ version: undefined })) paymentId: string,
    @Query('wait') wait: string | undefined,
    @Query('after') after: string | undefined,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    if (wait !== undefined || after !== undefined) {
      const clientGone = new AbortController();
      response.on('close', () => clientGone.abort());
      const update = await this.updates.nextUpdate(paymentId.toLowerCase(), { ...longPollOf(wait, after), signal: clientGone.signal });
      if (clientGone.signal.aborted) return;
      response.setHeader(PAYMENT_WAIT_HEADER, update === undefined ? 'timeout' : 'changed');
      if (update !== undefined) return void response.status(200).json(update);
    }
    const result = await this.readModels.get(`/payments/${paymentId}`, correlationIdOf(request));
    response.status(result.status).type(result.contentType).send(result.body);
  }

  @Post(':paymentId/capture')
  @OwnedBy('payment', 'paymentId')
  @IdempotentCommand()
  @ApiOperation({
    summary: 'Capture an authorized payment, in full or in part',
    description: "CapturePayment to the payments service, for a payment requested with captureMode 'manual'. Without an amount the whole authorization is captured; with one (at most the authorized amount, same currency) the rest is released. One capture per payment.",
  })
  @ApiParam(PAYMENT_ID_PARAMETER)
  @ApiBody({ type: CapturePaymentRequest, required: false })
  @ApiResponse({ status: 202, type: PaymentCommandAcceptedView })
  async capture(@Param('paymentId', PaymentIdPipe) paymentId: string, @Body() body: CapturePaymentRequest, @Req() request: Request): Promise<PaymentCommandAcceptedView> {
    // The body may be absent altogether (capture everything). Typed as the class, not a union with
    // undefined: a union would hide the class from the ValidationPipe's design-time metadata.
    const amount = (body as CapturePaymentRequest | undefined)?.amount;
    return this.sendLifecycleCommand('CapturePayment', paymentId, request, (commandId) => ({ paymentId, commandId, ...(amount === undefined ? {} : { amount: money(amount) }) }));
  }

  @Post(':paymentId/void')
  @OwnedBy('payment', 'paymentId')
  @IdempotentCommand()
  @ApiOperation({ summary: 'Void an authorized, uncaptured payment', description: 'VoidPayment to the payments service: the authorization (hold) is released in full.' })
  @ApiParam(PAYMENT_ID_PARAMETER)
  @ApiBody({ type: EmptyRequest, required: false })
  @ApiResponse({ status: 202, type: PaymentCommandAcceptedView })
  async void(@Param('paymentId', PaymentIdPipe) paymentId: string, @Body() _body: EmptyRequest, @Req() request: Request): Promise<PaymentCommandAcceptedView> {
    return this.sendLifecycleCommand('VoidPayment', paymentId, request, (commandId) => ({ paymentId, commandId }));
  }

  @Post(':paymentId/refunds')
  @OwnedBy('payment', 'paymentId')
  @IdempotentCommand()
  @ApiOperation({
    summary: 'Refund part or all of a captured payment',
    description: 'RefundPayment to the payments service. Refunds may repeat while their sum stays within the captured amount; each has a refundId (given, or derived from the Idempotency-Key), and the same refundId twice refunds once.',
  })
  @ApiParam(PAYMENT_ID_PARAMETER)
  @ApiResponse({ status: 202, type: PaymentCommandAcceptedView })
  async refund(@Param('paymentId', PaymentIdPipe) paymentId: string, @Body() body: RefundPaymentRequest, @Req() request: Request): Promise<PaymentCommandAcceptedView> {
    const refundId = body.refundId?.toLowerCase() ?? refundIdFor(paymentId, idempotentRequestOf(request).key);
    const accepted = await this.sendLifecycleCommand('RefundPayment', paymentId, request, (commandId) => ({ paymentId, commandId, refundId, amount: money(body.amount) }));
    return { ...accepted, refundId };
  }

  @Post(':paymentId/review')
  @OwnedBy('payment', 'paymentId')
  @IdempotentCommand()
  @ApiOperation({ summary: "An analyst's decision on a payment in review", description: 'ReviewPayment to the payments service: approve (the payment is authorized) or decline it.' })
  @ApiParam(PAYMENT_ID_PARAMETER)
  @ApiResponse({ status: 202, type: PaymentCommandAcceptedView })
  async review(@Param('paymentId', PaymentIdPipe) paymentId: string, @Body() body: ReviewPaymentRequest, @Req() request: Request): Promise<PaymentCommandAcceptedView> {
    return this.sendLifecycleCommand('ReviewPayment', paymentId, request, (commandId) => ({
      paymentId, commandId, decision: body.decision, ...(body.reviewerId === undefined ? {} : { reviewerId: body.reviewerId }),
    }));
  }

  /** Tokenises the card into the vault; a card that is not usable is a 400 that names the field and reason, never the number. */
  private async tokenize(card: CardDetailsDto, correlationId: string): Promise<CardToken> {
    try {
      return await this.cards.tokenize({ pan: card.number, expMonth: card.expMonth, expYear: card.expYear, cvv: card.cvv });
    } catch (error) {
      if (error instanceof CardValidationError) {
        const problem = cardProblem(error);
        throw new ProblemException(400, 'invalid-card', 'Invalid card', problem.detail, problem.extensions);
      }
      // Only the name and message: a client library's error may carry the command it ran.
      const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
      this.logger.error({ err: { name, message }, correlationId }, 'could not store the card in the vault');
      throw new ProblemException(503, 'card-vault-unavailable', 'Card not accepted', 'The card vault did not answer; retry with the same Idempotency-Key.');
    }
  }

  private async sendLifecycleCommand<Type extends LifecycleCommand>(
    type: Type,
    paymentId: string,
    request: Request,
    data: (commandId: string) => DataOf<Type>,
  ): Promise<PaymentCommandAcceptedView> {
    const correlationId = correlationIdOf(request);
    const commandId = commandIdFor(paymentId, type, idempotentRequestOf(request).key);
    await this.commands.send(type, data(commandId), correlationId);
    return { paymentId, command: type, commandId, status: 'accepted', correlationId, links: { payment: `/v1/payments/${paymentId}` } };
  }
}
