import { applyDecorators, Inject, Injectable, SetMetadata, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiSecurity } from '@nestjs/swagger';
import { isUuid } from '@clearline/contracts';
import { ProblemException, REDIS } from '@clearline/service-runtime';
import type { Request } from 'express';
import type { Redis } from 'ioredis';
import { ApiProblems } from './api-docs.decorators.js';
import { authenticatedClientOf, type AuthenticatedClient } from './authenticated-client.js';
import { correlationIdOf } from './correlation.middleware.js';
import { IDENTIFIER } from './payment-requests.dto.js';

export type OwnedKind = 'payment' | 'account' | 'correlation';

/** A correlation id belongs to the client that first sent a command with it, for as long as its transfers are likely to be asked about. */
const CORRELATION_RETENTION_SECONDS = 30 * 24 * 60 * 60;

/**
 * Which client (channel) created each payment and opened each account, in Redis (kept without
 * expiry; the gateway's Redis must be persistent, see docs/security.md). Written before the command
 * is sent, with SET NX, so a retry finds its own record and nothing ever changes hands.
 */
@Injectable()
export class OwnershipRegistry {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** 'mine' when the object is (now) the client's, 'taken' when another client holds it. */
  async claim(kind: OwnedKind, id: string, client: string): Promise<'mine' | 'taken'> {
    const key = ownerKey(kind, id);
    const claimed = kind === 'correlation'
      ? await this.redis.set(key, client, 'EX', CORRELATION_RETENTION_SECONDS, 'NX')
      : await this.redis.set(key, client, 'NX');
    if (claimed === 'OK') return 'mine';
    return (await this.redis.get(key)) === client ? 'mine' : 'taken';
  }

  async ownerOf(kind: OwnedKind, id: string): Promise<string | null> {
    return this.redis.get(ownerKey(kind, id));
  }

  async owns(client: string, kind: OwnedKind, id: string): Promise<boolean> {
    return (await this.ownerOf(kind, id)) === client;
  }
}

function ownerKey(kind: OwnedKind, id: string): string {
  return `gateway:owner:${kind}:${id}`;
}

/**
 * The 404 a client gets for another client's object is the very answer the read model gives for
 * one that does not exist: a channel cannot learn that someone else's payment or account exists.
 */
export function notFound(kind: 'payment' | 'account', id: string): ProblemException {
  return kind === 'payment'
    ? new ProblemException(404, 'payment-not-found', 'Payment not found', `no payment ${id} (it may still be on its way: retry shortly)`)
    : new ProblemException(404, 'account-not-found', 'Account not found', `no account ${id}`);
}

interface OwnedRoute {
  kind: 'payment' | 'account';
  parameter: string;
}
const OWNED_ROUTE = 'clearline:owned-route';

/**
 * Object-level authorization for every /v1 route (as a guard: before the Idempotency-Key is claimed
 * and before anything is sent or read). Analysts read everything and change nothing (403). A channel
 * reaches a payment or account only if it is the owner, else 404. Each command also claims its
 * correlation id for the client, so GET /v1/transfers?correlationId= shows a channel only what its
 * own requests caused.
 */
@Injectable()
export class ObjectAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly ownership: OwnershipRegistry,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const client = authenticatedClientOf(request);
    const reading = request.method === 'GET' || request.method === 'HEAD';
    if (client.role === 'analyst') {
      if (reading) return true;
      throw new ProblemException(403, 'read-only-client', 'Analysts only read', 'An analyst key may read every payment and account but sends no commands.');
    }
    const route = this.reflector.get<OwnedRoute | undefined>(OWNED_ROUTE, context.getHandler());
    if (route !== undefined) await this.assertOwner(client, route, request);
    if (!reading && (await this.ownership.claim('correlation', correlationIdOf(request), client.client)) === 'taken') {
      throw new ProblemException(409, 'correlation-id-in-use', 'Correlation id in use', 'Another client already sent this X-Correlation-Id; use a new one (or none: the gateway makes one).');
    }
    return true;
  }

  private async assertOwner(client: AuthenticatedClient, route: OwnedRoute, request: Request): Promise<void> {
    const raw = String(request.params[route.parameter] ?? '');
    const id = route.kind === 'payment' ? raw.toLowerCase() : raw;
    // A malformed id is left to the route's pipe, which answers its own 400 (nothing is owned under it).
    const wellFormed = route.kind === 'payment' ? isUuid(id) : IDENTIFIER.test(id);
    if (wellFormed && !(await this.ownership.owns(client.client, route.kind, id))) throw notFound(route.kind, id);
  }
}

/** Marks a route whose path parameter names a payment or account only its owner may read or change. */
export function OwnedBy(kind: 'payment' | 'account', parameter: string): MethodDecorator {
  return applyDecorators(SetMetadata(OWNED_ROUTE, { kind, parameter } satisfies OwnedRoute));
}

/** The OpenAPI security scheme of the signed requests (openapi.ts declares it). */
export const SIGNATURE_SECURITY_SCHEME = 'channelSignature';

/** The guard on a whole controller: every route of it checks the client's role and ownership; documented on each route. */
export function ObjectAccess(): ClassDecorator {
  return applyDecorators(
    UseGuards(ObjectAccessGuard),
    ApiSecurity(SIGNATURE_SECURITY_SCHEME),
    ApiProblems(
      [401, 'No valid signature: missing-signature, bad-signature, stale-timestamp, replayed-request or unknown-key (docs/security.md)'],
      [403, 'read-only-client: an analyst key sends no commands'],
      [429, 'rate-limited: this client is over its rate; retry after Retry-After seconds'],
    ),
  );
}
