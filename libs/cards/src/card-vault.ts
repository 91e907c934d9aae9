// The (simulated) card vault: the PAN, encrypted with AES-256-GCM, in Redis under its token, with
// a TTL. It is the only place a PAN rests; the CVV is validated but never stored (PCI DSS 3.2
// forbids keeping it after authorization, even encrypted). Each record names the key that
// encrypted it, so keys rotate without a flag day: new records use the active key, old ones stay
// readable while their key is still configured, and `rotate` re-encrypts one record early.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { cardBrandOf, type CardBrand } from './card-brand.js';
import { CardTokenNotFoundError, CardVaultError } from './card-errors.js';
import { CARD_TOKEN_PATTERN, cardTokenOf, MIN_FINGERPRINT_KEY_BYTES, validateCard, type CardInput, type CardToken } from './card-tokenization.js';
import { SecretString } from './secret-string.js';

/** Today's date for the expiry check; any clock with `now()` (a connectors Clock, a test clock) fits. */
export interface CardClock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

const systemClock: CardClock = { now: () => Date.now() };

/** Encryption keys by id; `activeKeyId` encrypts new records, the others only decrypt. */
export interface CardVaultKeyring {
  readonly activeKeyId: string;
  readonly keys: Readonly<Record<string, Buffer>>;
}

export interface CardVaultOptions {
  readonly keyring: CardVaultKeyring;
  /** HMAC key of the fingerprints: separate from the encryption keys, and never rotated casually (it would change every fingerprint). */
  readonly fingerprintKey: Buffer;
  /** How long a token can be detokenized. Default 48 h: it must outlive the 24 h analyst review. */
  readonly ttlMs?: number;
  readonly keyPrefix?: string;
  /** Today's date, for the expiry check. */
  readonly clock?: CardClock;
}

/** What the card connector gets back for its one call to the acquirer. The PAN stays wrapped. */
export interface DetokenizedCard {
  readonly token: string;
  readonly pan: SecretString;
  readonly last4: string;
  readonly brand: CardBrand;
  readonly expMonth: number;
  readonly expYear: number;
}

/** The one capability a card connector needs from the vault. */
export interface CardDetokenizer {
  detokenize(token: string): Promise<DetokenizedCard>;
}

/** The Redis commands the vault uses (an ioredis client, or a stand-in in unit tests). */
export type CardVaultRedis = Pick<Redis, 'get' | 'set' | 'del' | 'pttl'>;

export const DEFAULT_CARD_VAULT_TTL_MS = 48 * 60 * 60 * 1_000;
const MAX_CARD_VAULT_TTL_MS = 30 * 24 * 60 * 60 * 1_000;
export const DEFAULT_CARD_VAULT_KEY_PREFIX = 'clearline:card-vault:';
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;
const AES_KEY_BYTES = 32;
const GCM_IV_BYTES = 12;
const RECORD_VERSION = 1;

interface VaultRecord {
  readonly v: number;
  readonly kid: string;
  readonly iv: string;
  readonly tag: string;
  readonly ct: string;
}

interface VaultPlaintext {
  readonly pan: string;
  readonly expMonth: number;
  readonly expYear: number;
}

export class CardVault implements CardDetokenizer {
  readonly #redis: CardVaultRedis;
  readonly #keyring: CardVaultKeyring;
  readonly #fingerprintKey: Buffer;
  readonly #ttlMs: number;
  readonly #keyPrefix: string;
  readonly #clock: CardClock;

  constructor(redis: CardVaultRedis, options: CardVaultOptions) {
    assertValidKeyring(options.keyring);
    if (options.fingerprintKey.length < MIN_FINGERPRINT_KEY_BYTES) {
      throw new CardVaultError('invalid_configuration', `fingerprint key must have at least ${MIN_FINGERPRINT_KEY_BYTES} bytes`);
    }
    const ttlMs = options.ttlMs ?? DEFAULT_CARD_VAULT_TTL_MS;
    if (!Number.isInteger(ttlMs) || ttlMs < 1_000 || ttlMs > MAX_CARD_VAULT_TTL_MS) {
      throw new CardVaultError('invalid_configuration', `card vault ttlMs must be an integer in 1000..${MAX_CARD_VAULT_TTL_MS}, got ${ttlMs}`);
    }
    this.#redis = redis;
    this.#keyring = options.keyring;
    this.#fingerprintKey = options.fingerprintKey;
    this.#ttlMs = ttlMs;
    this.#keyPrefix = options.keyPrefix ?? DEFAULT_CARD_VAULT_KEY_PREFIX;
    this.#clock = options.clock ?? systemClock;
  }

  /** Validates the card, stores its PAN encrypted under a new token, and returns the safe facts. */
  async tokenize(input: CardInput): Promise<CardToken> {
    const card = validateCard(input, this.#clock.now());
    const plaintext: VaultPlaintext = { pan: card.pan.reveal(), expMonth: card.expMonth, expYear: card.expYear };
    // A collision of 128 random bits will not happen; NX still makes sure it could never overwrite a card.
    for (let tries = 0; tries < 2; tries++) {
      const cardToken = cardTokenOf(card, this.#fingerprintKey);
      const record = this.#encrypt(cardToken.token, plaintext, this.#keyring.activeKeyId);
      const stored = await this.#redis.set(this.#key(cardToken.token), JSON.stringify(record), 'PX', this.#ttlMs, 'NX');
      if (stored === 'OK') return cardToken;
    }
    throw new CardVaultError('token_collision', 'could not store the card under a fresh token');
  }

  /** The card behind a token, PAN wrapped; CardTokenNotFoundError when unknown or expired. */
  async detokenize(token: string): Promise<DetokenizedCard> {
    const record = await this.#load(token);
    const plaintext = this.#decrypt(token, record);
    return Object.freeze({
      token,
      pan: new SecretString(plaintext.pan),
      last4: plaintext.pan.slice(-4),
      brand: cardBrandOf(plaintext.pan),
      expMonth: plaintext.expMonth,
      expYear: plaintext.expYear,
    });
  }

  /** Re-encrypts a record under the active key, keeping its remaining TTL. */
  async rotate(token: string): Promise<'rotated' | 'current' | 'missing'> {
    let record: VaultRecord;
    try {
      record = await this.#load(token);
    } catch (error) {
      if (error instanceof CardTokenNotFoundError) return 'missing';
      throw error;
    }
    if (record.kid === this.#keyring.activeKeyId) return 'current';
    const plaintext = this.#decrypt(token, record);
    const remainingMs = await this.#redis.pttl(this.#key(token));
    if (remainingMs <= 0) return 'missing';
    const rotated = this.#encrypt(token, plaintext, this.#keyring.activeKeyId);
    // XX: if the token expired or was deleted meanwhile, do not bring it back.
    const stored = await this.#redis.set(this.#key(token), JSON.stringify(rotated), 'PX', remainingMs, 'XX');
    return stored === 'OK' ? 'rotated' : 'missing';
  }

  /** Forgets a token (after authorization, or on the customer's request). True if it existed. */
  async delete(token: string): Promise<boolean> {
    if (!CARD_TOKEN_PATTERN.test(token)) return false;
    return (await this.#redis.del(this.#key(token))) === 1;
  }

  #key(token: string): string {
    return `${this.#keyPrefix}${token}`;
  }

  async #load(token: string): Promise<VaultRecord> {
    if (typeof token !== 'string' || !CARD_TOKEN_PATTERN.test(token)) throw new CardTokenNotFoundError();
    const raw = await this.#redis.get(this.#key(token));
    if (raw === null) throw new CardTokenNotFoundError();
    return parseRecord(raw);
  }

  #encrypt(token: string, plaintext: VaultPlaintext, keyId: string): VaultRecord {
    const iv = randomBytes(GCM_IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#keyFor(keyId), iv);
    cipher.setAAD(associatedData(token));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(plaintext), 'utf8'), cipher.final()]);
    return { v: RECORD_VERSION, kid: keyId, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ciphertext.toString('base64') };
  }

  #decrypt(token: string, record: VaultRecord): VaultPlaintext {
    const key = this.#keyFor(record.kid);
    let json: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(record.iv, 'base64'));
      decipher.setAAD(associatedData(token));
      decipher.setAuthTag(Buffer.from(record.tag, 'base64'));
      json = Buffer.concat([decipher.update(Buffer.from(record.ct, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      // Node's own message is generic, but it is dropped anyway: nothing from the crypto layer reaches a log.
      throw new CardVaultError('decryption_failed', `card vault record does not decrypt under key '${record.kid}' (tampered, moved to another token, or wrong key material)`);
    }
    let parsed: Partial<VaultPlaintext>;
    try {
      parsed = JSON.parse(json) as Partial<VaultPlaintext>;
    } catch {
      // V8 quotes the start of the offending text in a SyntaxError: here that text is the PAN.
      throw new CardVaultError('malformed_record', 'card vault record decrypts to something that is not JSON');
    }
    if (typeof parsed.pan !== 'string' || typeof parsed.expMonth !== 'number' || typeof parsed.expYear !== 'number') {
      throw new CardVaultError('malformed_record', 'card vault record decrypts to an unexpected shape');
    }
    return { pan: parsed.pan, expMonth: parsed.expMonth, expYear: parsed.expYear };
  }

  #keyFor(keyId: string): Buffer {
    const key = Object.hasOwn(this.#keyring.keys, keyId) ? this.#keyring.keys[keyId] : undefined;
    if (key === undefined) {
      throw new CardVaultError('unknown_key_id', `card vault key '${keyId}' is not configured (retired before its records expired?)`);
    }
    return key;
  }
}

/**
 * Binds a ciphertext to its token: a record copied under another token fails authentication
 * instead of handing out someone else's card.
 */
function associatedData(token: string): Buffer {
  return Buffer.from(`clearline-card-vault:v${RECORD_VERSION}:${token}`, 'utf8');
}

function parseRecord(raw: string): VaultRecord {
  let parsed: Partial<VaultRecord>;
  try {
    parsed = JSON.parse(raw) as Partial<VaultRecord>;
  } catch {
    throw new CardVaultError('malformed_record', 'card vault record is not JSON');
  }
  const { v, kid, iv, tag, ct } = parsed;
  if (v !== RECORD_VERSION || typeof kid !== 'string' || typeof iv !== 'string' || typeof tag !== 'string' || typeof ct !== 'string') {
    throw new CardVaultError('malformed_record', `card vault record is not a version ${RECORD_VERSION} record`);
  }
  return { v, kid, iv, tag, ct };
}

function assertValidKeyring(keyring: CardVaultKeyring): void {
  const ids = Object.keys(keyring.keys);
  if (ids.length === 0) throw new CardVaultError('invalid_configuration', 'card vault keyring has no keys');
  for (const id of ids) {
    if (!KEY_ID_PATTERN.test(id)) throw new CardVaultError('invalid_configuration', `card vault key id must match ${KEY_ID_PATTERN}`);
    if (keyring.keys[id]!.length !== AES_KEY_BYTES) {
      throw new CardVaultError('invalid_configuration', `card vault key '${id}' must be ${AES_KEY_BYTES} bytes for AES-256`);
    }
  }
  if (!ids.includes(keyring.activeKeyId)) {
    throw new CardVaultError('invalid_configuration', `card vault active key '${keyring.activeKeyId}' is not in the keyring`);
  }
}

/**
 * The vault's secrets from the environment:
 * `CARD_VAULT_KEYS` = `id:base64key,id:base64key` (32-byte AES keys), `CARD_VAULT_ACTIVE_KEY_ID`,
 * `CARD_FINGERPRINT_KEY` (base64, at least 32 bytes). Errors name the variable, never its value.
 */
export function cardVaultSecretsFromEnv(environment: Readonly<Record<string, string | undefined>>): {
  keyring: CardVaultKeyring;
  fingerprintKey: Buffer;
} {
  const keysText = environment['CARD_VAULT_KEYS'];
  const activeKeyId = environment['CARD_VAULT_ACTIVE_KEY_ID'];
  const fingerprintText = environment['CARD_FINGERPRINT_KEY'];
  if (!keysText) throw new CardVaultError('invalid_configuration', 'CARD_VAULT_KEYS is not set (id:base64key,...)');
  if (!activeKeyId) throw new CardVaultError('invalid_configuration', 'CARD_VAULT_ACTIVE_KEY_ID is not set');
  if (!fingerprintText) throw new CardVaultError('invalid_configuration', 'CARD_FINGERPRINT_KEY is not set (base64, 32 bytes or more)');
  const keys: Record<string, Buffer> = {};
  for (const entry of keysText.split(',')) {
    const separator = entry.indexOf(':');
    const id = entry.slice(0, separator).trim();
    if (separator <= 0 || !KEY_ID_PATTERN.test(id)) {
      throw new CardVaultError('invalid_configuration', 'CARD_VAULT_KEYS must be a comma-separated list of id:base64key');
    }
    if (Object.hasOwn(keys, id)) throw new CardVaultError('invalid_configuration', `CARD_VAULT_KEYS names key '${id}' twice`);
    keys[id] = Buffer.from(entry.slice(separator + 1).trim(), 'base64');
  }
  const keyring = { activeKeyId, keys };
  assertValidKeyring(keyring);
  const fingerprintKey = Buffer.from(fingerprintText, 'base64');
  if (fingerprintKey.length < MIN_FINGERPRINT_KEY_BYTES) {
    throw new CardVaultError('invalid_configuration', `CARD_FINGERPRINT_KEY must decode to at least ${MIN_FINGERPRINT_KEY_BYTES} bytes`);
  }
  return { keyring, fingerprintKey };
}
