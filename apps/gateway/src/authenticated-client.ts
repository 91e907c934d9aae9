import type { Request } from 'express';
import type { ClientRole } from './channel-keys.js';

/** Who signed the request: set by the authentication middleware before any controller runs. */
export interface AuthenticatedClient {
  client: string;
  role: ClientRole;
  keyId: string;
}

const clients = new WeakMap<Request, AuthenticatedClient>();

export function setAuthenticatedClient(request: Request, client: AuthenticatedClient): void {
  clients.set(request, client);
}

export function authenticatedClientOf(request: Request): AuthenticatedClient {
  const client = clients.get(request);
  // Every /v1 route sits behind the authentication middleware: reaching one without a client is a wiring bug.
  if (client === undefined) throw new Error('unreachable: a /v1 route ran without an authenticated client');
  return client;
}

/**
 * Health, metrics and the API description stay open: probes, Prometheus and a reader of the docs
 * sign nothing. Decided on the full path (`originalUrl`): a middleware mounted on a route pattern
 * sees `request.path` relative to its mount point.
 */
export function isOpenRequest(request: Request): boolean {
  const path = request.originalUrl.split('?', 1)[0]!;
  return path === '/metrics' || path === '/docs' || path.startsWith('/docs/') || path === '/health' || path.startsWith('/health/');
}
