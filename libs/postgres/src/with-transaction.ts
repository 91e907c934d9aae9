import type { Pool, PoolClient } from 'pg';

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  /** Default: the server's default (read committed unless configured otherwise). */
  isolation?: IsolationLevel;
  readOnly?: boolean;
}

const isolationSql: Record<IsolationLevel, string> = {
  'read committed': 'isolation level read committed',
  'repeatable read': 'isolation level repeatable read',
  serializable: 'isolation level serializable',
};

function beginStatement(options: TransactionOptions): string {
  const modes: string[] = [];
  if (options.isolation !== undefined) modes.push(isolationSql[options.isolation]);
  if (options.readOnly === true) modes.push('read only');
  return modes.length === 0 ? 'begin' : `begin ${modes.join(', ')}`;
}

/**
 * Runs `work` inside BEGIN ... COMMIT on one pooled connection and returns its result. If `work`
 * throws (or COMMIT fails) the transaction is rolled back and the error rethrown. The connection is
 * always released; one whose rollback failed is destroyed rather than returned to the pool, since
 * its state is unknown.
 */
export async function withTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const client = await pool.connect();
  let releaseError: Error | undefined;
  // A checked-out client has no error listener of the pool's; without one, a connection dying
  // mid-transaction (server restart, terminated backend) would be an unhandled 'error' event.
  const onConnectionError = (error: Error): void => {
    releaseError ??= error;
  };
  client.on('error', onConnectionError);
  try {
    try {
      await client.query(beginStatement(options));
    } catch (error) {
      releaseError = asError(error);
      throw error;
    }
    try {
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      releaseError = await rollbackQuietly(client);
      throw error;
    }
  } finally {
    client.off('error', onConnectionError);
    client.release(releaseError);
  }
}

/** Returns the rollback's own failure, if any: the sign that the connection must be destroyed. */
async function rollbackQuietly(client: PoolClient): Promise<Error | undefined> {
  try {
    await client.query('rollback');
    return undefined;
  } catch (error) {
    return asError(error);
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
