import { applyDecorators, HttpCode, UseInterceptors } from '@nestjs/common';
import { PROBLEM_CONTENT_TYPE } from '@clearline/service-runtime';
import { ApiHeader, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ProblemDocumentView } from './api-responses.js';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';

/** Documents error answers: each status with its meaning, the body a problem document. */
export function ApiProblems(...responses: [status: number, description: string][]): MethodDecorator & ClassDecorator {
  return applyDecorators(...responses.map(([status, description]) => ApiResponse({
    status,
    description,
    content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDocumentView) } } },
  })));
}

/**
 * What every command route is: 202 Accepted (the ledger or payments service decides later), an
 * Idempotency-Key that makes retries safe, and the answers the key can produce.
 */
export function IdempotentCommand(): MethodDecorator {
  return applyDecorators(
    HttpCode(202),
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({ name: 'Idempotency-Key', required: true, description: '1-255 printable ASCII characters (a uuid, say); a retry with the same key and body gets the first answer' }),
    ApiProblems(
      [400, 'Invalid body, path or Idempotency-Key'],
      [409, 'A request with this Idempotency-Key is still in progress'],
      [422, 'The Idempotency-Key was used with another request'],
      [503, 'The message broker did not take the command; retry with the same key'],
    ),
  );
}
