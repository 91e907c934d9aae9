import type { PoolClient } from 'pg';

/**
 * The chunk's connection as its concurrent handlers see it: their queries run one after another,
 * in the order they were issued. node-postgres still queues overlapping queries itself, but that is
 * deprecated (it warns, and pg 9 drops it), so the queue lives here.
 */
export function queriesInTurn(client: PoolClient): PoolClient {
  let tail: Promise<unknown> = Promise.resolve();
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'query') {
        return (...args: unknown[]) => {
          const run = tail.then(() => (target.query as (...queryArgs: unknown[]) => Promise<unknown>)(...args));
          tail = run.catch(() => undefined);
          return run;
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...callArgs: unknown[]) => unknown).bind(target) : value;
    },
  });
}
