// Proves PCI DSS's first rule for this library: a known PAN (and its CVV) never shows up in
// anything the library returns or throws, however it is serialised: JSON, string conversion,
// util.inspect with hidden properties, a deep walk of every own property, or a pino log line.
// Every returned object and every error of the card paths goes through every serialiser.
// (libs/connectors' pan-leak.spec.ts does the same for connector results.)
import { assertNoCardData, panRenderings, type CardDataProbe } from './card-data-scanner.js';
import { validateCard, type CardInput } from './card-tokenization.js';
import { CardVault } from './card-vault.js';
import { inMemoryRedis, TestClock } from './cards.test-kit.js';
import { SecretString } from './secret-string.js';

/** Stripe's Visa debit test card: digits unlikely to appear anywhere by chance. */
const PAN = '4000056655665556';
const CVV = '731';
/** The same card with the last digit mistyped (fails Luhn), and a declining test card. */
const MISTYPED_PAN = '4000056655665557';
const DECLINING_PAN = '4000000000009995';
/** Searched everywhere, stack traces included: the PAN in any grouping, and its middle digits (PCI allows first 6 and last 4). */
const PROBE: CardDataProbe = { forbidden: [...panRenderings(PAN), MISTYPED_PAN, DECLINING_PAN], cvv: CVV };
const expectNoPan = (label: string, value: unknown) => assertNoCardData(label, value, PROBE);

async function caught(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('no card data leaks', () => {
  const clock = new TestClock();
  const redis = inMemoryRedis(clock);
  const vault = new CardVault(redis, { keyring: { activeKeyId: 'k1', keys: { k1: Buffer.alloc(32, 1) } }, fingerprintKey: Buffer.alloc(32, 2), clock });
  const input: CardInput = { pan: PAN, expMonth: 12, expYear: 2030, cvv: CVV };

  it('from the scanner itself (it would catch a leak)', () => {
    expect(() => expectNoPan('a plain object', { pan: PAN })).toThrow(/leaks/);
    expect(() => expectNoPan('a hidden property', Object.defineProperty({}, 'x', { value: PAN, enumerable: false }))).toThrow(/leaks/);
    expect(() => expectNoPan('a CVV', { cvv: CVV })).toThrow(/leaks/);
    expect(() => expectNoPan('an error message', new Error(`card ${PAN} refused`))).toThrow(/leaks/);
    expect(() => expectNoPan('a grouped PAN', 'card 4000 0566 5566 5556')).toThrow(/leaks/);
    expect(() => expectNoPan('middle digits', { masked: `400005${PAN.slice(6, 12)}XXXX` })).toThrow(/leaks/);
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
});
