// Proves the vault's rules on an in-memory Redis stand-in (card-vault.int.spec.ts repeats the core
// on the real one): the PAN is stored only encrypted and the CVV not at all; a token detokenizes
// until its TTL ends; a record is bound to its token and tamper-evident; keys rotate by key id;
// configuration is validated without ever echoing a secret.
import { CardTokenNotFoundError, CardValidationError, CardVaultError } from './card-errors.js';
import { CardVault, cardVaultSecretsFromEnv, DEFAULT_CARD_VAULT_KEY_PREFIX, type CardVaultOptions } from './card-vault.js';
import { inMemoryRedis, TestClock } from './cards.test-kit.js';

const PAN = '4242424242424242';
const CVV = '987';
const KEY_1 = Buffer.alloc(32, 1);
const KEY_2 = Buffer.alloc(32, 2);
const FINGERPRINT_KEY = Buffer.alloc(32, 9);

function setup(options: Partial<CardVaultOptions> = {}) {
  const clock = new TestClock();
  const redis = inMemoryRedis(clock);
  const vault = (overrides: Partial<CardVaultOptions> = {}) =>
    new CardVault(redis, { keyring: { activeKeyId: 'k1', keys: { k1: KEY_1 } }, fingerprintKey: FINGERPRINT_KEY, ttlMs: 60_000, clock, ...options, ...overrides });
  return { clock, redis, vault, subject: vault() };
}

describe('CardVault', () => {
  it('stores the PAN encrypted under the token, never the CVV, and detokenizes it', async () => {
    const { subject, redis } = setup();
    const card = await subject.tokenize({ pan: PAN, expMonth: 12, expYear: 2030, cvv: CVV });
    const stored = redis.entries.get(`${DEFAULT_CARD_VAULT_KEY_PREFIX}${card.token}`)!.value;
    expect(stored).not.toContain(PAN);
    expect(stored).not.toContain('4242');
    expect(stored).not.toContain(CVV);
    expect(Buffer.from(JSON.parse(stored).ct, 'base64').toString('latin1')).not.toContain(PAN);
    expect(JSON.parse(stored)).toMatchObject({ v: 1, kid: 'k1' });

    const detokenized = await subject.detokenize(card.token);
    expect(detokenized).toMatchObject({ token: card.token, last4: '4242', brand: 'visa', expMonth: 12, expYear: 2030 });
    expect(detokenized.pan.reveal()).toBe(PAN);
    expect(Object.keys(detokenized)).not.toContain('cvv');
  });

  it('refuses invalid cards before storing anything', async () => {
    const { subject, redis } = setup();
    await expect(subject.tokenize({ pan: '4242424242424241', expMonth: 12, expYear: 2030 })).rejects.toThrow(CardValidationError);
    expect(redis.entries.size).toBe(0);
  });

  it('forgets the card when its TTL ends', async () => {
    const { subject, clock } = setup();
    const card = await subject.tokenize({ pan: PAN, expMonth: 12, expYear: 2030 });
    await clock.advanceBy(59_999);
    await expect(subject.detokenize(card.token)).resolves.toBeDefined();
    await clock.advanceBy(1);
    await expect(subject.detokenize(card.token)).rejects.toThrow(CardTokenNotFoundError);
  });

  it.each(['tok_AAAAAAAAAAAAAAAAAAAAAA', 'not-a-token', '', 'tok_../../etc'])('answers not found for %j', async (token) => {
    const { subject } = setup();
    await expect(subject.detokenize(token)).rejects.toThrow(CardTokenNotFoundError);
  });

  it('binds a record to its token: copied under another token it does not decrypt', async () => {
    const { subject, redis } = setup();
    const first = await subject.tokenize({ pan: PAN, expMonth: 12, expYear: 2030 });
    const second = await subject.tokenize({ pan: '5555555555554444', expMonth: 12, expYear: 2030 });
    const key = (token: string) => `${DEFAULT_CARD_VAULT_KEY_PREFIX}${token}`;
    redis.entries.set(key(second.token), { ...redis.entries.get(key(first.token))! });
    await expect(subject.detokenize(second.token)).rejects.toMatchObject({ name: 'CardVaultError', reason: 'decryption_failed' });
  });

  it('detects a tampered ciphertext', async () => {
    const { subject, redis } = setup();
    const card = await subject.tokenize({ pan: PAN, expMonth: 12, expYear: 2030 });
    const entry = redis.entries.get(`${DEFAULT_CARD_VAULT_KEY_PREFIX}${card.token}`)!;
    const record = JSON.parse(entry.value);
    const ciphertext = Buffer.from(record.ct, 'base64');
    ciphertext[0]! ^= 1;
    entry.value = JSON.stringify({ ...record, ct: ciphertext.toString('base64') });
    await expect(subject.detokenize(card.token)).rejects.toMatchObject({ reason: 'decryption_failed' });
    entry.value = 'garbage';
    await expect(subject.detokenize(card.token)).rejects.toMatchObject({ reason: 'malformed_record' });
  });

  describe('key rotation', () => {
    it('reads old records with their key id, re-encrypts them under the active key keeping the TTL', async () => {
      const { vault, redis, clock } = setup();
      const card = await vault().tokenize({ pan: PAN, expMonth: 12, expYear: 2030 });
      await clock.advanceBy(10_000);
      const rotated = vault({ keyring: { activeKeyId: 'k2', keys: { k1: KEY_1, k2: KEY_2 } } });
      expect((await rotated.detokenize(card.token)).pan.reveal()).toBe(PAN);
      expect(await rotated.rotate(card.token)).toBe('rotated');
      expect(await rotated.rotate(card.token)).toBe('current');
      const entry = redis.entries.get(`${DEFAULT_CARD_VAULT_KEY_PREFIX}${card.token}`)!;
      expect(JSON.parse(entry.value).kid).toBe('k2');
      expect(entry.expiresAtMs).toBe(clock.now() + 50_000);
      const onlyNewKey = vault({ keyring: { activeKeyId: 'k2', keys: { k2: KEY_2 } } });
      expect((await onlyNewKey.detokenize(card.token)).pan.reveal()).toBe(PAN);
      expect(await onlyNewKey.rotate('tok_AAAAAAAAAAAAAAAAAAAAAA')).toBe('missing');
    });

    it('names the missing key id when a key was retired too early', async () => {
      const { vault } = setup();
      const card = await vault().tokenize({ pan: PAN, expMonth: 12, expYear: 2030 });
      const retired = vault({ keyring: { activeKeyId: 'k2', keys: { k2: KEY_2 } } });
      await expect(retired.detokenize(card.token)).rejects.toMatchObject({ reason: 'unknown_key_id', message: expect.stringContaining("'k1'") });
    });
  });

  it('deletes a token', async () => {
    const { subject } = setup();
    const card = await subject.tokenize({ pan: PAN, expMonth: 12, expYear: 2030 });
    expect(await subject.delete(card.token)).toBe(true);
    expect(await subject.delete(card.token)).toBe(false);
    await expect(subject.detokenize(card.token)).rejects.toThrow(CardTokenNotFoundError);
  });

  it.each<[string, Partial<CardVaultOptions>, RegExp]>([
    ['a short AES key', { keyring: { activeKeyId: 'k1', keys: { k1: Buffer.alloc(16) } } }, /32 bytes/],
    ['an active key outside the keyring', { keyring: { activeKeyId: 'k9', keys: { k1: KEY_1 } } }, /'k9'/],
    ['a key id with a separator', { keyring: { activeKeyId: 'a:b', keys: { 'a:b': KEY_1 } } }, /key id/],
    ['a short fingerprint key', { fingerprintKey: Buffer.alloc(8) }, /fingerprint key/],
    ['an unbounded TTL', { ttlMs: 365 * 24 * 3_600_000 }, /ttlMs/],
  ])('refuses %s', (_name, options, message) => {
    const { vault } = setup();
    expect(() => vault(options)).toThrow(message);
  });
});

describe('cardVaultSecretsFromEnv', () => {
  const secret1 = KEY_1.toString('base64');
  const secret2 = KEY_2.toString('base64');

  it('reads the keyring, the active key id and the fingerprint key', () => {
    const secrets = cardVaultSecretsFromEnv({
      CARD_VAULT_KEYS: `2026-05:${secret1}, 2026-11:${secret2}`,
      CARD_VAULT_ACTIVE_KEY_ID: '2026-11',
      CARD_FINGERPRINT_KEY: FINGERPRINT_KEY.toString('base64'),
    });
    expect(secrets.keyring.activeKeyId).toBe('2026-11');
    expect(secrets.keyring.keys['2026-05']).toEqual(KEY_1);
    expect(secrets.keyring.keys['2026-11']).toEqual(KEY_2);
    expect(secrets.fingerprintKey).toEqual(FINGERPRINT_KEY);
  });

  it.each([
    ['missing keys', { CARD_VAULT_ACTIVE_KEY_ID: 'k1', CARD_FINGERPRINT_KEY: 'x' }],
    ['a short key', { CARD_VAULT_KEYS: `k1:${Buffer.alloc(8, 3).toString('base64')}`, CARD_VAULT_ACTIVE_KEY_ID: 'k1', CARD_FINGERPRINT_KEY: FINGERPRINT_KEY.toString('base64') }],
    ['an entry without id', { CARD_VAULT_KEYS: secret1, CARD_VAULT_ACTIVE_KEY_ID: 'k1', CARD_FINGERPRINT_KEY: FINGERPRINT_KEY.toString('base64') }],
    ['a short fingerprint key', { CARD_VAULT_KEYS: `k1:${secret1}`, CARD_VAULT_ACTIVE_KEY_ID: 'k1', CARD_FINGERPRINT_KEY: Buffer.alloc(4, 5).toString('base64') }],
  ])('refuses %s without echoing a secret', (_name, environment) => {
    let caught: unknown;
    try {
      cardVaultSecretsFromEnv(environment);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CardVaultError);
    const text = `${(caught as Error).message} ${JSON.stringify(caught)}`;
    for (const secret of [secret1, Buffer.alloc(8, 3).toString('base64'), Buffer.alloc(4, 5).toString('base64')]) expect(text).not.toContain(secret);
  });
});
