// A small TCP proxy of the repo's own for fault injection (this kernel has no `tc netem`, and toxiproxy
// is not available): services connect to PostgreSQL or Redis through it, and the chaos run adds
// latency, blackholes the connections (bytes are held, not delivered, as when a server freezes or a
// link drops packets) or resets them (RST, as when a server is killed), then heals them.
import { createServer, connect, type Server, type Socket } from 'node:net';

export type Fault =
  | { kind: 'none' }
  /** Every chunk, in both directions, is delivered `ms` later (order kept). */
  | { kind: 'latency'; ms: number }
  /** Nothing is delivered in either direction and new connections wait; held bytes flow on heal. */
  | { kind: 'blackhole' };

export interface FaultProxyOptions {
  /** Where the real server listens. */
  target: { host: string; port: number };
  /** The proxy's own port (0: any free port). */
  listenPort?: number;
}

interface Link {
  client: Socket;
  server: Socket;
}

export class FaultProxy {
  private readonly links = new Set<Link>();
  private fault: Fault = { kind: 'none' };
  private server: Server | undefined;
  private readonly heldWhileBlackholed: (() => void)[] = [];
  /** Connections accepted and bytes forwarded, for the chaos report. */
  readonly stats = { connections: 0, resets: 0, bytesForwarded: 0 };

  constructor(private readonly options: FaultProxyOptions) {}

  /** Listens on 127.0.0.1; resolves to the port. */
  async start(): Promise<number> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.listenPort ?? 0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('fault proxy: no TCP address');
    return address.port;
  }

  get port(): number {
    const address = this.server?.address();
    if (address === null || address === undefined || typeof address === 'string') throw new Error('fault proxy: not started');
    return address.port;
  }

  get openConnections(): number {
    return this.links.size;
  }

  /** Applies a fault to every connection, present and future, until the next call. */
  set(fault: Fault): void {
    this.fault = fault;
    if (fault.kind !== 'blackhole') this.releaseHeld();
  }

  /** Back to a plain proxy: held bytes and connections flow again. */
  heal(): void {
    this.set({ kind: 'none' });
  }

  /** Resets every open connection (RST to both sides), as a killed server would; new ones are accepted. */
  resetAll(): number {
    const count = this.links.size;
    for (const link of [...this.links]) this.drop(link, true);
    this.stats.resets += count;
    return count;
  }

  async stop(): Promise<void> {
    this.heal();
    for (const link of [...this.links]) this.drop(link, false);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: Socket): void {
    this.stats.connections += 1;
    const open = () => {
      const server = connect(this.options.target.port, this.options.target.host);
      const link: Link = { client, server };
      this.links.add(link);
      client.setNoDelay(true);
      server.setNoDelay(true);
      this.pipe(link, client, server);
      this.pipe(link, server, client);
      const close = () => this.drop(link, false);
      client.once('close', close);
      server.once('close', close);
      client.on('error', close);
      server.on('error', close);
    };
    if (this.fault.kind === 'blackhole') this.heldWhileBlackholed.push(open);
    else open();
  }

  /** Forwards `from` to `to` through the current fault, keeping the order of chunks. */
  private pipe(link: Link, from: Socket, to: Socket): void {
    let queue = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      queue = queue.then(() => this.deliver(link, to, chunk));
    });
  }

  private async deliver(link: Link, to: Socket, chunk: Buffer): Promise<void> {
    const fault = this.fault;
    if (fault.kind === 'latency') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    if (this.fault.kind === 'blackhole') await new Promise<void>((resolve) => this.heldWhileBlackholed.push(resolve));
    if (!this.links.has(link) || to.destroyed) return;
    this.stats.bytesForwarded += chunk.length;
    to.write(chunk);
  }

  private releaseHeld(): void {
    for (const release of this.heldWhileBlackholed.splice(0)) release();
  }

  private drop(link: Link, reset: boolean): void {
    if (!this.links.delete(link)) return;
    for (const socket of [link.client, link.server]) {
      if (reset) socket.resetAndDestroy();
      else socket.destroy();
    }
  }
}
