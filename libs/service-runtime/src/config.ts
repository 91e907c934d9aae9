/**
 * Every setting a Clearline service reads, from the environment, checked once at boot. A bad value
 * stops the service with a message that names the variable, rather than failing later and vaguely.
 */
import { kafkaNamespaceFromEnv } from '@clearline/messaging';
export const SERVICE_NAMES = ['gateway', 'payments', 'ledger', 'risk', 'analytics'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const DEFAULT_PORTS: Readonly<Record<ServiceName, number>> = {
  gateway: 3000,
  payments: 3001,
  ledger: 3002,
  risk: 3003,
  analytics: 3004,
};

/**
 * A service's pool holds a connection for each consumer's chunk transaction (one per partition it
 * handles at once), each outbox relay's leader session and listener, and its queries. Payments
 * handles up to ten partitions at once and runs two relays and two schedulers.
 */
export const DEFAULT_POOL_MAX: Readonly<Record<ServiceName, number>> = {
  gateway: 10,
  payments: 18,
  ledger: 10,
  risk: 10,
  analytics: 10,
};

export interface ServiceConfig {
  service: ServiceName;
  port: number;
  host: string;
  databaseUrl: string;
  /** POSTGRES_POOL_MAX: connections in the service's pool (DEFAULT_POOL_MAX unless set, 2..50). */
  postgresPoolMax: number;
  kafkaBrokers: string[];
  /** KAFKA_NAMESPACE: this environment's prefix on topics and consumer groups (see KafkaSettings.namespace). */
  kafkaNamespace?: string;
  redisUrl: string;
  logLevel: string;
  /** LOG_FILE: append the JSON log lines to this file instead of writing them to standard output. */
  logFile: string | undefined;
  /** Where the gateway finds the analytics query API. */
  analyticsUrl: string;
}

export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

export function readServiceConfig(service: ServiceName, environment: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const port = parsePort('PORT', environment['PORT'], DEFAULT_PORTS[service]);
  const kafkaBrokers = (environment['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',').map((broker) => broker.trim()).filter(Boolean);
  if (kafkaBrokers.length === 0) throw new ConfigurationError('KAFKA_BROKERS must list at least one host:port');
  let kafkaNamespace: string | undefined;
  try {
    kafkaNamespace = kafkaNamespaceFromEnv(environment);
  } catch (error) {
    throw new ConfigurationError((error as Error).message);
  }
  return {
    service,
    port,
    host: environment['HOST'] ?? '127.0.0.1',
    databaseUrl: environment['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline',
    postgresPoolMax: integerSetting(environment, 'POSTGRES_POOL_MAX', DEFAULT_POOL_MAX[service], 2, 50),
    kafkaBrokers,
    ...(kafkaNamespace === undefined ? {} : { kafkaNamespace }),
    redisUrl: environment['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    logLevel: environment['LOG_LEVEL'] ?? 'info',
    logFile: environment['LOG_FILE'] || undefined,
    analyticsUrl: environment['ANALYTICS_URL'] ?? `http://127.0.0.1:${DEFAULT_PORTS.analytics}`,
  };
}

function parsePort(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigurationError(`${name} must be a port number (1-65535), got '${value}'`);
  return port;
}

/**
 * An integer setting from the environment: `fallback` when unset or empty, otherwise it must be an
 * integer in min..max, or the service stops at boot with a ConfigurationError naming it.
 */
export function integerSetting(environment: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = environment[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigurationError(`${name} must be an integer in ${min}..${max}, got '${text}'`);
  return value;
}
