import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { ApiProblems, IdempotentCommand } from './api-docs.decorators.js';
import { PaymentAcceptedView, PaymentView } from './api-responses.js';
import { CommandSender } from './command-sender.js';
import { correlationIdOf } from './correlation.middleware.js';
import { CreatePaymentRequest } from './payment-requests.dto.js';
import { ReadModelClient } from './read-model.client.js';

export interface PaymentAccepted {
  paymentId: string;
  status: 'requested';
  correlationId: string;
  links: { self: string };
}

@ApiTags('payments')
@Controller('v1/payments')
export class PaymentsController {
  constructor(
    private readonly commands: CommandSender,
    private readonly readModels: ReadModelClient,
  ) {}

  /** 202: the payment is accepted for processing; its outcome is read with GET. */
  @Post()
  @IdempotentCommand()
  @ApiOperation({ summary: 'Request a payment', description: 'RequestPayment to the payments service: risk scoring, a hold, capture and settlement follow; read the outcome with GET.' })
  @ApiResponse({ status: 202, type: PaymentAcceptedView })
  async create(@Body() body: CreatePaymentRequest, @Req() request: Request): Promise<PaymentAccepted> {
    const paymentId = randomUUID();
    const correlationId = correlationIdOf(request);
    await this.commands.send('RequestPayment', { paymentId, ...body, amount: { ...body.amount } }, correlationId);
    return { paymentId, status: 'requested', correlationId, links: { self: `/v1/payments/${paymentId}` } };
  }

  @Get(':paymentId')
  @ApiOperation({ summary: 'A payment: status, risk assessment, decline reason and lifecycle times' })
  @ApiParam({ name: 'paymentId', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ type: PaymentView })
  @ApiProblems([400, 'The payment id is not a uuid'], [404, 'No such payment (yet: retry shortly)'], [503, 'The read models did not answer; retry shortly'])
  async get(
    @Param('paymentId', new ParseUUIDPipe({ version: undefined })) paymentId: string,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const result = await this.readModels.get(`/payments/${paymentId}`, correlationIdOf(request));
    response.status(result.status).type(result.contentType).send(result.body);
  }
}
