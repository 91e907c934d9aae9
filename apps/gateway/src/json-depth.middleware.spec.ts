// Proves the nesting bound of request bodies: the API's own bodies pass, a body nested past the bound
// is caught however deep it goes (its walk keeps its own stack, so 100,000 levels overflow nothing).
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.middleware.js';

function nested(depth: number, shape: 'array' | 'object'): unknown {
  return JSON.parse(shape === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

describe('nestsDeeperThan', () => {
  it.each([undefined, null, 1, 'text', {}, [], { card: { number: '4111111111111111' }, metadata: { a: 'b' } }])('lets %j through', (body) => {
    expect(nestsDeeperThan(body, MAX_JSON_DEPTH)).toBe(false);
  });

  it.each(['array', 'object'] as const)('counts each level of %s nesting: exactly the bound passes, one more does not', (shape) => {
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH, shape), MAX_JSON_DEPTH)).toBe(false);
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1, shape), MAX_JSON_DEPTH)).toBe(true);
  });

  it('finds a deep branch next to shallow ones, and walks 100,000 levels without overflowing', () => {
    expect(nestsDeeperThan({ a: 1, b: [1, 2], c: { d: nested(40, 'array') } }, MAX_JSON_DEPTH)).toBe(true);
    expect(nestsDeeperThan(nested(100_000, 'array'), MAX_JSON_DEPTH)).toBe(true);
  });
});
