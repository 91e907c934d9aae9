// `npm run leak-scan [-- options]`: after the whole test suite, proves that no card data and no secret
// escaped into what the suite and the platform left behind. It searches
//
// - logs: every file under .cache/logs/** (startPlatform's service logs) and every os.tmpdir() entry
//   named clearline-* (the LOG_FILE targets the gateway's integration tests write, when kept);
// - kafka: every message (value, key, headers) of every topic, from the beginning up to the high
//   watermark read when the scan started (so it terminates while others keep publishing);
// - postgres: `pg_dump --data-only` of each database (default clearline_test and clearline), streamed;
// - redis: every key and every value of every type (string, hash, list, set, zset, stream). The card
//   vault keeps card data there on purpose, encrypted: its blobs must not hold the plaintext either.
//
// for
//
// - the test PANs: every 13-19 digit, Luhn-valid number of a known brand in apps/**/*.spec.ts and
//   libs/**/*.spec.ts (grouped ones too), plus the well-known test cards, in each rendering
//   panRenderings gives (digits, groups of four with spaces or hyphens) and Amex's 4-6-5 grouping;
//   the middle digits (what a mask must hide) only where a mask shows them: next to a mask character
//   (* • # X) or to the PAN's own first six or last four, e.g. "****665566****" or "400005665566****".
//   On their own, five or six digits are every event store's global positions and amounts (a run
//   with a few hundred thousand events holds each six-digit middle as a position); middles equal to
//   the first six (424242 in 4242424242424242) are what a correct mask shows, so they are skipped;
// - a CVV: any 3-4 digit value next to a cvv/cvc/securityCode key (JSON, escaped JSON, key=value).
//   A bare three-digit number is everywhere (amounts, ports, line numbers), so the key is what makes
//   a finding precise; textHoldsCardData's bare-CVV search is therefore not used here;
// - secrets: the development channel secrets (DEVELOPMENT_CHANNEL_CREDENTIALS), the development card
//   vault and fingerprint keys (base64, base64url and hex), the same variables when set in this
//   environment, and any plaintext webhook signing secret (whsec_…: the gateway keeps them encrypted).
//   Channel secrets may live in a config file or the environment; never in logs, topics, PG or Redis.
//
// - answers: the HTTP answers (status, headers, body; error bodies included) the Postman e2e run
//   records in its newman JSON report (.cache/logs/**/newman*.json, apps/platform-e2e
//   postman.e2e.spec.ts). Only the answers: the report also holds the collection, its environment
//   (the development channel secrets it signs with) and the requests, which are the test's own
//   input and hold the test card on purpose; so the logs source skips these files. The other tests
//   keep answers in memory (libs/testing gatewayClient hands them to the test): nothing to scan.
//   The answers of /docs/* (the OpenAPI document) are skipped and counted: the published API
//   description shows the public test card 4242… as the example of a card number, on purpose.
//
// Options: --sources logs,answers,kafka,postgres,redis  --databases clearline_test,clearline  --schemas a,b
// --topics a,b  --redis-prefix p  --log-paths file-or-dir,...  --findings-shown N (default 20 per source).
// DATABASE_URL's server (not its database) is used, KAFKA_BROKERS and REDIS_URL as the services do.
// Prints per source what was scanned and each finding (location, masked excerpt), then one JSON line
// {leak_scan: 'ok'|'found'|'error', sources, findings}. Exit 0 clean, 1 on findings, 2 on errors.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALL_SOURCES = ['logs', 'answers', 'kafka', 'postgres', 'redis'];
const DEFAULT_DATABASES = ['clearline_test', 'clearline'];
const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/clearline_test';
/** Test cards that may not be written as a literal in a spec (built from parts, or used by tools). */
const KNOWN_TEST_PANS = [
  '4242424242424242', '4000056655665556', '4111111111111111', '5555555555554444', '5105105105105100',
  '378282246310005', '371449635398431', '6011111111111117', '3566002020360505', '4000000000000002',
];
/** No batch for this long ends the read: 5 s was too short on a loaded 2-core machine (a 20 MB fetch of 28 topics stalled that long). */
const KAFKA_IDLE_MS = 20_000;
const KAFKA_DEADLINE_MS = 90_000;

function parseArguments(argv) {
  const options = {
    sources: ALL_SOURCES, databases: DEFAULT_DATABASES, schemas: [], topics: undefined, redisPrefix: '',
    logPaths: undefined, findingsShown: 20,
  };
  const list = (text, name) => {
    const items = (text ?? '').split(',').map((item) => item.trim()).filter(Boolean);
    if (items.length === 0) throw new RangeError(`${name} needs a comma-separated list`);
    return items;
  };
  for (let index = 0; index < argv.length; index += 1) {
    const [flag, inline] = argv[index].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++index];
    switch (flag) {
      case '--sources': {
        options.sources = list(value(), flag);
        const unknown = options.sources.filter((source) => !ALL_SOURCES.includes(source));
        if (unknown.length > 0) throw new RangeError(`--sources: unknown ${unknown.join(', ')} (known: ${ALL_SOURCES.join(', ')})`);
        break;
      }
      case '--databases': options.databases = list(value(), flag); break;
      case '--schemas': options.schemas = list(value(), flag); break;
      case '--topics': options.topics = list(value(), flag); break;
      case '--redis-prefix': options.redisPrefix = value() ?? ''; break;
      case '--log-paths': options.logPaths = list(value(), flag); break;
      case '--findings-shown': {
        const shown = Number(value());
        if (!Number.isInteger(shown) || shown < 0) throw new RangeError('--findings-shown must be a whole number');
        options.findingsShown = shown;
        break;
      }
      default: throw new RangeError(`unknown option '${argv[index]}' (see the header of tools/leak-scan.mjs)`);
    }
  }
  return options;
}

// ---------------------------------------------------------------------------------------------------
// What is forbidden

function specFiles(directory, found = []) {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) specFiles(path, found);
    else if (entry.name.endsWith('.spec.ts')) found.push(path);
  }
  return found;
}

/** Luhn-valid numbers of a known brand and length, written in the specs as digits or in groups. */
function testPansFromSpecs(cards) {
  const pans = new Set();
  for (const area of ['apps', 'libs']) {
    for (const file of specFiles(join(ROOT, area))) {
      let text;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue; // deleted while we listed the directory
      }
      for (const [candidate] of text.matchAll(/(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])/g)) {
        const pan = candidate.replace(/[ -]/g, '');
        const brand = cards.cardBrandOf(pan);
        if (brand !== 'unknown' && cards.PAN_LENGTHS[brand].includes(pan.length) && cards.luhnValid(pan)) pans.add(pan);
      }
    }
  }
  return pans;
}

const maskPan = (pan) => `${pan.slice(0, 6)}${'*'.repeat(pan.length - 10)}${pan.slice(-4)}`;
const maskSecret = (secret) => `${secret.slice(0, 4)}…[${secret.length} chars]`;
const MASK_CHARACTER = '[*•#X]';
/** The middle digits beside a mask character or the PAN's own first six or last four, on at least one side. */
function maskedMiddle(middle, first, last) {
  const cardLeft = `(?<=${MASK_CHARACTER}[ -]?|(?<![0-9])${first}[ -]?)`;
  const cardRight = `(?=[ -]?${MASK_CHARACTER}|[ -]?${last}(?![0-9]))`;
  return `${cardLeft}${middle}(?:${cardRight}|(?![0-9]))|(?<![0-9])${middle}${cardRight}`;
}
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function forbiddenCatalogue() {
  const cards = await import('@clearline/cards');
  const { DEVELOPMENT_CHANNEL_CREDENTIALS } = await import('@clearline/contracts');
  const pans = new Set([...KNOWN_TEST_PANS.filter((pan) => cards.luhnValid(pan)), ...testPansFromSpecs(cards)]);
  /** Literal text -> what it is (masked: this map's values are what findings print). */
  const literals = new Map();
  const middles = new Map();
  for (const pan of pans) {
    const [digits, spaced, dashed, middle] = cards.panRenderings(pan);
    const label = `PAN ${maskPan(pan)} (${cards.cardBrandOf(pan)})`;
    for (const rendering of [digits, spaced, dashed]) literals.set(rendering, label);
    if (pan.length === 15) {
      const amexGroups = [pan.slice(0, 4), pan.slice(4, 10), pan.slice(10)];
      literals.set(amexGroups.join(' '), label);
      literals.set(amexGroups.join('-'), label);
    }
    if (middle !== pan.slice(0, 6)) middles.set(middle, { label: `middle digits of ${label}`, panLabel: label, first: pan.slice(0, 6), last: pan.slice(-4) });
  }
  const secretLabels = new Map();
  for (const [channel, { secret }] of Object.entries(DEVELOPMENT_CHANNEL_CREDENTIALS)) secretLabels.set(secret, `channel secret of ${channel}`);
  const keyMaterial = (name, base64) => {
    const bytes = Buffer.from(base64, 'base64');
    if (bytes.length < 16) return;
    for (const rendering of [base64, bytes.toString('base64url'), bytes.toString('hex')]) secretLabels.set(rendering, name);
  };
  const vaultKeys = (text, origin) => {
    for (const entry of (text ?? '').split(',')) {
      const [keyId, base64] = entry.split(':');
      if (base64) keyMaterial(`card vault key ${keyId.trim()} (${origin})`, base64.trim());
    }
  };
  const development = cards.DEVELOPMENT_CARD_VAULT_ENVIRONMENT;
  vaultKeys(development.CARD_VAULT_KEYS, 'development');
  keyMaterial('card fingerprint key (development)', development.CARD_FINGERPRINT_KEY);
  vaultKeys(process.env.CARD_VAULT_KEYS, 'environment');
  if (process.env.CARD_FINGERPRINT_KEY) keyMaterial('card fingerprint key (environment)', process.env.CARD_FINGERPRINT_KEY);
  if (process.env.GATEWAY_CHANNEL_SECRETS_KEY) keyMaterial('gateway channel secrets key (environment)', process.env.GATEWAY_CHANNEL_SECRETS_KEY);
  for (const [secret, label] of secretLabels) literals.set(secret, label);

  // The PAN renderings and secrets go through the card library's own matcher; the context-bound
  // patterns (middle digits, CVV next to its key, webhook secrets) through regular expressions.
  const probe = { forbidden: [...literals.keys()] };
  // textHoldsCardData tries each string in turn (about 70 of them): one alternation of the same
  // strings runs through a text seven times faster, so it decides which texts the matcher sees.
  const anyLiteral = new RegExp([...literals.keys()].map(escapeRegExp).join('|'));
  // Case matters for the mask characters (X, not the x of 0x665566): the middles have their own.
  const maskedMiddles = new RegExp(`(?<middle>${[...middles].map(([middle, { first, last }]) => maskedMiddle(middle, first, last)).join('|') || '(?!)'})`, 'g');
  const bounded = new RegExp([
    // "cvv":"731", \"cvv\": 731, cvv=731, 'securityCode': '7310' (any quoting, JSON escaped or not)
    String.raw`(?<cvv>(?<![A-Za-z0-9_])(?:cvv2?|cvc2?|card_?verification_?(?:value|code)|security_?code)\\*["']?\s*[:=]\s*\\*["']?(?<cvvDigits>[0-9]{3,4})(?![0-9A-Za-z]))`,
    String.raw`(?<webhook>whsec_[A-Za-z0-9_-]{43})`,
  ].join('|'), 'gi');
  return { pans, probe, anyLiteral, anyMiddle: new RegExp([...middles.keys()].join('|') || '(?!)', 'g'), literals, middles, maskedMiddles, bounded, holdsCardData: cards.textHoldsCardData, secrets: secretLabels.size };
}

/** Masks every forbidden thing in an excerpt, and any other long digit run cut at its edges. */
function redact(excerpt, catalogue) {
  let text = excerpt;
  for (const [literal, label] of catalogue.literals) {
    if (text.includes(literal)) text = text.split(literal).join(label.startsWith('PAN ') ? `[${label}]` : `[${maskSecret(literal)}]`);
  }
  return text
    .replace(/whsec_[A-Za-z0-9_-]{43}/g, (secret) => `[${maskSecret(secret)}]`)
    .replace(/((?:cvv2?|cvc2?|card_?verification_?(?:value|code)|security_?code)\\*["']?\s*[:=]\s*\\*["']?)[0-9]{3,4}/gi, '$1***')
    .replace(catalogue.anyMiddle, '[middle digits]')
    .replace(/[0-9](?:[ -]?[0-9]){11,}/g, (digits) => (digits.length > 12 && !digits.includes('[') ? `${digits.slice(0, 6)}…${digits.slice(-4)}` : digits));
}

// ---------------------------------------------------------------------------------------------------
// Findings

/**
 * An excerpt's bounds, moved outwards so that they cut no token (a PAN, grouped or not, a base64
 * secret): a token cut in half would escape the masking and show part of what it hides.
 */
function excerptBounds(text, start, end) {
  const token = (at) => /[A-Za-z0-9+/=_-]/.test(text[at] ?? '') || (/[ ]/.test(text[at] ?? '') && /[0-9]/.test(text[at - 1] ?? '') && /[0-9]/.test(text[at + 1] ?? ''));
  let from = Math.max(0, start);
  let to = Math.min(text.length, end);
  while (from > 0 && token(from - 1) && token(from)) from -= 1;
  while (to < text.length && token(to) && token(to - 1)) to += 1;
  return [from, to];
}

/** The forbidden things in one text, one per kind (enough to locate whatever wrote it). */
function hitsIn(text, catalogue) {
  if (text.length === 0) return [];
  const hits = [];
  if (catalogue.anyLiteral.test(text) && catalogue.holdsCardData(text, catalogue.probe)) {
    for (const [literal, label] of catalogue.literals) {
      const at = text.indexOf(literal);
      if (at >= 0) hits.push({ what: label, at, length: literal.length });
    }
  }
  for (const match of text.matchAll(catalogue.maskedMiddles)) {
    const { label, panLabel } = catalogue.middles.get(match[0]);
    // The full PAN holds its middle too: one finding for it is enough.
    if (!hits.some((hit) => hit.what === panLabel)) hits.push({ what: label, at: match.index, length: match[0].length });
  }
  for (const match of text.matchAll(catalogue.bounded)) {
    const { cvv, cvvDigits } = match.groups;
    const what = cvv !== undefined ? `CVV value (${cvvDigits.length} digits) next to its key` : 'plaintext webhook signing secret';
    hits.push({ what, at: match.index, length: match[0].length });
  }
  const seen = new Set();
  return hits.filter((hit) => !seen.has(hit.what) && seen.add(hit.what));
}

class Report {
  constructor(catalogue, findingsShown) {
    this.catalogue = catalogue;
    this.findingsShown = findingsShown;
    this.sources = {};
    this.findings = [];
    this.errors = [];
  }

  source(name) {
    this.sources[name] ??= { scanned: {}, findings: 0, ms: 0 };
    return this.sources[name];
  }

  /** Searches one text; `where` names it (file:line, topic/partition@offset, table row, key). */
  inspect(sourceName, where, text, detail = () => '') {
    for (const hit of hitsIn(text, this.catalogue)) {
      const location = `${where}${detail(hit)}`;
      const [from, to] = excerptBounds(text, hit.at - 60, hit.at + hit.length + 60);
      const excerpt = redact(`${from > 0 ? '…' : ''}${text.slice(from, to)}${to < text.length ? '…' : ''}`, this.catalogue).replace(/\s+/g, ' ');
      const finding = { source: sourceName, location, what: hit.what, excerpt };
      this.findings.push(finding);
      const source = this.source(sourceName);
      source.findings += 1;
      if (source.findings <= this.findingsShown) console.log(`  FOUND ${hit.what} in ${location}: ${excerpt}`);
      else if (source.findings === this.findingsShown + 1) console.log(`  (more findings in ${sourceName} counted, not shown; --findings-shown N shows more)`);
    }
  }

  error(sourceName, message) {
    this.errors.push(`${sourceName}: ${message}`);
    this.source(sourceName).error = message;
    console.log(`  ERROR ${sourceName}: ${message}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Sources

function filesUnder(path, found = []) {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return found; // removed meanwhile (tests delete their log files when done)
  }
  if (stats.isDirectory()) for (const entry of readdirSync(path)) filesUnder(join(path, entry), found);
  else if (stats.isFile()) found.push(path);
  return found;
}

/** newman's JSON reporter output (see the answers source). */
const isNewmanReport = (file) => /^newman.*\.json$/.test(file.slice(file.lastIndexOf('/') + 1));

function logFiles(options) {
  const roots = options.logPaths ?? [
    join(ROOT, '.cache/logs'),
    ...readdirSync(tmpdir()).filter((name) => name.startsWith('clearline-')).map((name) => join(tmpdir(), name)),
  ];
  return roots.flatMap((path) => filesUnder(path));
}

const shortName = (file) => (file.startsWith(ROOT) ? relative(ROOT, file) : file);

async function scanLogs(report, options) {
  const source = report.source('logs');
  const files = logFiles(options).filter((file) => !isNewmanReport(file));
  let bytes = 0;
  let lines = 0;
  for (const file of files) {
    const name = shortName(file);
    const input = createReadStream(file, { encoding: 'utf8' });
    input.on('data', (chunk) => void (bytes += Buffer.byteLength(chunk)));
    let lineNumber = 0;
    try {
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        lineNumber += 1;
        report.inspect('logs', `${name}:${lineNumber}`, line);
      }
    } catch (error) {
      if (error.code !== 'ENOENT') report.error('logs', `${name}: ${error.message}`);
    }
    lines += lineNumber;
  }
  Object.assign(source.scanned, { files: files.length, bytes, lines });
}

async function scanAnswers(report, options) {
  const source = report.source('answers');
  const counts = { reports: 0, answers: 0, error_answers: 0, bytes: 0, documentation_skipped: 0 };
  for (const file of logFiles(options).filter(isNewmanReport)) {
    let summary;
    try {
      summary = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      if (error.code !== 'ENOENT') report.error('answers', `${shortName(file)}: ${error.message}`);
      continue;
    }
    counts.reports += 1;
    (summary.run?.executions ?? []).forEach((execution, index) => {
      const { request, response } = execution;
      if (!response) return;
      const path = `/${[request?.url?.path ?? []].flat().join('/')}`;
      if (path.startsWith('/docs/')) return void (counts.documentation_skipped += 1);
      const where = `${shortName(file)} execution ${index} (${JSON.stringify(execution.item?.name ?? '?')} ${request?.method ?? '?'} ${path} -> ${response.code})`;
      const body = Buffer.from(response.stream?.data ?? []).toString('utf8');
      const headers = (response.header ?? []).map(({ key, value }) => `${key}: ${value}`).join('\n');
      counts.answers += 1;
      if (response.code >= 400) counts.error_answers += 1;
      counts.bytes += body.length + headers.length;
      report.inspect('answers', `${where} body`, body);
      report.inspect('answers', `${where} headers`, headers);
    });
  }
  Object.assign(source.scanned, counts);
}

async function scanKafka(report, options) {
  const source = report.source('kafka');
  const { createKafka, kafkaSettingsFromEnv } = await import('@clearline/messaging');
  const kafka = createKafka({ ...kafkaSettingsFromEnv('clearline-leak-scan'), logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `clearline-leak-scan-${randomUUID()}`;
  let consumer;
  try {
    const existing = await admin.listTopics();
    const topics = (options.topics ?? existing.filter((topic) => !topic.startsWith('__'))).filter((topic) => {
      if (existing.includes(topic)) return true;
      report.error('kafka', `topic ${topic} does not exist`);
      return false;
    });
    // What is left to read per partition: from the low to the high watermark seen now.
    const remaining = new Map();
    for (const topic of topics) {
      for (const { partition, low, high } of await admin.fetchTopicOffsets(topic)) {
        if (BigInt(high) > BigInt(low)) remaining.set(`${topic}/${partition}`, BigInt(high) - 1n);
      }
    }
    const withMessages = [...new Set([...remaining.keys()].map((key) => key.slice(0, key.lastIndexOf('/'))))];
    Object.assign(source.scanned, { topics: topics.length, topics_with_messages: withMessages.length, partitions: remaining.size, messages: 0, bytes: 0 });
    if (remaining.size === 0) return;

    consumer = kafka.consumer({ groupId, maxBytes: 20 * 1024 * 1024, maxBytesPerPartition: 5 * 1024 * 1024, maxWaitTimeInMs: 200, allowAutoTopicCreation: false });
    await consumer.connect();
    await consumer.subscribe({ topics: withMessages, fromBeginning: true });
    let lastProgress = Date.now();
    const finished = new Promise((resolve) => {
      const started = Date.now();
      const timer = setInterval(() => {
        const idle = Date.now() - lastProgress > KAFKA_IDLE_MS;
        if (remaining.size === 0 || idle || Date.now() - started > KAFKA_DEADLINE_MS) {
          clearInterval(timer);
          resolve();
        }
      }, 100);
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        const key = `${batch.topic}/${batch.partition}`;
        const last = remaining.get(key);
        if (last === undefined) return;
        for (const message of batch.messages) {
          if (BigInt(message.offset) > last) break;
          const where = `${batch.topic}/${batch.partition}@${message.offset}`;
          source.scanned.messages += 1;
          source.scanned.bytes += (message.value?.length ?? 0) + (message.key?.length ?? 0);
          const parts = [
            ...(message.key ? [[`${where} key`, message.key.toString('utf8')]] : []),
            ...(message.value ? [[`${where} value`, message.value.toString('utf8')]] : []),
            ...Object.entries(message.headers ?? {}).flatMap(([name, header]) => [header].flat()
              .filter((part) => part !== undefined && part !== null)
              .map((part) => [`${where} header ${name}`, `${name}: ${part.toString()}`])),
          ];
          // One search over the whole message; only a message with something in it is searched
          // part by part, to say where.
          if (hitsIn(parts.map(([, text]) => text).join('\n'), report.catalogue).length === 0) continue;
          for (const [partWhere, text] of parts) report.inspect('kafka', partWhere, text);
        }
        lastProgress = Date.now();
        // lastOffset() also counts offsets compaction left without a message.
        if (BigInt(batch.lastOffset()) >= last) remaining.delete(key);
      },
    });
    await finished;
    if (remaining.size > 0) {
      report.error('kafka', `stopped with ${remaining.size} partition(s) not read to their high watermark (${[...remaining.keys()].slice(0, 5).join(', ')}): no progress for ${KAFKA_IDLE_MS} ms`);
    }
  } finally {
    await consumer?.disconnect().catch(() => undefined);
    // The group was only a way to read; it must not linger among the platform's groups.
    if (consumer) await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

function databaseUrl(database) {
  const url = new URL(process.env.DATABASE_URL ?? DEFAULT_SERVER_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** One pg_dump run, streamed line by line; resolves with pg_dump's exit code and error text. */
function dumpDatabase(report, database, options, counts) {
  const args = ['--data-only', '--no-owner', '--no-privileges', '--lock-wait-timeout=10s', `--dbname=${databaseUrl(database)}`];
  for (const schema of options.schemas) args.push(`--schema=${schema}`);
  const child = spawn('pg_dump', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => void (stderr += chunk));
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => void (counts.bytes += Buffer.byteLength(chunk)));
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  return (async () => {
    let table;
    let columns = [];
    let row = 0;
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      if (table === undefined) {
        const copy = /^COPY (\S+) \((.*)\) FROM stdin;$/.exec(line);
        if (copy) {
          [table, columns, row] = [copy[1], copy[2].split(', ').map((column) => column.replace(/^"|"$/g, '')), 0];
          counts.tables += 1;
        }
        continue;
      }
      if (line === '\\.') {
        table = undefined;
        continue;
      }
      row += 1;
      counts.rows += 1;
      // The column of a finding, from the COPY text format's tab-separated values.
      report.inspect('postgres', `${database} ${table} row ${row}`, line, (hit) => {
        const column = line.split('\t').findIndex((value) => hitsIn(value, report.catalogue).some((other) => other.what === hit.what));
        return column >= 0 ? ` column ${columns[column]}` : '';
      });
    }
    return { code: await exited, stderr: stderr.trim() };
  })();
}

async function scanPostgres(report, options) {
  const source = report.source('postgres');
  const counts = { databases: 0, tables: 0, rows: 0, bytes: 0 };
  for (const database of options.databases) {
    // Other people's tests create and drop schemas while the dump runs; pg_dump then fails to lock a
    // table that is gone. A second attempt sees the new catalogue.
    let result;
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const attemptCounts = { tables: 0, rows: 0, bytes: 0 };
      const findingsBefore = report.findings.length;
      result = await dumpDatabase(report, database, options, attemptCounts);
      if (result.code === 0) {
        counts.tables += attemptCounts.tables;
        counts.rows += attemptCounts.rows;
        counts.bytes += attemptCounts.bytes;
        break;
      }
      // A failed attempt's findings are dropped: the next attempt finds them again.
      const dropped = report.findings.splice(findingsBefore);
      source.findings -= dropped.length;
    }
    if (result.code !== 0) report.error('postgres', `pg_dump ${database} failed (exit ${result.code}): ${result.stderr.slice(0, 300)}`);
    else counts.databases += 1;
  }
  Object.assign(source.scanned, counts);
}

async function scanRedis(report, options) {
  const source = report.source('redis');
  const { Redis } = await import('ioredis');
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  const counts = { keys: 0, values: 0, bytes: 0, by_type: {} };
  const text = (where, value) => {
    if (value === null || value === undefined) return;
    const content = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
    counts.values += 1;
    counts.bytes += content.length;
    report.inspect('redis', where, content);
  };
  try {
    let cursor = '0';
    const match = `${options.redisPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    do {
      const [next, keys] = await redis.scanBuffer(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next.toString();
      if (keys.length === 0) continue;
      const types = await keys.reduce((pipeline, key) => pipeline.type(key), redis.pipeline()).exec();
      const reads = redis.pipeline();
      const plan = [];
      keys.forEach((key, index) => {
        const type = types[index][1];
        counts.by_type[type] = (counts.by_type[type] ?? 0) + 1;
        if (type === 'string') reads.getBuffer(key);
        else if (type === 'hash') reads.hgetallBuffer(key);
        else if (type === 'list') reads.lrangeBuffer(key, 0, -1);
        else if (type === 'set') reads.smembersBuffer(key);
        else if (type === 'zset') reads.zrangeBuffer(key, 0, -1, 'WITHSCORES');
        else if (type === 'stream') reads.xrangeBuffer(key, '-', '+');
        else return; // 'none': expired between SCAN and TYPE
        plan.push({ key, type });
      });
      const values = await reads.exec();
      plan.forEach(({ key, type }, index) => {
        const name = key.toString('utf8');
        counts.keys += 1;
        text(`key ${name}`, name);
        const [error, value] = values[index];
        if (error) return void report.error('redis', `${type} ${name}: ${error.message}`);
        const where = `${type} ${name}`;
        if (type === 'string') text(where, value);
        else if (type === 'hash') for (const [field, fieldValue] of Object.entries(value ?? {})) text(`${where} field ${field}`, `${field}: ${fieldValue.toString('utf8')}`);
        else if (type === 'stream') for (const [id, fields] of value ?? []) text(`${where} entry ${id}`, fields.map((part) => part.toString('utf8')).join(' '));
        else for (const member of value ?? []) text(where, member);
      });
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  Object.assign(source.scanned, counts);
}

// ---------------------------------------------------------------------------------------------------

async function main() {
  let options;
  try {
    options = parseArguments(process.argv.slice(2));
  } catch (error) {
    console.error(error.message);
    console.log(JSON.stringify({ leak_scan: 'error', sources: {}, findings: 0, errors: [error.message] }));
    process.exit(2);
  }
  const started = performance.now();
  let catalogue;
  try {
    catalogue = await forbiddenCatalogue();
  } catch (error) {
    console.error(`cannot build the list of forbidden strings (are the libs built? node tools/build.mjs): ${error.stack}`);
    console.log(JSON.stringify({ leak_scan: 'error', sources: {}, findings: 0, errors: [error.message] }));
    process.exit(2);
  }
  console.log(`leak scan: ${catalogue.pans.size} test PANs (${[...catalogue.pans].map(maskPan).join(', ')}), ${catalogue.secrets} secret renderings, CVVs next to their key`);
  const report = new Report(catalogue, options.findingsShown);
  const scanners = { logs: scanLogs, answers: scanAnswers, kafka: scanKafka, postgres: scanPostgres, redis: scanRedis };
  for (const name of options.sources) {
    console.log(`== ${name}`);
    const source = report.source(name);
    const sourceStarted = performance.now();
    try {
      await scanners[name](report, options);
    } catch (error) {
      report.error(name, error.message);
    }
    source.ms = Math.round(performance.now() - sourceStarted);
    console.log(`  scanned ${JSON.stringify(source.scanned)} in ${source.ms} ms: ${source.findings} finding(s)`);
  }
  const verdict = report.errors.length > 0 ? 'error' : report.findings.length > 0 ? 'found' : 'ok';
  const summary = {
    leak_scan: verdict === 'error' && report.findings.length > 0 ? 'found' : verdict,
    sources: report.sources,
    findings: report.findings.length,
    ...(report.errors.length > 0 ? { errors: report.errors } : {}),
    ms: Math.round(performance.now() - started),
  };
  console.log(JSON.stringify(summary));
  process.exit(report.errors.length > 0 ? 2 : report.findings.length > 0 ? 1 : 0);
}

await main();
