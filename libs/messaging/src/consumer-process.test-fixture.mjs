// A MessageConsumer in a process of its own, for the integration test that kills one in the middle of
// a chunk (message-consumer.int.spec.ts). It runs the TypeScript sources as Jest does: a module hook
// resolves @clearline/* to libs/*/src and compiles .ts with swc. Each handler call writes a row to the
// test's effects table through the chunk's transaction; the HANG_AT-th call says so on stdout and never
// returns, so the test can SIGKILL the process while that transaction is open.
//
// Environment: CHILD_TOPIC, CHILD_GROUP, CHILD_EFFECTS_TABLE, CHILD_APPLICATION_NAME, CHILD_HANG_AT,
// CHILD_MESSAGES_PER_TRANSACTION, DATABASE_URL, KAFKA_BROKERS.
import { existsSync, readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transformSync } from '@swc/core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2024',
    keepClassNames: true,
  },
  module: { type: 'es6' },
};

registerHooks({
  resolve(specifier, context, nextResolve) {
    const library = /^@clearline\/([a-z-]+)$/.exec(specifier);
    if (library) return { url: pathToFileURL(join(root, 'libs', library[1], 'src', 'index.ts')).href, shortCircuit: true };
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      const source = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
      if (existsSync(source)) return { url: source.href, shortCircuit: true };
    }
    return nextResolve(specifier, context);
  },
  load(url, context, nextLoad) {
    if (!url.endsWith('.ts')) return nextLoad(url, context);
    const filename = fileURLToPath(url);
    const { code } = transformSync(readFileSync(filename, 'utf8'), { ...swcOptions, filename });
    return { format: 'module', source: code, shortCircuit: true };
  },
});

const { kafkaSettingsFromEnv, MessageConsumer } = await import('@clearline/messaging');
const { default: pg } = await import('pg');

const environment = (name) => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`consumer process: ${name} is not set`);
  return value;
};
const effectsTable = environment('CHILD_EFFECTS_TABLE');
if (!/^[a-z0-9_]+$/.test(effectsTable)) throw new Error(`consumer process: bad table name ${effectsTable}`);
const hangAt = Number(environment('CHILD_HANG_AT'));

const pool = new pg.Pool({ connectionString: environment('DATABASE_URL'), max: 2, application_name: environment('CHILD_APPLICATION_NAME') });
let calls = 0;
const consumer = new MessageConsumer({
  settings: { ...kafkaSettingsFromEnv('messaging-consumer-process'), logLevel: 'error' },
  groupId: environment('CHILD_GROUP'),
  topics: [environment('CHILD_TOPIC')],
  pool,
  maxMessagesPerTransaction: Number(environment('CHILD_MESSAGES_PER_TRANSACTION')),
  // Short, so the group hears of this member's death soon after the test kills it.
  sessionTimeoutMs: 8_000,
  handlerTimeoutMs: 7_000,
  handle: async (envelope, context) => {
    await context.client.query(`insert into ${effectsTable} (message_id, attempt, consumer) values ($1, $2, 'killed')`, [envelope.id, context.attempt]);
    calls += 1;
    if (calls === hangAt) {
      process.stdout.write(`hanging at ${envelope.id}\n`);
      await new Promise(() => undefined);
    }
  },
});
await consumer.start();
process.stdout.write('started\n');
