// Proves that service configuration has working local defaults and refuses bad values by name.
import { ConfigurationError, DEFAULT_POOL_MAX, DEFAULT_PORTS, readServiceConfig } from './config.js';

describe('readServiceConfig', () => {
  it('gives each service its own default port and the local infrastructure', () => {
    const config = readServiceConfig('ledger', {});
    expect(config).toMatchObject({
      service: 'ledger',
      port: DEFAULT_PORTS.ledger,
      kafkaBrokers: ['127.0.0.1:9092'],
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/clearline',
      redisUrl: 'redis://127.0.0.1:6379',
    });
    expect(new Set(Object.values(DEFAULT_PORTS)).size).toBe(5);
  });

  it('reads overrides, including several brokers', () => {
    const config = readServiceConfig('gateway', { PORT: '4100', KAFKA_BROKERS: 'a:9092, b:9092', LOG_LEVEL: 'debug' });
    expect(config).toMatchObject({ port: 4100, kafkaBrokers: ['a:9092', 'b:9092'], logLevel: 'debug' });
  });

  it.each(['0', '70000', 'http', '30.5'])('refuses PORT=%s naming the variable', (port) => {
    expect(() => readServiceConfig('gateway', { PORT: port })).toThrow(ConfigurationError);
    expect(() => readServiceConfig('gateway', { PORT: port })).toThrow(`PORT must be a port number (1-65535), got '${port}'`);
  });

  it('refuses an empty broker list', () => {
    expect(() => readServiceConfig('gateway', { KAFKA_BROKERS: ' , ' })).toThrow('KAFKA_BROKERS must list at least one host:port');
  });

  it('sizes the connection pool per service, and reads POSTGRES_POOL_MAX', () => {
    expect(readServiceConfig('payments', {}).postgresPoolMax).toBe(DEFAULT_POOL_MAX.payments);
    expect(readServiceConfig('ledger', {}).postgresPoolMax).toBe(DEFAULT_POOL_MAX.ledger);
    expect(readServiceConfig('risk', { POSTGRES_POOL_MAX: '20' }).postgresPoolMax).toBe(20);
  });

  it.each(['1', '51', 'many', '7.5'])('refuses POSTGRES_POOL_MAX=%s naming the variable', (value) => {
    expect(() => readServiceConfig('payments', { POSTGRES_POOL_MAX: value })).toThrow(ConfigurationError);
    expect(() => readServiceConfig('payments', { POSTGRES_POOL_MAX: value })).toThrow(/POSTGRES_POOL_MAX/);
  });
});
