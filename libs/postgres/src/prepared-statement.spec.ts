// A prepared statement's name is a function of its text: one name per text, never shared by two.
import { preparedStatement } from './prepared-statement.js';

describe('preparedStatement', () => {
  it('keeps the text and names it by a digest of it', () => {
    const statement = preparedStatement('select $1::int');
    expect(statement.text).toBe('select $1::int');
    expect(statement.name).toMatch(/^cl_[0-9a-f]{24}$/);
    expect(preparedStatement('select $1::int').name).toBe(statement.name);
  });

  it('gives texts that differ by one character different names', () => {
    expect(preparedStatement('select $1::int').name).not.toBe(preparedStatement('select $2::int').name);
  });
});
