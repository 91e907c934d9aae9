// Proves PCI DSS's first rule for this library: a known PAN (and its CVV) never shows up in
// anything the library returns or throws, however it is serialised: JSON, string conversion,
// util.inspect with hidden properties, a deep walk of every own property, or a pino log line.
// Every returned object and every error of the card paths goes through every serialiser.
import { inspect } from 'node:util';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { CardVault } from './card-vault.js';
import { ConnectorRouter } from './connector-router.js';
import { ConnectorSimulator } from './connector-simulator.js';
import { cardAuthorization, inMemoryRedis } from './connectors.test-kit.js';
import { validateCard, type CardInput } from './card-tokenization.js';
import { ManualClock } from './manual-clock.js';
import { SecretString } from './secret-string.js';

/** Stripe's Visa debit test card: digits unlikely to appear anywhere by chance. */
const PAN = '4000056655665556';
const CVV = '731';
/** The same card with the last digit mistyped (fails Luhn), and a declining test card. */
const MISTYPED_PAN = '4000056655665557';
const DECLINING_PAN = '4000000000009995';
/** Searched everywhere, stack traces included: the PAN in any grouping, and its middle digits (PCI allows first 6 and last 4). */
const FORBIDDEN = [PAN, '4000 0566 5566 5556', '4000-0566-5566-5556', PAN.slice(6, 12), MISTYPED_PAN, DECLINING_PAN];
/**
 * The CVV as a number on its own. Three digits also occur by chance in stack-trace line numbers,
 * so renderings made of a stack are searched for the PAN only.
 */
const CVV_PATTERN = new RegExp(`(?<![0-9A-Za-z])${CVV}(?![0-9A-Za-z])`);

function deepStrings(value: unknown, seen = new Set<unknown>()): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'bigint' || typeof value === 'number') return [String(value)];
  if (typeof value !== 'object' || value === null || seen.has(value)) return [];
  seen.add(value);
  return Reflect.ownKeys(value).flatMap((key) => {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    return [String(key), ...deepStrings(descriptor && 'value' in descriptor ? descriptor.value : undefined, seen)];
  });
}

/** Every way the value could end up as text, each marked with whether it holds a stack trace. */
function renderings(value: unknown): { text: string; hasStack: boolean }[] {
  const lines: string[] = [];
  // No timestamp, pid or hostname: their digits would only add noise to the CVV search.
  const logger = pino({ level: 'trace', base: null, timestamp: false }, new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
  if (value instanceof Error) logger.error(value, 'failed');
  else logger.info({ value }, 'result');
  const isError = value instanceof Error;
  const plain = [
    JSON.stringify(value, (_key, field) => (typeof field === 'bigint' ? field.toString() : field)) ?? '',
    String(value),
    `${value as string}`,
    ...(isError ? [value.message] : []),
  ];
  const withStack = [inspect(value, { depth: Infinity, showHidden: true, getters: true }), ...deepStrings(value), ...lines, ...(isError ? [value.stack ?? ''] : [])];
  return [...plain.map((text) => ({ text, hasStack: false })), ...withStack.map((text) => ({ text, hasStack: isError }))];
}

function expectNoPan(label: string, value: unknown): void {
  for (const { text, hasStack } of renderings(value)) {
    const leaked = FORBIDDEN.some((forbidden) => text.includes(forbidden)) || (!hasStack && CVV_PATTERN.test(text));
    if (leaked) throw new Error(`${label} leaks card data in: ${text.slice(0, 200)}`);
  }
}

async function caught(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('no card data leaks', () => {
  const clock = new ManualClock();
  const redis = inMemoryRedis(clock);
  const vault = new CardVault(redis, { keyring: { activeKeyId: 'k1', keys: { k1: Buffer.alloc(32, 1) } }, fingerprintKey: Buffer.alloc(32, 2), clock });
  const input: CardInput = { pan: PAN, expMonth: 12, expYear: 2030, cvv: CVV };

  it('from the scanner itself (it would catch a leak)', () => {
    expect(() => expectNoPan('a plain object', { pan: PAN })).toThrow(/leaks/);
    expect(() => expectNoPan('a hidden property', Object.defineProperty({}, 'x', { value: PAN, enumerable: false }))).toThrow(/leaks/);
    expect(() => expectNoPan('a CVV', { cvv: CVV })).toThrow(/leaks/);
    expect(() => expectNoPan('an error message', new Error(`card ${PAN} refused`))).toThrow(/leaks/);
  });

  it('from wrapped secrets and validated cards', () => {
    expectNoPan('SecretString', new SecretString(PAN));
    expectNoPan('ValidatedCard', validateCard(input, clock.now()));
    expectNoPan('ValidatedCard with SecretString input', validateCard({ ...input, pan: new SecretString(PAN), cvv: new SecretString(CVV) }, clock.now()));
  });

  it('from tokens, detokenized cards and what Redis holds', async () => {
    const card = await vault.tokenize(input);
    expectNoPan('CardToken', card);
    expectNoPan('DetokenizedCard', await vault.detokenize(card.token));
    expectNoPan('Redis contents', [...redis.entries.values()]);
  });

  it.each<[string, Partial<CardInput>]>([
    ['a Luhn failure', { pan: MISTYPED_PAN }],
    ['a bad format', { pan: `${PAN}x` }],
    ['a wrong length', { pan: `${PAN}0` }],
    ['an expired card', { expYear: 2020 }],
    ['a bad month', { expMonth: 13 }],
    ['a bad CVV', { cvv: `${CVV}x` }],
  ])('from the validation error of %s', async (_name, change) => {
    const error = await caught(() => vault.tokenize({ ...input, ...change }));
    expect(error).toBeInstanceOf(Error);
    expectNoPan('CardValidationError', error);
  });

  it('from vault errors', async () => {
    const card = await vault.tokenize(input);
    expectNoPan('CardTokenNotFoundError', await caught(() => vault.detokenize('tok_AAAAAAAAAAAAAAAAAAAAAA')));
    const entry = redis.entries.get(`clearline:card-vault:${card.token}`)!;
    entry.value = entry.value.replace(/"tag":"[^"]+"/, '"tag":"AAAAAAAAAAAAAAAAAAAAAA=="');
    expectNoPan('CardVaultError', await caught(() => vault.detokenize(card.token)));
  });

  it('from connector results and attempt records', async () => {
    const simulator = new ConnectorSimulator({ id: 'card-sim', rail: 'card', seed: 1, clock, detokenizer: vault });
    const router = new ConnectorRouter({ connectors: [simulator], routes: { card: ['card-sim'] }, clock, random: () => 0.5 });
    const approvedCard = await vault.tokenize(input);
    const decliningCard = await vault.tokenize({ ...input, pan: DECLINING_PAN });
    const request = { ...cardAuthorization(1_000n, 'key-1', approvedCard.token), source: { rail: 'card' as const, token: approvedCard.token, cvv: new SecretString(CVV) } };
    expectNoPan('authorize request', request);
    expectNoPan('approved route', await clock.run(router.authorize(request)));
    expectNoPan('declined route', await clock.run(router.authorize(cardAuthorization(1_000n, 'key-2', decliningCard.token))));
    expectNoPan('breaker snapshots', router.breakerSnapshots());
  });
});
