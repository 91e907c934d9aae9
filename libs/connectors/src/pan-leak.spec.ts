// Proves PCI DSS's first rule for connectors: a known PAN (and its CVV) never shows up in a routed
// call's request, result, attempt records or breaker snapshots, however they are serialised (JSON,
// string conversion, util.inspect with hidden properties, a deep walk, a pino log line: the scanner
// of @clearline/cards, whose own pan-leak.spec.ts covers validation, tokens and the vault).
import { assertNoCardData, CardVault, panRenderings, SecretString, type CardDataProbe, type CardInput } from '@clearline/cards';
import { ConnectorRouter } from './connector-router.js';
import { ConnectorSimulator } from './connector-simulator.js';
import { cardAuthorization, inMemoryRedis } from './connectors.test-kit.js';
import { ManualClock } from './manual-clock.js';

/** Stripe's Visa debit test card: digits unlikely to appear anywhere by chance. */
const PAN = '4000056655665556';
const CVV = '731';
/** A declining test card. */
const DECLINING_PAN = '4000000000009995';
const PROBE: CardDataProbe = { forbidden: [...panRenderings(PAN), DECLINING_PAN], cvv: CVV };
const expectNoPan = (label: string, value: unknown) => assertNoCardData(label, value, PROBE);

describe('no card data leaks', () => {
  const clock = new ManualClock();
  const redis = inMemoryRedis(clock);
  const vault = new CardVault(redis, { keyring: { activeKeyId: 'k1', keys: { k1: Buffer.alloc(32, 1) } }, fingerprintKey: Buffer.alloc(32, 2), clock });
  const input: CardInput = { pan: PAN, expMonth: 12, expYear: 2030, cvv: CVV };

  it('from the scanner (it would catch a leak)', () => {
    expect(() => expectNoPan('a plain object', { source: { pan: PAN } })).toThrow(/leaks/);
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
