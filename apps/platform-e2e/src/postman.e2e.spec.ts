// A real client against the five real services (real Kafka, PostgreSQL and Redis): the Postman
// collection in docs/postman, run by newman exactly as a developer runs it (`npx newman run ...`),
// only with the environment's baseUrl pointed at this platform. The collection signs every request in
// its own pre-request script (CryptoJS, not our libs/contracts code), so a drift between the
// documented signature and the gateway's check fails here. Every request must run and every
// assertion pass; a failure is reported with the request's name and the assertion's message.
import { jest } from '@jest/globals';
import { Kafka, logLevel } from 'kafkajs';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { root, startPlatform, type RunningPlatform } from '@clearline/testing';

// Booting the platform takes tens of seconds on two cores; the collection waits on the read models.
jest.setTimeout(480_000);

const BASE_PORT = 4620;
const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
const COLLECTION = join(root, 'docs/postman/clearline.postman_collection.json');
const ENVIRONMENT = join(root, 'docs/postman/local.postman_environment.json');
const LOG_DIRECTORY = join(root, '.cache/logs/e2e-postman');
/** The consumer groups the services share with every other platform on this broker (fixed names). */
const SHARED_GROUPS = ['ledger', 'payments-commands', 'payments-process', 'risk'];
const SHARED_GROUPS_WAIT_MS = 120_000;

/** The part of newman's run summary this test reads (newman ships no types). */
interface NewmanSummary {
  run: {
    stats: Record<'requests' | 'assertions' | 'testScripts' | 'prerequestScripts', { total: number; failed: number }>;
    failures: { source?: { name?: string }; error: { name: string; test?: string; message: string } }[];
    executions: { item: { name: string } }[];
    timings: { started: number; completed: number };
  };
}
interface Newman {
  run(options: Record<string, unknown>, callback: (error: Error | null, summary: NewmanSummary) => void): unknown;
}
const newman = createRequire(import.meta.url)('newman') as Newman;

interface CollectionItem {
  name: string;
  item?: CollectionItem[];
}

function requestNames(items: CollectionItem[]): string[] {
  return items.flatMap((item) => (item.item === undefined ? [item.name] : requestNames(item.item)));
}

function runCollection(baseUrl: string): Promise<NewmanSummary> {
  return new Promise((resolve, reject) => {
    newman.run({
      collection: COLLECTION,
      environment: ENVIRONMENT,
      envVar: [
        { key: 'baseUrl', value: baseUrl },
        // The read models follow within moments; a loaded CI machine gets a minute per wait.
        { key: 'pollMaxAttempts', value: '240' },
      ],
      timeoutRequest: 10_000,
      reporters: ['json'],
      reporter: { json: { export: join(LOG_DIRECTORY, 'newman-summary.json') } },
    }, (error, summary) => (error ? reject(error) : resolve(summary)));
  });
}

/**
 * The services' consumer groups have fixed names: a platform left running elsewhere on this broker
 * (on another database) would take some partitions and handle this run's commands there. Wait for it
 * to go, then say so plainly rather than fail on a missing account later.
 */
async function waitForFreeSharedGroups(): Promise<void> {
  const kafka = new Kafka({ clientId: 'e2e-postman', brokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + SHARED_GROUPS_WAIT_MS;
    for (;;) {
      const { groups } = await admin.describeGroups(SHARED_GROUPS);
      const busy = groups.filter((group) => group.members.length > 0).map((group) => group.groupId);
      if (busy.length === 0) return;
      if (Date.now() > deadline) throw new Error(`another platform consumes the shared consumer groups ${busy.join(', ')} on this broker; stop it and run again`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  } finally {
    await admin.disconnect();
  }
}

let platform: RunningPlatform;

beforeAll(async () => {
  mkdirSync(LOG_DIRECTORY, { recursive: true });
  await waitForFreeSharedGroups();
  // Five services booting on a shared two-core machine can take longer than the default minute.
  platform = await startPlatform({ basePort: BASE_PORT, env: { DATABASE_URL, LOG_LEVEL: 'info' }, logDirectory: LOG_DIRECTORY, readyTimeoutMs: 180_000 });
});

afterAll(async () => {
  await platform?.stop();
});

describe('the Postman collection (docs/postman)', () => {
  it('runs every request against the live platform and passes every assertion', async () => {
    const collection = JSON.parse(readFileSync(COLLECTION, 'utf8')) as { item: CollectionItem[] };
    const expected = requestNames(collection.item);

    const { run } = await runCollection(`http://127.0.0.1:${platform.ports.gateway}`);

    const failures = run.failures.map((failure) => `${failure.source?.name ?? '(collection)'}: ${failure.error.test ?? failure.error.name}: ${failure.error.message}`);
    expect(failures).toEqual([]);
    expect([...new Set(run.executions.map((execution) => execution.item.name))].sort()).toEqual([...expected].sort());
    expect(run.stats.requests.failed).toBe(0);
    expect(run.stats.prerequestScripts.failed).toBe(0);
    expect(run.stats.testScripts.failed).toBe(0);
    expect(run.stats.assertions.failed).toBe(0);
    // Every request asserts something of its own, besides the collection's checks on every answer.
    expect(run.stats.assertions.total).toBeGreaterThan(2 * expected.length);
  });
});
