// Proves that only a plain path is taken from X-Forwarded-Prefix (links and problem instances are
// built from it, so a crafted header must not turn them into another origin).
import { forwardedPrefix } from './forwarded-prefix.js';

describe('forwardedPrefix', () => {
  it('takes a plain path and ignores anything else', () => {
    expect(forwardedPrefix('/v1')).toBe('/v1');
    expect(forwardedPrefix(undefined)).toBe('');
    for (const value of ['v1', '/v1/', '//evil.example', '/v1?x=1', 'https://evil.example']) expect(forwardedPrefix(value)).toBe('');
  });
});
