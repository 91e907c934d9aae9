// Proves `npm run leak-scan` (tools/leak-scan.mjs) on real Redis, Kafka, PostgreSQL and files, run as
// its users run it (a child process on the built libs), restricted to throwaway places of its own
// (a Redis key prefix, a topic, a schema, a log directory with a newman report) so that it neither depends on nor reads
// the shared state. A PAN, a CVV next to its key and a development secret planted in each are
// reported with their location and a masked excerpt; the full PAN is printed nowhere. Look-alikes
// that are not card data (a masked PAN, a Luhn-invalid number, a bare three-digit amount, ciphertext)
// leave a run clean, and a bad option is an error, not a clean result.
import { deleteTopics, ensureTopics, createKafka, kafkaSettingsFromEnv } from '@clearline/messaging';
import { createPool, type Pool } from '@clearline/postgres';
import { DEVELOPMENT_CHANNEL_CREDENTIALS } from '@clearline/contracts';
import { Redis } from 'ioredis';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = randomUUID().slice(0, 8);
const PAN = '4000056655665556';
const MASKED = '400005******5556';
const SECRET = DEVELOPMENT_CHANNEL_CREDENTIALS.e_wallet.secret;
const kafkaSettings = { ...kafkaSettingsFromEnv(`leak-scan-test-${run}`), logLevel: 'nothing' as const };

/** One planted place per source: where the leaks go, and a clean twin next to it. */
const logDirectory = mkdtempSync(join(tmpdir(), `leak-scan-test-${run}-`));
const places = {
  leaky: { redisPrefix: `leak-scan-test:${run}:leaky:`, topic: `leak-scan-test-${run}-leaky`, schema: `leak_scan_${run}_leaky`, logs: join(logDirectory, 'leaky') },
  clean: { redisPrefix: `leak-scan-test:${run}:clean:`, topic: `leak-scan-test-${run}-clean`, schema: `leak_scan_${run}_clean`, logs: join(logDirectory, 'clean') },
};

/** A report as newman's JSON reporter writes it: the request sent (the test's own card) and the answer. */
function newmanReport(answers: { path: string[]; code: number; body: unknown }[]): string {
  return JSON.stringify({
    collection: { item: [{ name: 'pay', request: { body: { raw: JSON.stringify({ card: { number: PAN, cvv: '731' } }) } } }] },
    environment: { values: [{ key: 'secret', value: SECRET }] },
    run: { executions: answers.map(({ path, code, body }) => ({
      item: { name: 'pay' },
      request: { method: 'POST', url: { path }, body: { raw: JSON.stringify({ card: { number: PAN, cvv: '731' } }) } },
      response: { code, header: [{ key: 'content-type', value: 'application/problem+json' }], stream: { type: 'Buffer', data: [...Buffer.from(JSON.stringify(body))] } },
    })) },
  });
}

let redis: Redis;
let pool: Pool;

interface Finding { source: string; location: string; what: string; excerpt: string }
interface ScanResult {
  status: number | null;
  stdout: string;
  summary: { leak_scan: string; findings: number; sources: Record<string, { scanned: Record<string, number>; findings: number }>; errors?: string[] };
  findings: Finding[];
}

function scan(place: (typeof places)['leaky'], ...extra: string[]): Promise<ScanResult> {
  const child = spawn(process.execPath, [
    join(ROOT, 'tools/leak-scan.mjs'), '--sources', 'logs,answers,kafka,postgres,redis', '--databases', 'clearline_test',
    '--schemas', place.schema, '--topics', place.topic, '--redis-prefix', place.redisPrefix, '--log-paths', place.logs,
    '--findings-shown', '100', ...extra,
  ], { env: { ...process.env, DATABASE_URL }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk) => void (stdout += chunk));
  child.stderr.on('data', (chunk) => void (stdout += chunk));
  return new Promise((resolve) => child.on('close', (status) => {
    const lines = stdout.trim().split('\n');
    const findings = lines.filter((line) => line.startsWith('  FOUND ')).map((line) => {
      const [, what, location, excerpt] = /^ {2}FOUND (.+?) in (.+?): (.*)$/.exec(line) ?? [];
      return { source: '', location: location ?? '', what: what ?? '', excerpt: excerpt ?? '' };
    });
    resolve({ status, stdout, summary: JSON.parse(lines.at(-1) ?? '{}'), findings });
  }));
}

beforeAll(async () => {
  redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  pool = createPool({ connectionString: DATABASE_URL });

  // Redis: a JSON blob with the PAN and its CVV (string), and a hash whose field holds the secret.
  await redis.set(`${places.leaky.redisPrefix}payment`, JSON.stringify({ card: { number: PAN, cvv: '731' } }), 'EX', 600);
  await redis.hset(`${places.leaky.redisPrefix}settings`, 'signing', SECRET);
  await redis.expire(`${places.leaky.redisPrefix}settings`, 600);
  // Clean: what the vault legitimately keeps (ciphertext), a masked PAN, and a list of amounts.
  await redis.set(`${places.clean.redisPrefix}vault`, JSON.stringify({ keyId: 'dev-1', iv: randomBytes(12).toString('base64'), data: randomBytes(64).toString('base64') }), 'EX', 600);
  await redis.rpush(`${places.clean.redisPrefix}amounts`, '731', MASKED, '4000056655665557');
  await redis.expire(`${places.clean.redisPrefix}amounts`, 600);

  // Kafka: the PAN grouped by four in a value, the secret in a header.
  await ensureTopics(kafkaSettings, [places.leaky.topic, places.clean.topic], { partitions: 2 });
  const producer = createKafka(kafkaSettings).producer();
  await producer.connect();
  await producer.send({ topic: places.leaky.topic, messages: [
    { key: 'a', value: JSON.stringify({ note: `card ${PAN.match(/.{4}/g)?.join(' ')}` }) },
    { key: 'b', value: '{"ok":true}', headers: { 'x-debug': `secret=${SECRET}` } },
  ] });
  await producer.send({ topic: places.clean.topic, messages: [{ key: 'a', value: JSON.stringify({ amountMinor: '731', card: { last4: '5556', masked: MASKED } }) }] });
  await producer.disconnect();

  // PostgreSQL: the PAN with hyphens in a text column, a CVV in a jsonb column (printed "cvv": "731").
  for (const { schema } of Object.values(places)) {
    await pool.query(`create schema ${schema}`);
    await pool.query(`create table ${schema}.notes (id int primary key, body text, details jsonb)`);
  }
  await pool.query(`insert into ${places.leaky.schema}.notes values (1, $1, '{}'), (2, 'nothing here', '{"card": {"cvv": "731"}}')`, [`paid with ${PAN.match(/.{4}/g)?.join('-')}`]);
  await pool.query(`insert into ${places.clean.schema}.notes values (1, $1, '{"amount": 731, "cvvProvided": true}')`, [`card ${MASKED}`]);

  // Logs: a log line with the PAN as a JSON number, one with a mask that shows the middle digits
  // instead of the first six; the clean log has those six digits as a number of their own.
  // The newman reports: an error body that echoes the card (the leaky one), the OpenAPI document's
  // example card (skipped: documentation), and the requests, which hold the card in both (the test's input).
  for (const place of Object.values(places)) mkdirSync(place.logs);
  writeFileSync(join(places.leaky.logs, 'gateway.log'), `{"level":30,"msg":"ok"}\n{"level":50,"card":${PAN},"msg":"declined"}\n{"level":30,"card":"******${PAN.slice(6, 12)}****"}\n`);
  writeFileSync(join(places.clean.logs, 'gateway.log'), `{"level":30,"card":"${MASKED}","cvv":"***","port":7310,"position":${PAN.slice(6, 12)},"msg":"ok"}\n`);
  writeFileSync(join(places.leaky.logs, 'newman-summary.json'), newmanReport([
    { path: ['v1', 'payments'], code: 422, body: { title: 'Unprocessable', detail: `card ${PAN} was declined` } },
    { path: ['docs', 'openapi.json'], code: 200, body: { example: PAN } },
  ]));
  writeFileSync(join(places.clean.logs, 'newman-summary.json'), newmanReport([{ path: ['v1', 'payments'], code: 422, body: { title: 'Unprocessable', detail: `card ${MASKED} was declined` } }]));
}, 60_000);

afterAll(async () => {
  const keys = await redis.keys(`leak-scan-test:${run}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  for (const { schema } of Object.values(places)) await pool.query(`drop schema if exists ${schema} cascade`);
  await pool.end();
  await deleteTopics(kafkaSettings, [places.leaky.topic, places.clean.topic]);
  rmSync(logDirectory, { recursive: true, force: true });
}, 60_000);

describe('leak scan', () => {
  it('reports each planted leak with its place and a masked excerpt, and exits 1', async () => {
    const result = await scan(places.leaky);

    expect(result.status).toBe(1);
    expect(result.summary.leak_scan).toBe('found');
    const bySource = (source: string) => result.summary.sources[source];
    expect(bySource('redis')).toMatchObject({ findings: 3, scanned: { keys: 2 } });
    expect(bySource('kafka')).toMatchObject({ findings: 2, scanned: { topics: 1, messages: 2 } });
    expect(bySource('postgres')).toMatchObject({ findings: 2, scanned: { rows: 2 } });
    expect(bySource('logs')).toMatchObject({ findings: 2, scanned: { files: 1, lines: 3 } });
    expect(bySource('answers')).toMatchObject({ findings: 1, scanned: { reports: 1, answers: 1, error_answers: 1, documentation_skipped: 1 } });
    expect(result.summary.findings).toBe(10);

    const where = result.findings.map(({ what, location }) => `${what} @ ${location}`);
    expect(where).toEqual(expect.arrayContaining([
      `PAN ${MASKED} (visa) @ string ${places.leaky.redisPrefix}payment`,
      `CVV value (3 digits) next to its key @ string ${places.leaky.redisPrefix}payment`,
      `channel secret of e_wallet @ hash ${places.leaky.redisPrefix}settings field signing`,
      expect.stringMatching(new RegExp(`^PAN ${MASKED.replace(/\*/g, '\\*')} \\(visa\\) @ ${places.leaky.topic}/\\d@\\d+ value$`)),
      expect.stringMatching(new RegExp(`^channel secret of e_wallet @ ${places.leaky.topic}/\\d@\\d+ header x-debug$`)),
      `PAN ${MASKED} (visa) @ clearline_test ${places.leaky.schema}.notes row 1 column body`,
      `CVV value (3 digits) next to its key @ clearline_test ${places.leaky.schema}.notes row 2 column details`,
      `PAN ${MASKED} (visa) @ ${join(places.leaky.logs, 'gateway.log')}:2`,
      `middle digits of PAN ${MASKED} (visa) @ ${join(places.leaky.logs, 'gateway.log')}:3`,
      `PAN ${MASKED} (visa) @ ${join(places.leaky.logs, 'newman-summary.json')} execution 0 ("pay" POST /v1/payments -> 422) body`,
    ]));
    // Excerpts show the surroundings with the card data masked: never the PAN in any rendering,
    // the CVV or the secret, anywhere in the output.
    expect(result.findings.find((finding) => finding.location.endsWith('notes row 1 column body'))?.excerpt).toContain(`paid with [PAN ${MASKED} (visa)]`);
    expect(result.findings.find((finding) => finding.what.startsWith('CVV') && finding.location.includes('notes'))?.excerpt).toContain('"cvv": "***"');
    expect(result.findings.find((finding) => finding.location.includes('field signing'))?.excerpt).toContain(`[${SECRET.slice(0, 4)}…[${SECRET.length} chars]]`);
    for (const rendering of [PAN, '4000 0566 5566 5556', '4000-0566-5566-5556', PAN.slice(6, 12), SECRET, '"731"']) expect(result.stdout).not.toContain(rendering);
  }, 90_000);

  it('leaves masked PANs, Luhn-invalid numbers, bare amounts and ciphertext alone: a clean run says ok and exits 0', async () => {
    const result = await scan(places.clean);

    expect(result.summary).toMatchObject({ leak_scan: 'ok', findings: 0 });
    expect(result.status).toBe(0);
    expect(result.summary.sources['redis']?.scanned).toMatchObject({ keys: 2 });
    expect(result.summary.sources['kafka']?.scanned).toMatchObject({ messages: 1 });
    expect(result.summary.sources['postgres']?.scanned).toMatchObject({ rows: 1 });
    expect(result.summary.sources['logs']?.scanned).toMatchObject({ lines: 1 });
    expect(result.summary.sources['answers']?.scanned).toMatchObject({ answers: 1 });
  }, 90_000);

  it('is an error (exit 2), not a clean result, when it cannot scan what it was asked to', async () => {
    const missingTopic = await scan(places.clean, '--sources', 'kafka', '--topics', `leak-scan-test-${run}-missing`);
    expect(missingTopic.status).toBe(2);
    expect(missingTopic.summary.errors).toEqual([`kafka: topic leak-scan-test-${run}-missing does not exist`]);

    const badOption = await scan(places.clean, '--sources', 'kafka,floppy');
    expect(badOption.status).toBe(2);
    expect(badOption.summary).toMatchObject({ leak_scan: 'error', errors: [expect.stringContaining('unknown floppy')] });
  }, 90_000);
});
