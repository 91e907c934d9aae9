import { Body, Controller, Get, HttpCode, Param, Post, Req, Res, UseInterceptors } from '@nestjs/common';
import { ProblemException } from '@clearline/service-runtime';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { CommandSender } from './command-sender.js';
import { correlationIdOf } from './correlation.middleware.js';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';
import { CreateTransferRequest, OpenAccountRequest } from './payment-requests.dto.js';
import { ReadModelClient } from './read-model.client.js';

const ACCOUNT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** Ledger accounts and transfers: commands go to the ledger over Kafka, reads come from analytics. */
@Controller('v1')
export class AccountsController {
  constructor(
    private readonly commands: CommandSender,
    private readonly readModels: ReadModelClient,
  ) {}

  @Post('accounts')
  @HttpCode(202)
  @UseInterceptors(IdempotencyInterceptor)
  async open(@Body() body: OpenAccountRequest, @Req() request: Request): Promise<Record<string, unknown>> {
    const correlationId = correlationIdOf(request);
    await this.commands.send('OpenAccount', { ...body, allowNegativeBalance: body.allowNegativeBalance ?? false }, correlationId);
    return { accountId: body.accountId, status: 'opening', correlationId, links: { self: `/v1/accounts/${body.accountId}` } };
  }

  @Get('accounts/:accountId')
  async get(@Param('accountId') accountId: string, @Req() request: Request, @Res() response: Response): Promise<void> {
    if (!ACCOUNT_ID.test(accountId)) throw new ProblemException(400, 'invalid-account-id', 'Invalid account id', `'${accountId}' is not a valid account id`);
    const result = await this.readModels.get(`/accounts/${accountId}`, correlationIdOf(request));
    response.status(result.status).type(result.contentType).send(result.body);
  }

  @Post('transfers')
  @HttpCode(202)
  @UseInterceptors(IdempotencyInterceptor)
  async transfer(@Body() body: CreateTransferRequest, @Req() request: Request): Promise<Record<string, unknown>> {
    const correlationId = correlationIdOf(request);
    const transferId = body.transferId ?? randomUUID();
    await this.commands.send('PostTransfer', { ...body, transferId, amount: { ...body.amount } }, correlationId);
    return { transferId, status: 'pending', correlationId };
  }
}
