import { DEVELOPMENT_CHANNEL_CREDENTIALS } from '@clearline/contracts';
import { ConfigurationError } from '@clearline/service-runtime';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Who may call the gateway: channels (card_acquiring, e_wallet, mobile, partner_bank, ...) and
 * analysts, each with at most two active signing keys (old and new, during a rotation). The HMAC
 * needs the secret itself, so it cannot be hashed: the configuration holds each secret encrypted
 * (AES-256-GCM) under GATEWAY_CHANNEL_SECRETS_KEY, and only this process, holding that key, sees
 * the plain secret, in memory. Never logged, never in an error message.
 */
export type ClientRole = 'channel' | 'analyst';

export interface RateLimit {
  /** Sustained requests per second (the bucket's refill rate). */
  requestsPerSecond: number;
  /** Requests that may arrive at once (the bucket's size). */
  burst: number;
}

export interface ClientKey {
  keyId: string;
  client: string;
  role: ClientRole;
  secret: Buffer;
}

export interface ChannelKeyring {
  source: 'configured' | 'development_defaults';
  keyById(keyId: string): ClientKey | undefined;
  rateLimitOf(client: string): RateLimit;
}

export const MAX_ACTIVE_KEYS_PER_CLIENT = 2;
export const DEFAULT_RATE_LIMIT: RateLimit = { requestsPerSecond: 50, burst: 100 };
const KEY_ID = /^[A-Za-z0-9._-]{3,64}$/;
const CLIENT_NAME = /^[a-z][a-z0-9_]{1,63}$/;
const ENCRYPTED_SECRET = /^v1\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{22})$/;
const MIN_SECRET_BYTES = 32;

/** The configuration file's shape (GATEWAY_CHANNELS_FILE or GATEWAY_CHANNELS). */
interface KeyringDocument {
  clients: Record<string, { role?: ClientRole; rateLimit?: Partial<RateLimit>; keys: { keyId: string; secret: string }[] }>;
}

/** Encrypts a secret for the configuration: `v1.<iv>.<ciphertext>.<tag>`, base64url, AES-256-GCM with the key id as additional data. */
export function encryptChannelSecret(secret: string, keyId: string, encryptionKey: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv).setAAD(Buffer.from(keyId));
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

function decryptChannelSecret(encrypted: string, keyId: string, encryptionKey: Buffer): Buffer {
  const parts = ENCRYPTED_SECRET.exec(encrypted);
  if (!parts) throw new ConfigurationError(`channel key '${keyId}': the secret must be encrypted (v1.<iv>.<ciphertext>.<tag>; see docs/security.md)`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey, Buffer.from(parts[1]!, 'base64url')).setAAD(Buffer.from(keyId));
    decipher.setAuthTag(Buffer.from(parts[3]!, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(parts[2]!, 'base64url')), decipher.final()]);
  } catch {
    // The cause would say nothing useful and must not carry key material: only which key failed.
    throw new ConfigurationError(`channel key '${keyId}': the secret does not decrypt under GATEWAY_CHANNEL_SECRETS_KEY`);
  }
}

/** The 32-byte key-encryption key from GATEWAY_CHANNEL_SECRETS_KEY (base64 or base64url). */
export function secretsEncryptionKeyFrom(value: string | undefined): Buffer {
  const key = Buffer.from(value ?? '', 'base64');
  if (key.length !== 32) throw new ConfigurationError('GATEWAY_CHANNEL_SECRETS_KEY must be 32 random bytes in base64 (openssl rand -base64 32)');
  return key;
}

/**
 * Reads the keyring once at boot. With neither GATEWAY_CHANNELS_FILE nor GATEWAY_CHANNELS set, the
 * public development credentials are trusted (and the caller warns), except with NODE_ENV=production.
 */
export function loadChannelKeyring(environment: NodeJS.ProcessEnv = process.env): ChannelKeyring {
  const production = environment['NODE_ENV'] === 'production';
  const file = environment['GATEWAY_CHANNELS_FILE'];
  const inline = environment['GATEWAY_CHANNELS'];
  if (!file && !inline) {
    if (production) throw new ConfigurationError('NODE_ENV=production needs channel keys: set GATEWAY_CHANNELS_FILE (or GATEWAY_CHANNELS) and GATEWAY_CHANNEL_SECRETS_KEY');
    return developmentKeyring();
  }
  const text = file ? readFileSync(file, 'utf8') : inline!;
  let document: KeyringDocument;
  try {
    document = JSON.parse(text) as KeyringDocument;
  } catch {
    throw new ConfigurationError(`${file ? 'GATEWAY_CHANNELS_FILE' : 'GATEWAY_CHANNELS'} is not valid JSON`);
  }
  const keyring = keyringFrom(document, secretsEncryptionKeyFrom(environment['GATEWAY_CHANNEL_SECRETS_KEY']));
  if (production) refuseDevelopmentSecrets(keyring, document);
  return keyring;
}

function keyringFrom(document: KeyringDocument, encryptionKey: Buffer): ChannelKeyring {
  if (typeof document !== 'object' || document === null || typeof document.clients !== 'object' || document.clients === null) {
    throw new ConfigurationError('the channel configuration needs a "clients" object');
  }
  const keys = new Map<string, ClientKey>();
  const rateLimits = new Map<string, RateLimit>();
  for (const [client, entry] of Object.entries(document.clients)) {
    if (!CLIENT_NAME.test(client)) throw new ConfigurationError(`client name '${client}' must match ${CLIENT_NAME}`);
    const role = entry.role ?? 'channel';
    if (role !== 'channel' && role !== 'analyst') throw new ConfigurationError(`client '${client}': role must be 'channel' or 'analyst'`);
    if (!Array.isArray(entry.keys) || entry.keys.length < 1 || entry.keys.length > MAX_ACTIVE_KEYS_PER_CLIENT) {
      throw new ConfigurationError(`client '${client}' needs 1 or ${MAX_ACTIVE_KEYS_PER_CLIENT} active keys (the old and the new during a rotation)`);
    }
    for (const { keyId, secret } of entry.keys) {
      if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) throw new ConfigurationError(`client '${client}': key ids must match ${KEY_ID}`);
      if (keys.has(keyId)) throw new ConfigurationError(`key id '${keyId}' is used twice`);
      const plain = decryptChannelSecret(String(secret), keyId, encryptionKey);
      if (plain.length < MIN_SECRET_BYTES) throw new ConfigurationError(`channel key '${keyId}': the secret must be at least ${MIN_SECRET_BYTES} bytes`);
      keys.set(keyId, { keyId, client, role, secret: plain });
    }
    rateLimits.set(client, rateLimitFrom(client, entry.rateLimit));
  }
  return { source: 'configured', keyById: (keyId) => keys.get(keyId), rateLimitOf: (client) => rateLimits.get(client) ?? DEFAULT_RATE_LIMIT };
}

function rateLimitFrom(client: string, given: Partial<RateLimit> | undefined): RateLimit {
  const limit = { ...DEFAULT_RATE_LIMIT, ...given };
  const valid = (value: number) => Number.isFinite(value) && value > 0 && value <= 100_000;
  if (!valid(limit.requestsPerSecond) || !valid(limit.burst) || !Number.isInteger(limit.burst)) {
    throw new ConfigurationError(`client '${client}': rateLimit needs requestsPerSecond > 0 and a whole burst > 0 (at most 100000)`);
  }
  return limit;
}

function developmentKeyring(): ChannelKeyring {
  const keys = new Map<string, ClientKey>(Object.entries(DEVELOPMENT_CHANNEL_CREDENTIALS).map(([client, { keyId, secret }]) => [
    keyId, { keyId, client, role: client === 'analyst' ? 'analyst' : 'channel', secret: Buffer.from(secret) },
  ]));
  return { source: 'development_defaults', keyById: (keyId) => keys.get(keyId), rateLimitOf: () => DEFAULT_RATE_LIMIT };
}

/** Production must not accept a request signed with a published secret, even if someone configured it. */
function refuseDevelopmentSecrets(keyring: ChannelKeyring, document: KeyringDocument): void {
  const published = new Set<string>(Object.values(DEVELOPMENT_CHANNEL_CREDENTIALS).map(({ secret }) => secret));
  for (const entry of Object.values(document.clients)) {
    for (const { keyId } of entry.keys) {
      if (published.has(keyring.keyById(keyId)!.secret.toString('utf8'))) {
        throw new ConfigurationError(`channel key '${keyId}' uses a published development secret; NODE_ENV=production refuses it`);
      }
    }
  }
}
