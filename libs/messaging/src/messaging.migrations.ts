import { fileURLToPath } from 'node:url';

/**
 * The messaging schema (the inbox), for `migrate(pool, [messagingMigrations, ...])` from
 * @clearline/postgres. The directory is found from this module's own location: the module runs from
 * libs/messaging/src under Jest and from libs/messaging/dist when built, and `../migrations` is
 * libs/messaging/migrations from either.
 */
export const messagingMigrations = {
  owner: 'messaging',
  directory: fileURLToPath(new URL('../migrations', import.meta.url)),
} as const;
