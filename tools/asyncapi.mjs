// Generates docs/asyncapi.yaml (AsyncAPI 3.0) from the contracts registry: every topic (and its
// dead-letter twin) as a channel, every contract as a message whose payload is the envelope with the
// contract's JSON Schema as its data, its Kafka key and its headers. The output is deterministic
// (registry order, no dates), so a unit test (libs/contracts/src/asyncapi.spec.ts) can compare the
// committed file with a fresh rendering and fail when they drift.
//
//   npm run docs:asyncapi            build, then write docs/asyncapi.yaml
//   node tools/asyncapi.mjs --check  exit 1 when the committed file is out of date (after a build)
//
// Run by Node it reads the built libraries (dist/); under Jest the same imports resolve to src/.
import { CONTRACTS, MessageHeaders, Topics, UUID_PATTERN, deadLetterTopicOf } from '@clearline/contracts';
import { CONTENT_TYPE_JSON, DeadLetterHeaders } from '@clearline/messaging';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const ASYNCAPI_DOCUMENT_PATH = join(root, 'docs/asyncapi.yaml');
export const ASYNCAPI_REGENERATE_COMMAND = 'npm run docs:asyncapi';

/** The document as data. */
export function asyncApiDocument() {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const topics = Object.entries(Topics);
  const channels = {};
  const operations = {};
  for (const [name, address] of topics) {
    const contracts = CONTRACTS.filter((contract) => contract.topic === address);
    channels[name] = {
      address,
      title: address,
      description: topicDescription(address),
      messages: Object.fromEntries(contracts.map((contract) => [contract.type, { $ref: `#/components/messages/${contract.type}` }])),
    };
    channels[`${name}DeadLetter`] = {
      address: deadLetterTopicOf(address),
      title: deadLetterTopicOf(address),
      description: `What the consumers of ${address} could not accept: the original record (key, value and headers unchanged) plus the dlq-* headers saying why.`,
      messages: { DeadLetterRecord: { $ref: '#/components/messages/DeadLetterRecord' } },
    };
    // The document describes the platform as one application: it receives commands and sends events.
    const receives = address.endsWith('.commands');
    operations[`${receives ? 'receive' : 'send'}${name[0].toUpperCase()}${name.slice(1)}`] = {
      action: receives ? 'receive' : 'send',
      channel: { $ref: `#/channels/${name}` },
      summary: receives ? `The platform consumes commands from ${address}.` : `The platform publishes ${address} (through the owning service's outbox).`,
      messages: contracts.map((contract) => ({ $ref: `#/channels/${name}/messages/${contract.type}` })),
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Clearline messages',
      version,
      description: [
        'Every message that crosses a service boundary, generated from libs/contracts by tools/asyncapi.mjs',
        `(${ASYNCAPI_REGENERATE_COMMAND}); do not edit by hand. Values are JSON envelopes {id, type, schemaVersion, data, metadata};`,
        'amounts are decimal strings of integer minor units; the Kafka key keeps the order of messages that share it.',
      ].join(' '),
    },
    defaultContentType: CONTENT_TYPE_JSON,
    servers: {
      local: { host: '127.0.0.1:9092', protocol: 'kafka', description: 'The development broker of deploy/local (KAFKA_PORT, default 9092).' },
    },
    channels,
    operations,
    components: {
      messages: {
        ...Object.fromEntries(CONTRACTS.map((contract) => [contract.type, contractMessage(contract)])),
        DeadLetterRecord: deadLetterMessage(),
      },
      schemas: { MessageMetadata: metadataSchema() },
    },
  };
}

/** The document as YAML text. */
export function renderAsyncApi() {
  return toYaml(asyncApiDocument());
}

/** Settlement is a part of the payments service with a topic of its own, for downstream systems. */
const TOPIC_DESCRIPTIONS = { 'settlement.events': 'Settlement results for downstream systems (accounting, merchant reporting), published by the payments service.' };

function topicDescription(address) {
  const [owner, kind] = address.split('.');
  return TOPIC_DESCRIPTIONS[address] ?? (kind === 'commands' ? `Commands to the ${owner} service.` : `Events published by the ${owner} service.`);
}

function contractMessage(contract) {
  const key = partitionKeyExpression(contract);
  return {
    name: contract.type,
    title: `${contract.type} (${contract.kind}, schema version ${contract.schemaVersion})`,
    summary: contract.description,
    contentType: CONTENT_TYPE_JSON,
    headers: headersSchema(contract),
    payload: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'type', 'schemaVersion', 'data', 'metadata'],
      properties: {
        id: { type: 'string', pattern: UUID_PATTERN, description: 'The message id; consumers de-duplicate by it.' },
        type: { type: 'string', const: contract.type },
        schemaVersion: { type: 'integer', const: contract.schemaVersion },
        data: contract.schema,
        metadata: { $ref: '#/components/schemas/MessageMetadata' },
      },
    },
    bindings: {
      kafka: { key: { type: 'string', description: `${key}: messages with the same key keep their order.` }, bindingVersion: '0.5.0' },
    },
    'x-clearline-kind': contract.kind,
    'x-clearline-partition-key': key,
  };
}

/**
 * What a contract's partitionKey reads, found by calling it on a probe that records property paths:
 * `(data) => data.merchantId` yields "data.merchantId". Keys are plain functions in the registry, so
 * this keeps the document true to them without a second, hand-written declaration that could drift.
 */
function partitionKeyExpression(contract) {
  const probe = (path) => new Proxy({}, {
    get: (_target, property) => (property === Symbol.toPrimitive ? () => path : probe(`${path}.${String(property)}`)),
  });
  return String(contract.partitionKey(probe('data')));
}

function headersSchema(contract) {
  const text = (description) => ({ type: 'string', minLength: 1, description });
  return {
    type: 'object',
    required: Object.values(MessageHeaders),
    properties: {
      [MessageHeaders.messageId]: { type: 'string', pattern: UUID_PATTERN, description: 'The envelope id.' },
      [MessageHeaders.messageType]: { type: 'string', const: contract.type },
      [MessageHeaders.schemaVersion]: { type: 'string', const: String(contract.schemaVersion) },
      [MessageHeaders.correlationId]: text('Shared by every message one original request caused.'),
      [MessageHeaders.causationId]: text('The id of the message or request that caused this one.'),
      [MessageHeaders.producer]: text('The service that produced the message.'),
      [MessageHeaders.contentType]: { type: 'string', const: CONTENT_TYPE_JSON },
    },
  };
}

function deadLetterMessage() {
  const text = (description) => ({ type: 'string', description });
  return {
    name: 'DeadLetterRecord',
    title: 'Dead-letter record',
    summary: 'A record a consumer could not accept, unchanged (it may not even be JSON), with the reason in its headers.',
    headers: {
      type: 'object',
      required: Object.values(DeadLetterHeaders).filter((name) => name !== DeadLetterHeaders.valueOmittedBytes),
      properties: {
        [DeadLetterHeaders.reason]: text('Why the record was refused (one line, bounded in length).'),
        [DeadLetterHeaders.originalTopic]: text('The topic it was read from.'),
        [DeadLetterHeaders.originalPartition]: text('Its partition there.'),
        [DeadLetterHeaders.originalOffset]: text('Its offset there.'),
        [DeadLetterHeaders.consumerGroup]: text('The consumer group that refused it.'),
        [DeadLetterHeaders.failedAt]: text('When, as an ISO 8601 time.'),
        [DeadLetterHeaders.attempts]: text('Handler attempts made; 0 when it was refused before any (unparsable, invalid).'),
        [DeadLetterHeaders.valueOmittedBytes]: text('Only on a record whose value was too large to copy: its size in bytes. The value is then null; the original stays on its topic at the offset named.'),
      },
    },
    payload: { description: 'The original value, byte for byte (null when dlq-value-omitted-bytes is set).' },
  };
}

function metadataSchema() {
  const text = (description) => ({ type: 'string', minLength: 1, description });
  return {
    type: 'object',
    required: ['correlationId', 'causationId', 'occurredAt', 'producer'],
    properties: {
      correlationId: text('Shared by every message one original request caused, from the HTTP request to the settlement event.'),
      causationId: text('The id of the message (or request) that caused this one.'),
      occurredAt: text('ISO 8601 time at which the producer decided this message.'),
      producer: text('The service that produced it.'),
    },
  };
}

// ---------------------------------------------------------------- YAML

/**
 * A small YAML writer for this document's data (objects, arrays, strings, numbers, booleans, null):
 * block style, keys in insertion order, every string double-quoted as JSON (a JSON string is a valid
 * YAML double-quoted scalar), so nothing is ever read back as another type ("1", "no", "null").
 */
export function toYaml(value) {
  return `${renderBlock(value, 0).join('\n')}\n`;
}

function renderBlock(value, indent) {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (isInline(item)) return [`${pad}- ${inline(item)}`];
      const [first, ...rest] = renderBlock(item, indent + 2);
      return [`${pad}- ${first.slice(indent + 2)}`, ...rest];
    });
  }
  return Object.entries(value).flatMap(([key, item]) => {
    if (item === undefined) return [];
    if (isInline(item)) return [`${pad}${yamlKey(key)}: ${inline(item)}`];
    return [`${pad}${yamlKey(key)}:`, ...renderBlock(item, indent + 2)];
  });
}

function isInline(value) {
  if (typeof value !== 'object' || value === null) return true;
  return Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
}

function inline(value) {
  if (Array.isArray(value)) return '[]';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'object': return '{}';
    case 'string': return JSON.stringify(value);
    case 'boolean': return String(value);
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`cannot write ${value} to YAML`);
      return String(value);
    default: throw new Error(`cannot write a ${typeof value} to YAML`);
  }
}

function yamlKey(key) {
  return /^[A-Za-z_$][A-Za-z0-9_$.-]*$/.test(key) ? key : JSON.stringify(key);
}

// ---------------------------------------------------------------- command line

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rendered = renderAsyncApi();
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(ASYNCAPI_DOCUMENT_PATH, 'utf8');
    } catch {
      // A missing file is simply out of date.
    }
    if (committed !== rendered) {
      console.error(`docs/asyncapi.yaml is out of date with libs/contracts: run \`${ASYNCAPI_REGENERATE_COMMAND}\``);
      process.exit(1);
    }
    console.log('docs/asyncapi.yaml is up to date');
  } else {
    writeFileSync(ASYNCAPI_DOCUMENT_PATH, rendered);
    console.log(`wrote docs/asyncapi.yaml: ${CONTRACTS.length} messages on ${Object.keys(Topics).length * 2} channels`);
  }
}
