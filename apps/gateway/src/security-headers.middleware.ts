import type { NextFunction, Request, Response } from 'express';

/**
 * The docs UI loads its own scripts and styles from /docs only; nothing may frame it, post from it or
 * fetch elsewhere. Swagger UI sets a few inline styles, hence 'unsafe-inline' for styles only.
 */
const DOCS_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** JSON answers are never rendered: no source at all. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * Headers on every answer: HTTPS only for a year (HSTS; TLS ends at the load balancer in front),
 * no MIME sniffing, no framing, no referrer. API answers (money, balances) are never cached.
 * A plain Express middleware, installed before the /docs routes (which Nest's middleware would
 * never see, since Swagger registers them on Express directly).
 */
export function securityHeaders(request: Request, response: Response, next: NextFunction): void {
  response.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
  response.setHeader('x-content-type-options', 'nosniff');
  response.setHeader('x-frame-options', 'DENY');
  response.setHeader('referrer-policy', 'no-referrer');
  const path = request.originalUrl.split('?', 1)[0]!;
  const docs = path === '/docs' || path.startsWith('/docs/');
  response.setHeader('content-security-policy', docs ? DOCS_CSP : API_CSP);
  if (!docs) response.setHeader('cache-control', 'no-store');
  next();
}
