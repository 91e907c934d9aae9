// Proves settings come from KAFKA_BROKERS (or the local default), invalid settings are refused, and
// kafkajs' own log lines reach our logger at their level, never the console.
import kafkajs from 'kafkajs';
import { assertValidSettings, kafkaLogCreator, kafkaSettingsFromEnv, logicalTopic, physicalGroup, physicalTopic } from './kafka-settings.js';
import type { Logger } from './logger.js';

const { logLevel } = kafkajs;

describe('kafkaSettingsFromEnv', () => {
  it('reads a comma-separated KAFKA_BROKERS, ignoring blanks', () => {
    expect(kafkaSettingsFromEnv('payments', { KAFKA_BROKERS: ' a:9092, b:9093 ,,' })).toEqual({ clientId: 'payments', brokers: ['a:9092', 'b:9093'] });
  });

  it('defaults to the local broker', () => {
    expect(kafkaSettingsFromEnv('risk', {}).brokers).toEqual(['127.0.0.1:9092']);
    expect(kafkaSettingsFromEnv('risk', { KAFKA_BROKERS: '' }).brokers).toEqual(['127.0.0.1:9092']);
  });
});

describe('KAFKA_NAMESPACE', () => {
  it('prefixes topics and groups at the broker and strips the prefix from what the broker names', () => {
    const settings = kafkaSettingsFromEnv('payments', { KAFKA_NAMESPACE: 'chaos' });
    expect(settings.namespace).toBe('chaos');
    expect(physicalTopic(settings, 'payments.events')).toBe('chaos.payments.events');
    expect(physicalGroup(settings, 'payments-process')).toBe('chaos.payments-process');
    expect(logicalTopic(settings, 'chaos.payments.events')).toBe('payments.events');
    // A topic outside the namespace is named as it is.
    expect(logicalTopic(settings, 'payments.events')).toBe('payments.events');
  });

  it('changes nothing when unset or empty', () => {
    for (const environment of [{}, { KAFKA_NAMESPACE: '' }, { KAFKA_NAMESPACE: '  ' }]) {
      const settings = kafkaSettingsFromEnv('risk', environment);
      expect(settings).not.toHaveProperty('namespace');
      expect(physicalTopic(settings, 'risk.events')).toBe('risk.events');
      expect(physicalGroup(settings, 'risk')).toBe('risk');
      expect(logicalTopic(settings, 'risk.events')).toBe('risk.events');
    }
  });

  it('refuses a namespace Kafka could not name topics with, or that could be mistaken for a topic', () => {
    for (const bad of ['Chaos', 'a.b', 'a b', '-x', 'x'.repeat(41), 'ns/1']) {
      expect(() => kafkaSettingsFromEnv('risk', { KAFKA_NAMESPACE: bad })).toThrow(/KAFKA_NAMESPACE/);
    }
    expect(() => assertValidSettings({ clientId: 'x', brokers: ['a:1'], namespace: 'a.b' })).toThrow(/namespace/);
  });
});

describe('assertValidSettings', () => {
  it('refuses an empty client id, no brokers, or a broker without a port', () => {
    expect(() => assertValidSettings({ clientId: ' ', brokers: ['a:1'] })).toThrow(/clientId/);
    expect(() => assertValidSettings({ clientId: 'x', brokers: [] })).toThrow(/at least one broker/);
    expect(() => assertValidSettings({ clientId: 'x', brokers: ['localhost'] })).toThrow(/not host:port/);
  });
});

describe('kafkaLogCreator', () => {
  function recordingLogger() {
    const lines: { level: string; fields: object; message?: string }[] = [];
    const record = (level: string) => (fields: object, message?: string) => lines.push({ level, fields, message });
    const logger: Logger = { error: record('error'), warn: record('warn'), info: record('info'), debug: record('debug') };
    return { logger, lines };
  }

  it('routes each kafkajs level to the matching logger method, with its details', () => {
    const { logger, lines } = recordingLogger();
    const log = kafkaLogCreator(logger)(logLevel.INFO);
    const entry = (level: number, message: string) => ({ namespace: 'Consumer', level, label: '', log: { timestamp: 't', logger: 'kafkajs', message, groupId: 'g' } });
    log(entry(logLevel.ERROR, 'e'));
    log(entry(logLevel.WARN, 'w'));
    log(entry(logLevel.INFO, 'i'));
    log(entry(logLevel.DEBUG, 'd'));
    expect(lines).toEqual([
      { level: 'error', fields: { kafka: { namespace: 'Consumer', groupId: 'g' } }, message: 'e' },
      { level: 'warn', fields: { kafka: { namespace: 'Consumer', groupId: 'g' } }, message: 'w' },
      { level: 'info', fields: { kafka: { namespace: 'Consumer', groupId: 'g' } }, message: 'i' },
      { level: 'debug', fields: { kafka: { namespace: 'Consumer', groupId: 'g' } }, message: 'd' },
    ]);
  });

  it('logs the deliberately accepted bounded-retries warning at debug', () => {
    const { logger, lines } = recordingLogger();
    kafkaLogCreator(logger)(logLevel.INFO)({
      namespace: 'Producer',
      level: logLevel.WARN,
      label: 'WARN',
      log: { timestamp: 't', message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees' },
    });
    expect(lines.map((line) => line.level)).toEqual(['debug']);
  });
});
