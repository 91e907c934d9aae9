import { ProblemException } from '@clearline/service-runtime';
import type { NextFunction, Request, Response } from 'express';

/**
 * How deeply a request body may nest objects and arrays. The deepest body of the API nests 3 levels
 * (a payment's card or risk context, an account's metadata); 32 leaves room and stops the bodies a
 * 64 KiB limit still allows at ~30,000 levels, which overflow the stack of everything after the
 * parser that walks a body recursively (the Idempotency-Key's request hash, class-transformer's
 * validation) and would be answered 500 instead of 400.
 */
export const MAX_JSON_DEPTH = 32;

/** True when `value` nests deeper than `limit`; walks with its own stack, so no body can overflow it. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [next, depth] = pending.pop()!;
    if (next === null || typeof next !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Object.values(next)) if (child !== null && typeof child === 'object') pending.push([child, depth + 1]);
  }
  return false;
}

/**
 * A plain Express middleware right after the JSON parser (gateway-app.ts): a body nested too deeply
 * is a 400 problem before any Nest middleware, guard, interceptor or pipe sees it.
 */
export function refuseDeeplyNestedJson(request: Request, _response: Response, next: NextFunction): void {
  if (nestsDeeperThan(request.body, MAX_JSON_DEPTH)) {
    next(new ProblemException(400, 'json-too-deep', 'JSON nested too deeply', `The body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep.`));
    return;
  }
  next();
}
