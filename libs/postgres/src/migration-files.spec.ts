// Proves the pure half of migrations: file names map to ordered versions, bad names and clashing
// versions are refused, checksums follow the exact text, and placeholders become quoted identifiers.
import { MigrationError, migrationChecksum, planMigrationFiles, substitutePlaceholders } from './migration-files.js';

describe('planMigrationFiles', () => {
  it('orders migrations by version whatever the listing order', () => {
    const plan = planMigrationFiles('ledger', [
      { name: '0010_add_limits.sql', sql: 'b' },
      { name: '0002_accounts.sql', sql: 'a' },
      { name: 'README.md', sql: 'ignored' },
    ]);
    expect(plan.map((file) => [file.version, file.name])).toEqual([
      [2, '0002_accounts.sql'],
      [10, '0010_add_limits.sql'],
    ]);
  });

  it('refuses a .sql file that does not follow NNNN_description.sql', () => {
    expect(() => planMigrationFiles('ledger', [{ name: '2_accounts.sql', sql: '' }])).toThrow(MigrationError);
    expect(() => planMigrationFiles('ledger', [{ name: '0002 accounts.sql', sql: '' }])).toThrow(/not named NNNN_description.sql/);
  });

  it('refuses two files with the same version', () => {
    expect(() =>
      planMigrationFiles('ledger', [
        { name: '0001_a.sql', sql: '' },
        { name: '0001_b.sql', sql: '' },
      ]),
    ).toThrow(/share version 1/);
  });

  it('refuses version 0000', () => {
    expect(() => planMigrationFiles('ledger', [{ name: '0000_init.sql', sql: '' }])).toThrow(/reserved/);
  });
});

describe('migrationChecksum', () => {
  it('changes with any change of the text, whitespace included', () => {
    expect(migrationChecksum('select 1;')).toBe(migrationChecksum('select 1;'));
    expect(migrationChecksum('select 1;')).not.toBe(migrationChecksum('select 1; '));
    expect(migrationChecksum('')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('substitutePlaceholders', () => {
  it('replaces :"name" with the quoted value and leaves casts alone', () => {
    const sql = 'create table :"schema".t (x int); select 1::"int4";';
    expect(substitutePlaceholders(sql, { schema: 'event_store_test' }, 'f.sql')).toBe(
      'create table "event_store_test".t (x int); select 1::"int4";',
    );
  });

  it('quotes values so they cannot break out of the identifier', () => {
    expect(substitutePlaceholders(':"schema"', { schema: 'a"b' }, 'f.sql')).toBe('"a""b"');
  });

  it('refuses a placeholder without a value', () => {
    expect(() => substitutePlaceholders('create schema :"schema";', {}, '0001_x.sql')).toThrow(/0001_x.sql.*:"schema"/);
  });
});
