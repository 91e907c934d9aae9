// Proves the chaos run's TCP fault proxy in front of the real Redis and PostgreSQL: it forwards
// faithfully, adds latency in both directions, holds every byte while blackholed and delivers them on
// heal (a frozen server, not a lost one), and resets connections so clients see ECONNRESET and can
// connect again.
import { Redis } from 'ioredis';
import pg from 'pg';
import { FaultProxy } from './fault-proxy.js';

const REDIS = { host: '127.0.0.1', port: 6379 };
const POSTGRES = { host: '127.0.0.1', port: 5432 };

let redisProxy: FaultProxy;
let postgresProxy: FaultProxy;
let redis: Redis;

beforeAll(async () => {
  redisProxy = new FaultProxy({ target: REDIS });
  postgresProxy = new FaultProxy({ target: POSTGRES });
  await Promise.all([redisProxy.start(), postgresProxy.start()]);
  redis = new Redis({ host: '127.0.0.1', port: redisProxy.port, maxRetriesPerRequest: 1, lazyConnect: true });
  await redis.connect();
});

afterAll(async () => {
  redis.disconnect();
  await Promise.all([redisProxy.stop(), postgresProxy.stop()]);
});

afterEach(() => {
  redisProxy.heal();
  postgresProxy.heal();
});

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

function postgresClient(): pg.Client {
  return new pg.Client({ host: '127.0.0.1', port: postgresProxy.port, user: 'postgres', database: 'clearline_test' });
}

describe('FaultProxy', () => {
  it('forwards Redis and PostgreSQL faithfully', async () => {
    expect(await redis.ping()).toBe('PONG');
    const client = postgresClient();
    await client.connect();
    expect((await client.query('select 6 * 7 as answer')).rows).toEqual([{ answer: 42 }]);
    await client.end();
    expect(redisProxy.stats.bytesForwarded).toBeGreaterThan(0);
  });

  it('adds latency to each direction', async () => {
    redisProxy.set({ kind: 'latency', ms: 150 });
    const { value, ms } = await timed(redis.ping());
    expect(value).toBe('PONG');
    expect(ms).toBeGreaterThanOrEqual(290);
  });

  it('holds everything while blackholed and delivers it on heal', async () => {
    redisProxy.set({ kind: 'blackhole' });
    const pending = timed(redis.ping());
    const early = await Promise.race([pending.then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('silent'), 500))]);
    expect(early).toBe('silent');
    redisProxy.heal();
    const { value, ms } = await pending;
    expect(value).toBe('PONG');
    expect(ms).toBeGreaterThanOrEqual(500);
  });

  it('holds new connections while blackholed too', async () => {
    postgresProxy.set({ kind: 'blackhole' });
    const client = postgresClient();
    const connecting = client.connect();
    const early = await Promise.race([connecting.then(() => 'connected'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 400))]);
    expect(early).toBe('waiting');
    postgresProxy.heal();
    await connecting;
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    await client.end();
  });

  it('resets open connections: the client sees the reset, and a new connection works', async () => {
    const client = postgresClient();
    const failure = new Promise<Error>((resolve) => client.on('error', resolve));
    await client.connect();
    expect(postgresProxy.resetAll()).toBe(1);
    expect((await failure).message).toMatch(/ECONNRESET|terminated/);
    const again = postgresClient();
    await again.connect();
    expect((await again.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
    await again.end();
    expect(postgresProxy.stats.resets).toBe(1);
  });
});
