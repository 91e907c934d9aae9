import { Injectable, type NestMiddleware } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export const CORRELATION_HEADER = 'x-correlation-id';
const ACCEPTABLE_CORRELATION_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Every request gets a correlation id: the caller's, when it sends a sane one, or a new uuid. It is
 * echoed in the response and travels in every message the request causes, to the settlement event.
 */
@Injectable()
export class CorrelationMiddleware implements NestMiddleware {
  use(request: Request, response: Response, next: NextFunction): void {
    const offered = request.header(CORRELATION_HEADER);
    const correlationId = offered && ACCEPTABLE_CORRELATION_ID.test(offered) ? offered : randomUUID();
    request.headers[CORRELATION_HEADER] = correlationId;
    response.setHeader(CORRELATION_HEADER, correlationId);
    next();
  }
}

export function correlationIdOf(request: Request): string {
  return String(request.headers[CORRELATION_HEADER]);
}
