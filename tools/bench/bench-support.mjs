// What the benchmark scripts share: sizes from the command line, the PostgreSQL settings they
// report, the statistics and table they print, and a fresh platform database (bench:e2e, chaos).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

export const KAFKA_PID_FILE = join(root, '.cache/infra/kafka.pid');
const KAFKA_PORT = Number(process.env.KAFKA_PORT ?? 9092);

/** The broker's pid: from deploy/local/infra's pid file, else whoever listens on the broker's port (another checkout's infra). */
export function kafkaPid() {
  if (existsSync(KAFKA_PID_FILE)) {
    const pid = Number(readFileSync(KAFKA_PID_FILE, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0) return pid;
  }
  try {
    const listening = execFileSync('ss', ['-H', '-ltnp', `sport = :${KAFKA_PORT}`], { encoding: 'utf8' });
    const match = /\("java",pid=(\d+)/.exec(listening);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Drops and recreates `database` (a run's own) and applies every migration to it. */
export async function freshDatabase(pg, { adminUrl, database, databaseUrl }) {
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new RangeError(`not a plain database name: '${database}'`);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.query(`create database ${database}`);
  } finally {
    await admin.end();
  }
  execFileSync(process.execPath, [join(root, 'tools/migrate.mjs')], { env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** `--quick` picks the quick sizes, `--reps=N` overrides the repetitions. */
export function benchSize(argv, sizes) {
  const quick = argv.includes('--quick');
  const size = { ...(quick ? sizes.quick : sizes.full) };
  const repsArgument = argv.find((argument) => argument.startsWith('--reps='));
  if (repsArgument !== undefined) size.reps = Math.max(1, Number.parseInt(repsArgument.slice('--reps='.length), 10) || size.reps);
  return { quick, size };
}

/** The server settings that decide append speed, for the report. */
export async function postgresSettings(client) {
  const settings = await client.query(
    `select current_setting('server_version') as version, current_setting('fsync') as fsync,
            current_setting('synchronous_commit') as synchronous_commit, current_setting('shared_buffers') as shared_buffers`,
  );
  return settings.rows[0];
}

/** Nearest-rank percentile of an ascending array; NaN for none. */
export function percentile(sorted, p) {
  return sorted.length === 0 ? Number.NaN : sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Whole numbers from 100 up, one decimal below. */
export function round(value) {
  return value >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
}

export function fmt(value) {
  return round(value).toLocaleString('en-US');
}

/** A Markdown table: the first column left-aligned, the others right-aligned. */
export function printTable(header, lines) {
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
  const format = (cells) => `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join(' | ')} |`;
  console.log(format(header));
  console.log(`|${widths.map((width, column) => (column === 0 ? ` ${'-'.repeat(width)} ` : ` ${'-'.repeat(width - 1)}: `)).join('|')}|`);
  for (const line of lines) console.log(format(line));
}

/**
 * Deletes every topic and consumer group of a Kafka namespace (`<namespace>.`), so a benchmark
 * leaves nothing on the shared broker: tens of MB of bench records slowed every later reader of
 * all topics (the leak scan after the test suite). Best effort: a failure is reported, not thrown.
 */
export async function deleteNamespaceFromKafka(namespace) {
  const { createKafka, kafkaSettingsFromEnv, silentLogger } = await import('@clearline/messaging');
  const prefix = `${namespace}.`;
  const admin = createKafka({ ...kafkaSettingsFromEnv('clearline-bench-cleanup'), logLevel: 'nothing' }, silentLogger).admin();
  try {
    await admin.connect();
    const { groups } = await admin.listGroups();
    const groupIds = groups.map((group) => group.groupId).filter((groupId) => groupId.startsWith(prefix));
    if (groupIds.length > 0) await admin.deleteGroups(groupIds).catch(() => undefined);
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    return { topics: topics.length, groups: groupIds.length };
  } catch (error) {
    console.error(`could not delete Kafka namespace '${namespace}': ${error instanceof Error ? error.message : error}`);
    return { topics: 0, groups: 0 };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
