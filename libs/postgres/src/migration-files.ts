import { createHash } from 'node:crypto';

/** `NNNN_description.sql`: four digits, an underscore, a lower-case description. */
export const MIGRATION_FILE_PATTERN = /^(\d{4})_([a-z0-9][a-z0-9_-]*)\.sql$/;

export interface MigrationFile {
  version: number;
  /** The file name, e.g. `0001_event_store.sql`. */
  name: string;
  /** The file's text exactly as on disk; placeholders are substituted only when it is applied. */
  sql: string;
  /** SHA-256 of the text as on disk, hex. */
  checksum: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

/**
 * Turns a directory listing into migrations in version order. Every `.sql` file must follow the
 * naming pattern (a misnamed file would otherwise be skipped without anyone noticing) and no two
 * files may share a version.
 */
export function planMigrationFiles(owner: string, files: readonly { name: string; sql: string }[]): MigrationFile[] {
  const migrations: MigrationFile[] = [];
  const seenVersions = new Map<number, string>();
  for (const file of files) {
    if (!file.name.endsWith('.sql')) continue;
    const match = MIGRATION_FILE_PATTERN.exec(file.name);
    if (match === null) {
      throw new MigrationError(`migrations of '${owner}': file '${file.name}' is not named NNNN_description.sql`);
    }
    const version = Number(match[1]);
    if (version === 0) throw new MigrationError(`migrations of '${owner}': version 0000 is reserved, rename '${file.name}'`);
    const clash = seenVersions.get(version);
    if (clash !== undefined) {
      throw new MigrationError(`migrations of '${owner}': '${clash}' and '${file.name}' share version ${version}`);
    }
    seenVersions.set(version, file.name);
    migrations.push({ version, name: file.name, sql: file.sql, checksum: migrationChecksum(file.sql) });
  }
  return migrations.sort((left, right) => left.version - right.version);
}

const PLACEHOLDER_PATTERN = /(?<!:):"([a-zA-Z_][a-zA-Z0-9_]*)"/g;

export function quoteIdentifier(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/**
 * Replaces psql-style identifier variables (`:"schema"`) with the quoted value, so one DDL file
 * serves every schema it is installed into (and also runs under `psql -v schema=...`). A variable
 * the file uses but the caller did not give is an error, never left in the SQL.
 */
export function substitutePlaceholders(sql: string, placeholders: Readonly<Record<string, string>>, fileName: string): string {
  return sql.replace(PLACEHOLDER_PATTERN, (_match, name: string) => {
    const value = placeholders[name];
    if (value === undefined) throw new MigrationError(`migration '${fileName}' uses placeholder :"${name}" but no value was given`);
    return quoteIdentifier(value);
  });
}
