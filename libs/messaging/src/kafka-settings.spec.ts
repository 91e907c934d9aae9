// Proves settings come from KAFKA_BROKERS (or the local default), invalid settings are refused, and
// kafkajs' own log lines reach our logger at their level, never the console.
import kafkajs from 'kafkajs';
import { assertValidSettings, kafkaLogCreator, kafkaSettingsFromEnv } from './kafka-settings.js';
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
