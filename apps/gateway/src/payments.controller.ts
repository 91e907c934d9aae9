import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Req, Res, UseInterceptors } from '@nestjs/common';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { CommandSender } from './command-sender.js';
import { correlationIdOf } from './correlation.middleware.js';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';
import { CreatePaymentRequest } from './payment-requests.dto.js';
import { ReadModelClient } from './read-model.client.js';

export interface PaymentAccepted {
  paymentId: string;
  status: 'requested';
  correlationId: string;
  links: { self: string };
}

@Controller('v1/payments')
export class PaymentsController {
  constructor(
    private readonly commands: CommandSender,
    private readonly readModels: ReadModelClient,
  ) {}

  /** 202: the payment is accepted for processing; its outcome is read with GET. */
  @Post()
  @HttpCode(202)
  @UseInterceptors(IdempotencyInterceptor)
  async create(@Body() body: CreatePaymentRequest, @Req() request: Request): Promise<PaymentAccepted> {
    const paymentId = randomUUID();
    const correlationId = correlationIdOf(request);
    await this.commands.send('RequestPayment', { paymentId, ...body, amount: { ...body.amount } }, correlationId);
    return { paymentId, status: 'requested', correlationId, links: { self: `/v1/payments/${paymentId}` } };
  }

  @Get(':paymentId')
  async get(
    @Param('paymentId', new ParseUUIDPipe({ version: undefined })) paymentId: string,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const result = await this.readModels.get(`/payments/${paymentId}`, correlationIdOf(request));
    response.status(result.status).type(result.contentType).send(result.body);
  }
}
