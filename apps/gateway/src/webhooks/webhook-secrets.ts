// A subscription's signing secret: made here, shown to its channel once, kept only encrypted
// (AES-256-GCM, the scheme of channel-keys.ts) under the gateway's secrets key, with the
// subscription id as additional data. No I/O; never log what these functions take or return.
import { ConfigurationError } from '@clearline/service-runtime';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { secretsEncryptionKeyFrom } from '../channel-keys.js';

const SECRET_PREFIX = 'whsec_';
const ENCRYPTED_SECRET = /^v1\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{22})$/;

/**
 * The key-encryption key outside production when GATEWAY_CHANNEL_SECRETS_KEY is unset: public (it is
 * derived from this sentence), so the secrets it protects are development ones only.
 */
const DEVELOPMENT_KEY = createHash('sha256').update('clearline development webhook secrets key (public: development only)').digest();

export interface WebhookSecretsKey {
  key: Buffer;
  source: 'environment' | 'development_default';
}

/** GATEWAY_CHANNEL_SECRETS_KEY (the gateway's one secrets key); required when NODE_ENV=production. */
export function webhookSecretsKeyFrom(environment: NodeJS.ProcessEnv): WebhookSecretsKey {
  const configured = environment['GATEWAY_CHANNEL_SECRETS_KEY'];
  if (configured) return { key: secretsEncryptionKeyFrom(configured), source: 'environment' };
  if (environment['NODE_ENV'] === 'production') throw new ConfigurationError('NODE_ENV=production needs GATEWAY_CHANNEL_SECRETS_KEY to encrypt webhook signing secrets');
  return { key: DEVELOPMENT_KEY, source: 'development_default' };
}

/** A new signing secret: `whsec_` and 32 random bytes in base64url. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function encryptWebhookSecret(secret: string, subscriptionId: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(subscriptionId));
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** Throws (naming only the subscription) when the text is not a secret encrypted under `key` for this subscription. */
export function decryptWebhookSecret(encrypted: string, subscriptionId: string, key: Buffer): string {
  const parts = ENCRYPTED_SECRET.exec(encrypted);
  try {
    if (!parts) throw new Error('not an encrypted secret');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[1]!, 'base64url')).setAAD(Buffer.from(subscriptionId));
    decipher.setAuthTag(Buffer.from(parts[3]!, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(parts[2]!, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    // The cause says nothing useful and must not carry key material.
    throw new Error(`the signing secret of webhook subscription ${subscriptionId} does not decrypt under GATEWAY_CHANNEL_SECRETS_KEY`);
  }
}
