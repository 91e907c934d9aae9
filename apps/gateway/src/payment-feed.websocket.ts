import { HttpException, Inject, Injectable } from '@nestjs/common';
import { integerSetting, LOGGER, PROBLEM_CONTENT_TYPE, type Logger, type ProblemDocument } from '@clearline/service-runtime';
import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { PaymentUpdatesHub, type StreamedUpdate, type UpdateSubscriber } from './payment-updates.hub.js';
import { RequestAuthenticationMiddleware } from './request-authentication.middleware.js';

/** Where the feed is served: a signed GET of this path (and query) upgrades to a WebSocket. */
export const PAYMENT_FEED_PATH = '/v1/payments/ws';
/** A client reading slower than updates come is dropped (it reconnects with lastEventId) rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 1_048_576;
/** The feed only speaks; a client message is never needed, so a big one is refused by `ws` itself. */
const MAX_CLIENT_MESSAGE_BYTES = 1_024;
/** How long a closing handshake may take at shutdown before the socket is cut. */
const CLOSE_GRACE_MS = 1_000;
const STREAM_ID = /^[0-9]{1,5}-[0-9]{1,19}$/;

/** Messages on the feed, as JSON text frames. */
export type PaymentFeedMessage =
  | { type: 'payment'; id: string; update: StreamedUpdate['update'] }
  | { type: 'resync'; reason: 'last-event-id-unknown' };

/**
 * The WebSocket feed of the client's payment updates on the gateway's own HTTP server. The upgrade
 * request is authenticated exactly as any /v1 request is (RequestAuthenticationMiddleware.verify:
 * HMAC signature over `GET <path and query>`, timestamp, nonce); a refused one gets its 401
 * problem+json and no socket. Then the same fan-out and filtering as the server-sent events.
 */
@Injectable()
export class PaymentFeedWebSocket {
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
  /** A ping this often; a client that has not answered the previous one is cut. */
  private readonly heartbeatMs = integerSetting(process.env, 'GATEWAY_PUSH_HEARTBEAT_MS', 15_000, 100, 60_000);

  constructor(
    private readonly hub: PaymentUpdatesHub,
    private readonly authentication: RequestAuthenticationMiddleware,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  attach(httpServer: Server): void {
    httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      // A peer that resets during the handshake must not crash the process.
      socket.on('error', () => socket.destroy());
      this.upgrade(request, socket, head).catch((error: unknown) => {
        this.logger.error({ err: error }, 'payment feed: upgrade failed');
        refuse(socket, { type: 'urn:clearline:problem:internal-error', title: 'Internal error', status: 500 });
      });
    });
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://gateway');
    if (url.pathname !== PAYMENT_FEED_PATH) {
      return refuse(socket, { type: 'urn:clearline:problem:not-found', title: 'Not found', status: 404, detail: `WebSocket upgrades are served at ${PAYMENT_FEED_PATH} only.`, instance: url.pathname });
    }
    const lastEventId = url.searchParams.get('lastEventId') ?? undefined;
    if (lastEventId !== undefined && !STREAM_ID.test(lastEventId)) {
      return refuse(socket, { type: 'urn:clearline:problem:invalid-last-event-id', title: 'Invalid lastEventId', status: 400, detail: 'lastEventId must be the id of an update this feed sent (`<partition>-<offset>`).' });
    }
    let viewer;
    try {
      viewer = await this.authentication.verify({
        method: request.method ?? 'GET', pathWithQuery: request.url ?? '/', path: url.pathname, header: (name) => headerOf(request, name),
      });
    } catch (error) {
      if (error instanceof HttpException) return refuse(socket, error.getResponse() as ProblemDocument);
      throw error;
    }
    this.server.handleUpgrade(request, socket, head, (webSocket) => this.serve(webSocket, { client: viewer.client, role: viewer.role }, lastEventId));
  }

  private serve(webSocket: WebSocket, viewer: UpdateSubscriber['viewer'], lastEventId: string | undefined): void {
    const send = (message: PaymentFeedMessage): void => {
      if (webSocket.readyState !== webSocket.OPEN) return;
      if (webSocket.bufferedAmount > MAX_BUFFERED_BYTES) return void webSocket.terminate();
      webSocket.send(JSON.stringify(message));
    };
    const subscriber: UpdateSubscriber = {
      viewer,
      transport: 'websocket',
      deliver: ({ id, update }) => send({ type: 'payment', id, update }),
      close: () => {
        webSocket.close(1001, 'gateway shutting down');
        setTimeout(() => webSocket.terminate(), CLOSE_GRACE_MS).unref();
      },
    };
    let subscription;
    try {
      subscription = this.hub.subscribe(subscriber, lastEventId);
    } catch {
      // Over this instance's bound, or shutting down: the client reconnects (elsewhere).
      return void webSocket.close(1013, 'try again later');
    }
    let answered = true;
    const heartbeat = setInterval(() => {
      if (!answered) return void webSocket.terminate();
      answered = false;
      webSocket.ping();
    }, this.heartbeatMs);
    webSocket.on('pong', () => { answered = true; });
    webSocket.on('error', () => webSocket.terminate());
    webSocket.on('close', () => {
      clearInterval(heartbeat);
      subscription.unsubscribe();
    });
    if (subscription.replay === 'gap') send({ type: 'resync', reason: 'last-event-id-unknown' });
    else for (const { id, update } of subscription.replay) send({ type: 'payment', id, update });
  }
}

function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Answers the upgrade request with a problem document, as plain HTTP/1.1, and closes the connection. */
function refuse(socket: Duplex, problem: ProblemDocument): void {
  if (!socket.writable) return void socket.destroy();
  const body = JSON.stringify({ instance: PAYMENT_FEED_PATH, ...problem });
  socket.end([
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? 'Error'}`,
    `content-type: ${PROBLEM_CONTENT_TYPE}`,
    `content-length: ${Buffer.byteLength(body)}`,
    'cache-control: no-store',
    'connection: close',
    '',
    body,
  ].join('\r\n'));
}
