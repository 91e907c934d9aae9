import pg from 'pg';

/** The database a process uses when neither the caller nor DATABASE_URL names one. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/clearline';

export interface CreatePoolOptions {
  /** Default: env DATABASE_URL, else {@link DEFAULT_DATABASE_URL}. */
  connectionString?: string;
  /** Upper bound on open connections. Default 10. */
  max?: number;
  /** Shown in pg_stat_activity, so an operator can tell which service holds a connection. */
  applicationName?: string;
  /** How long a caller may wait for a free connection before pool.connect() fails. Default 10 s. */
  connectionTimeoutMs?: number;
  /**
   * Called when an idle pooled connection fails (server restart, network cut). The pool has
   * already dropped that connection; without a listener Node would crash the process on the
   * 'error' event. Default: a process warning.
   */
  onIdleClientError?: (error: Error) => void;
}

const MAX_CONNECTIONS_LIMIT = 1_000;

export function databaseUrlFromEnvironment(): string {
  const fromEnvironment = process.env['DATABASE_URL'];
  return fromEnvironment !== undefined && fromEnvironment !== '' ? fromEnvironment : DEFAULT_DATABASE_URL;
}

export function createPool(options: CreatePoolOptions = {}): pg.Pool {
  const max = options.max ?? 10;
  if (!Number.isInteger(max) || max < 1 || max > MAX_CONNECTIONS_LIMIT) {
    throw new RangeError(`createPool: max must be an integer in 1..${MAX_CONNECTIONS_LIMIT}, got ${max}`);
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString ?? databaseUrlFromEnvironment(),
    max,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    ...(options.applicationName === undefined ? {} : { application_name: options.applicationName }),
  });
  const onIdleClientError =
    options.onIdleClientError ??
    ((error: Error) => process.emitWarning(`idle PostgreSQL connection failed: ${error.message}`, 'PostgresPoolWarning'));
  pool.on('error', onIdleClientError);
  return pool;
}
