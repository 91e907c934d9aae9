import { Catch, HttpException, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { forwardedPrefix } from './forwarded-prefix.js';
import type { Logger } from './logger.js';

/**
 * RFC 9457 problem details. Every error a client sees has a stable `type` it can branch on
 * (`urn:clearline:problem:<slug>`), a human title, the HTTP status and, where useful, details.
 */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemType(slug: string): string {
  return `urn:clearline:problem:${slug}`;
}

/** Thrown by handlers for an error the client should see with a specific type. */
export class ProblemException extends HttpException {
  constructor(status: number, slug: string, title: string, detail?: string, extensions: Record<string, unknown> = {}) {
    super({ type: problemType(slug), title, status, ...(detail === undefined ? {} : { detail }), ...extensions } satisfies ProblemDocument, status);
  }
}

const SLUG_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'invalid-request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  422: 'unprocessable',
  429: 'too-many-requests',
  503: 'unavailable',
};

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const problem = this.toProblem(exception);
    // Behind the gateway, the path the caller used (the gateway passes read answers through as they are).
    problem.instance = `${forwardedPrefix(request.headers['x-forwarded-prefix'])}${request.originalUrl}`;
    if (problem.status >= 500) this.logger.error({ err: exception, path: request.originalUrl }, 'request failed');
    response.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  }

  private toProblem(exception: unknown): ProblemDocument {
    if (!(exception instanceof HttpException)) {
      return { type: problemType('internal-error'), title: 'Internal error', status: HttpStatus.INTERNAL_SERVER_ERROR, detail: 'The request could not be completed; it is safe to retry with the same Idempotency-Key.' };
    }
    const status = exception.getStatus();
    if (isJsonParseFailure(exception.cause)) {
      // V8's message quotes the start of the body (`Unexpected token 'x', "x4000056655..." is not
      // valid JSON`), which may be a card number or a secret: the client is told only what is wrong.
      return { type: problemType('invalid-request'), title: 'Invalid JSON', status, detail: 'The request body is not valid JSON.' };
    }
    const body = exception.getResponse();
    if (typeof body === 'object' && body !== null && typeof (body as ProblemDocument).type === 'string' && 'title' in body) {
      return { ...(body as ProblemDocument) };
    }
    const slug = SLUG_BY_STATUS[status] ?? (status >= 500 ? 'internal-error' : 'http-error');
    const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : body;
    const errors = Array.isArray(message) ? message.map(String) : undefined;
    return {
      type: problemType(slug),
      title: exception.name.replace(/Exception$/, '').replace(/([a-z])([A-Z])/g, '$1 $2') || 'Error',
      status,
      detail: errors ? errors.join('; ') : String(message ?? exception.message),
      ...(errors ? { errors } : {}),
    };
  }
}

/** body-parser's error for a body that is not JSON (Nest wraps it in a BadRequestException as its cause). */
function isJsonParseFailure(cause: unknown): boolean {
  return cause instanceof SyntaxError && (cause as SyntaxError & { type?: unknown }).type === 'entity.parse.failed';
}
