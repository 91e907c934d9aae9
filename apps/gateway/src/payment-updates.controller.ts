import { Controller, Get, Req, Res } from '@nestjs/common';
import { integerSetting, ProblemException } from '@clearline/service-runtime';
import { ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiProblems } from './api-docs.decorators.js';
import { authenticatedClientOf } from './authenticated-client.js';
import { ObjectAccess } from './object-ownership.js';
import { PaymentUpdatesHub, type StreamedUpdate, type UpdateSubscriber } from './payment-updates.hub.js';

/** A stream whose client reads slower than updates come is ended (it resumes with Last-Event-ID) rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 1_048_576;
/** What EventSource waits before reconnecting. */
const RECONNECT_MS = 3_000;
const STREAM_ID = /^[0-9]{1,5}-[0-9]{1,19}$/;

/**
 * Server-sent events of the client's payments (routes under /v1/payments that are not one payment:
 * registered before PaymentsController, whose `:paymentId` would otherwise take `events`).
 */
@ApiTags('payments')
@Controller('v1/payments')
@ObjectAccess()
export class PaymentUpdatesController {
  /** A comment line this often keeps proxies from closing an idle stream and shows a dead connection. */
  private readonly heartbeatMs = integerSetting(process.env, 'GATEWAY_PUSH_HEARTBEAT_MS', 15_000, 100, 60_000);

  constructor(private readonly hub: PaymentUpdatesHub) {}

  @Get('events')
  @ApiOperation({
    summary: "Server-sent events: the client's payment updates as they happen",
    description: [
      'A text/event-stream of `event: payment` messages, each an update (paymentId, event, status, amount, occurredAt, version) with an `id:`;',
      "a channel hears the payments it created, an analyst every payment. Reconnect with Last-Event-ID to receive what this gateway instance still holds after it;",
      'when it holds no such id an `event: resync` comes first: read the payments you care about with GET. A `: heartbeat` comment comes every 15 s.',
    ].join(' '),
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'The id of the last event received (`<partition>-<offset>`)' })
  @ApiResponse({ status: 200, description: 'The stream; it stays open until the client or the gateway closes it', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiProblems([400, 'invalid-last-event-id: Last-Event-ID is not an id this stream gave'], [503, 'push-unavailable: this instance serves as many streams as it can, or is shutting down'])
  events(@Req() request: Request, @Res() response: Response): void {
    const lastEventId = request.header('last-event-id');
    if (lastEventId !== undefined && !STREAM_ID.test(lastEventId)) {
      throw new ProblemException(400, 'invalid-last-event-id', 'Invalid Last-Event-ID', 'Last-Event-ID must be the id of an event this stream sent (`<partition>-<offset>`).');
    }
    const { client, role } = authenticatedClientOf(request);
    const stream = new ServerSentEventStream(response);
    const subscriber: UpdateSubscriber = { viewer: { client, role }, transport: 'sse', deliver: (update) => stream.send(update), close: () => stream.end() };
    const subscription = this.hub.subscribe(subscriber, lastEventId);
    stream.open(this.heartbeatMs, () => subscription.unsubscribe());
    if (subscription.replay === 'gap') stream.resync();
    else for (const update of subscription.replay) stream.send(update);
  }
}

/** One client's text/event-stream (the WHATWG format: `id:`, `event:`, `data:` lines, a blank line after each event). */
class ServerSentEventStream {
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly response: Response) {}

  open(heartbeatMs: number, onClose: () => void): void {
    this.response.status(200).set({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // nginx and some proxies buffer responses unless told not to.
      'x-accel-buffering': 'no',
    });
    this.response.flushHeaders();
    this.response.write(`retry: ${RECONNECT_MS}\n: connected\n\n`);
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), heartbeatMs);
    this.response.on('close', () => {
      clearInterval(this.heartbeat);
      onClose();
    });
  }

  send({ id, update }: StreamedUpdate): void {
    this.write(`id: ${id}\nevent: payment\ndata: ${JSON.stringify(update)}\n\n`);
  }

  /** The resume point is unknown here: the client re-reads the payments it cares about. */
  resync(): void {
    this.write(`event: resync\ndata: ${JSON.stringify({ reason: 'last-event-id-unknown' })}\n\n`);
  }

  end(): void {
    clearInterval(this.heartbeat);
    if (!this.response.writableEnded) this.response.end();
  }

  private write(text: string): void {
    if (this.response.writableEnded) return;
    if (this.response.writableLength > MAX_BUFFERED_BYTES) return this.end();
    this.response.write(text);
  }
}
