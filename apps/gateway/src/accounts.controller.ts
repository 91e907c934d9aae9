import { Body, Controller, Get, Injectable, Param, Patch, Post, Query, Req, Res, type PipeTransform } from '@nestjs/common';
import type { ContractType, DataOf } from '@clearline/contracts';
import { ProblemException } from '@clearline/service-runtime';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiProblems, IdempotentCommand } from './api-docs.decorators.js';
import { authenticatedClientOf } from './authenticated-client.js';
import {
  AccountCommandAcceptedView, AccountView, BalanceView, HistoryPageView, TransferAcceptedView, TransfersPageView,
} from './api-responses.js';
import { transferIdFor } from './command-ids.js';
import { CommandSender } from './command-sender.js';
import { correlationIdOf } from './correlation.middleware.js';
import { idempotentRequestOf } from './idempotency.interceptor.js';
import { BalanceQuery, EmptyRequest, ModifyAccountRequest, OpenAccountRequest, openingTermsProblem, PageQuery, TransfersQuery } from './ledger-requests.dto.js';
import { ObjectAccess, OwnedBy, OwnershipRegistry } from './object-ownership.js';
import { CreateTransferRequest, IDENTIFIER, IDENTIFIER_PROPERTY } from './payment-requests.dto.js';
import { ReadModelClient } from './read-model.client.js';

/** Checks an account id in the path before anything is sent or asked: a 400 problem names it. */
@Injectable()
export class AccountIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!IDENTIFIER.test(value)) throw new ProblemException(400, 'invalid-account-id', 'Invalid account id', `'${value}' is not a valid account id`);
    return value;
  }
}

const ACCOUNT_ID_PARAMETER = { name: 'accountId', schema: { ...IDENTIFIER_PROPERTY, type: 'string' } } as const;
const READ_PROBLEMS: [number, string][] = [[400, 'Invalid path or query'], [503, 'The read models did not answer; retry shortly']];

type AccountCommand = Extract<ContractType, 'ModifyAccount' | 'FreezeAccount' | 'UnfreezeAccount' | 'CloseAccount'>;

/** Ledger accounts and transfers: commands go to the ledger over Kafka, reads come from analytics. */
@ApiTags('accounts and transfers')
@Controller('v1')
@ObjectAccess()
export class AccountsController {
  constructor(
    private readonly commands: CommandSender,
    private readonly readModels: ReadModelClient,
    private readonly ownership: OwnershipRegistry,
  ) {}

  @Post('accounts')
  @IdempotentCommand()
  @ApiOperation({ summary: 'Open an account', description: 'OpenAccount to the ledger; the account appears in GET /v1/accounts/{accountId} once opened.' })
  @ApiResponse({ status: 202, type: AccountCommandAcceptedView })
  async open(@Body() body: OpenAccountRequest, @Req() request: Request): Promise<AccountCommandAcceptedView> {
    const problem = openingTermsProblem(body);
    if (problem !== undefined) throw new ProblemException(400, 'invalid-account-terms', 'Invalid account terms', problem);
    const correlationId = correlationIdOf(request);
    await this.claimAccount(body.accountId, authenticatedClientOf(request).client, correlationId);
    await this.commands.send('OpenAccount', { ...body }, correlationId);
    return { accountId: body.accountId, command: 'OpenAccount', status: 'opening', correlationId, links: { self: `/v1/accounts/${body.accountId}` } };
  }

  @Patch('accounts/:accountId')
  @OwnedBy('account', 'accountId')
  @IdempotentCommand()
  @ApiOperation({ summary: "Change an account's limits or metadata", description: 'ModifyAccount to the ledger. Give at least one field; metadata replaces the whole map.' })
  @ApiParam(ACCOUNT_ID_PARAMETER)
  @ApiResponse({ status: 202, type: AccountCommandAcceptedView })
  async modify(@Param('accountId', AccountIdPipe) accountId: string, @Body() body: ModifyAccountRequest, @Req() request: Request): Promise<AccountCommandAcceptedView> {
    if (body.overdraftLimitMinor === undefined && body.creditLimitMinor === undefined && body.metadata === undefined) {
      throw new ProblemException(400, 'empty-modification', 'Nothing to modify', 'Give overdraftLimitMinor, creditLimitMinor or metadata.');
    }
    return this.sendAccountCommand('ModifyAccount', { accountId, ...body }, request);
  }

  @Post('accounts/:accountId/freeze')
  @OwnedBy('account', 'accountId')
  @IdempotentCommand()
  @ApiOperation({ summary: 'Freeze an account', description: 'FreezeAccount to the ledger: no money moves into or out of it until it is unfrozen (voids and expiries still release holds).' })
  @ApiParam(ACCOUNT_ID_PARAMETER)
  @ApiBody({ type: EmptyRequest, required: false })
  @ApiResponse({ status: 202, type: AccountCommandAcceptedView })
  async freeze(@Param('accountId', AccountIdPipe) accountId: string, @Body() _body: EmptyRequest, @Req() request: Request): Promise<AccountCommandAcceptedView> {
    return this.sendAccountCommand('FreezeAccount', { accountId }, request);
  }

  @Post('accounts/:accountId/unfreeze')
  @OwnedBy('account', 'accountId')
  @IdempotentCommand()
  @ApiOperation({ summary: 'Unfreeze an account', description: 'UnfreezeAccount to the ledger: a frozen account moves money again.' })
  @ApiParam(ACCOUNT_ID_PARAMETER)
  @ApiBody({ type: EmptyRequest, required: false })
  @ApiResponse({ status: 202, type: AccountCommandAcceptedView })
  async unfreeze(@Param('accountId', AccountIdPipe) accountId: string, @Body() _body: EmptyRequest, @Req() request: Request): Promise<AccountCommandAcceptedView> {
    return this.sendAccountCommand('UnfreezeAccount', { accountId }, request);
  }

  @Post('accounts/:accountId/close')
  @OwnedBy('account', 'accountId')
  @IdempotentCommand()
  @ApiOperation({ summary: 'Close an account', description: 'CloseAccount to the ledger: refused (and logged by the ledger) unless the balance is zero with no open holds; its history stays.' })
  @ApiParam(ACCOUNT_ID_PARAMETER)
  @ApiBody({ type: EmptyRequest, required: false })
  @ApiResponse({ status: 202, type: AccountCommandAcceptedView })
  async close(@Param('accountId', AccountIdPipe) accountId: string, @Body() _body: EmptyRequest, @Req() request: Request): Promise<AccountCommandAcceptedView> {
    return this.sendAccountCommand('CloseAccount', { accountId }, request);
  }

  @Get('accounts/:accountId')
  @OwnedBy('account', 'accountId')
  @ApiOperation({ summary: 'An account now: terms, status and balances' })
  @ApiParam(ACCOUNT_ID_PARAMETER)
  @ApiOkResponse({ type: AccountView })
  @ApiProblems(...READ_PROBLEMS, [404, 'No such account (yet: it may still be opening)'])
  async get(@Param('accountId', AccountIdPipe) accountId: string, @Req() request: Request, @Res() response: Response): Promise<void> {
    this.pass(response, await this.readModels.get(`/accounts/${accountId}`, correlationIdOf(request)));
  }

  @Get('accounts/:accountId/balance')
  @OwnedBy('account', 'accountId')
  @ApiOperation({
    summary: 'Balances now, as of a time, or as of a global position',
    description: 'Without a query: now. asOf: after every balance change visible at that instant. position: after every balance change at or below that global position. Not both.',
  })
  @ApiParam(ACCOUNT_ID_PARAMETER)
  @ApiOkResponse({ type: BalanceView })
  @ApiProblems(...READ_PROBLEMS, [404, 'No such account, or it was not open yet at that point'])
  async balance(@Param('accountId', AccountIdPipe) accountId: string, @Query() query: BalanceQuery, @Req() request: Request, @Res() response: Response): Promise<void> {
    if (query.asOf !== undefined && query.position !== undefined) {
      throw new ProblemException(400, 'conflicting-balance-point', 'Conflicting balance point', 'Give asOf (a time) or position (a global position), not both.');
    }
    this.pass(response, await this.readModels.get(`/accounts/${accountId}/balance`, correlationIdOf(request), { asOf: query.asOf, position: query.position }));
  }

  @Get('accounts/:accountId/history')
  @OwnedBy('account', 'accountId')
  @ApiOperation({ summary: "An account's balance changes, newest first", description: 'Pages of up to `limit` entries; follow links.next (or pass page.nextCursor as cursor) for older ones.' })
  @ApiParam(ACCOUNT_ID_PARAMETER)
  @ApiOkResponse({ type: HistoryPageView })
  @ApiProblems(...READ_PROBLEMS, [404, 'No such account'])
  async history(@Param('accountId', AccountIdPipe) accountId: string, @Query() query: PageQuery, @Req() request: Request, @Res() response: Response): Promise<void> {
    this.pass(response, await this.readModels.get(`/accounts/${accountId}/history`, correlationIdOf(request), { limit: query.limit, cursor: query.cursor }));
  }

  @Post('transfers')
  @IdempotentCommand()
  @ApiOperation({ summary: 'Move money from one account to another', description: 'PostTransfer to the ledger; its outcome is read with GET /v1/transfers?correlationId=.' })
  @ApiResponse({ status: 202, type: TransferAcceptedView })
  async transfer(@Body() body: CreateTransferRequest, @Req() request: Request): Promise<TransferAcceptedView> {
    if (!(await this.ownership.owns(authenticatedClientOf(request).client, 'account', body.debitAccountId))) {
      throw new ProblemException(422, 'debit-account-not-owned', 'Debit account not usable', 'debitAccountId must be an account this client opened.');
    }
    const correlationId = correlationIdOf(request);
    // Derived from the request when the caller names none, so a retry that runs again posts one transfer.
    const transferId = body.transferId ?? transferIdFor(idempotentRequestOf(request));
    await this.commands.send('PostTransfer', { ...body, transferId, amount: { ...body.amount } }, correlationId);
    return { transferId, status: 'pending', correlationId };
  }

  @Get('transfers')
  @ApiOperation({ summary: 'The transfers one request caused, by its correlation id', description: 'Oldest first, each with its balance changes; posted and rejected outcomes both.' })
  @ApiOkResponse({ type: TransfersPageView })
  @ApiProblems(...READ_PROBLEMS)
  async transfers(@Query() query: TransfersQuery, @Req() request: Request, @Res() response: Response): Promise<void> {
    const client = authenticatedClientOf(request);
    if (client.role !== 'analyst' && !(await this.ownership.owns(client.client, 'correlation', query.correlationId))) {
      throw new ProblemException(404, 'correlation-not-found', 'Correlation id not found', 'No command of this client carried this correlation id.');
    }
    this.pass(response, await this.readModels.get('/transfers', correlationIdOf(request), { correlationId: query.correlationId, limit: query.limit, cursor: query.cursor }));
  }

  /**
   * Makes the account the client's before OpenAccount is sent. An id another client holds, or one
   * the read model already knows without an owner here (opened over Kafka directly), is a 409: the
   * client chose the id, so a clash must be told, and it is told the same way for both.
   */
  private async claimAccount(accountId: string, client: string, correlationId: string): Promise<void> {
    const taken = () => new ProblemException(409, 'account-id-taken', 'Account id taken', 'An account with this id exists or is being opened; choose another id.');
    const owner = await this.ownership.ownerOf('account', accountId);
    if (owner === client) return;
    if (owner !== null) throw taken();
    const existing = await this.readModels.get(`/accounts/${accountId}`, correlationId);
    if (existing.status === 200) throw taken();
    if (existing.status !== 404) throw new ProblemException(503, 'read-model-unavailable', 'Read model unavailable', 'The gateway could not check whether the account id is free; retry with the same Idempotency-Key.');
    if ((await this.ownership.claim('account', accountId, client)) === 'taken') throw taken();
  }

  private async sendAccountCommand<Type extends AccountCommand>(type: Type, data: DataOf<Type>, request: Request): Promise<AccountCommandAcceptedView> {
    const correlationId = correlationIdOf(request);
    await this.commands.send(type, data, correlationId);
    const accountId = (data as { accountId: string }).accountId;
    return { accountId, command: type, status: 'accepted', correlationId, links: { self: `/v1/accounts/${accountId}` } };
  }

  /** Analytics' answer as it is: status, content type (problem+json included) and body. */
  private pass(response: Response, result: { status: number; contentType: string; body: string }): void {
    response.status(result.status).type(result.contentType).send(result.body);
  }
}
