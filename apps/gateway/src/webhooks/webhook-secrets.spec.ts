// Proves the signing secrets at rest: random, encrypted (the ciphertext does not hold the secret),
// bound to their subscription, unreadable under another key; and the key's configuration.
import { randomBytes, randomUUID } from 'node:crypto';
import { decryptWebhookSecret, encryptWebhookSecret, newWebhookSecret, webhookSecretsKeyFrom } from './webhook-secrets.js';

const key = randomBytes(32);

describe('webhook signing secrets', () => {
  it('are whsec_ and 32 random bytes, never twice the same', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(newWebhookSecret()).not.toBe(secret);
  });

  it('decrypt to themselves for their own subscription only', () => {
    const secret = newWebhookSecret();
    const subscriptionId = randomUUID();
    const encrypted = encryptWebhookSecret(secret, subscriptionId, key);
    expect(encrypted).not.toContain(secret.slice(6));
    expect(decryptWebhookSecret(encrypted, subscriptionId, key)).toBe(secret);
    expect(() => decryptWebhookSecret(encrypted, randomUUID(), key)).toThrow(/does not decrypt/);
    expect(() => decryptWebhookSecret(encrypted, subscriptionId, randomBytes(32))).toThrow(/does not decrypt/);
    expect(() => decryptWebhookSecret('plain', subscriptionId, key)).toThrow(/does not decrypt/);
  });

  it('are encrypted under GATEWAY_CHANNEL_SECRETS_KEY, required in production', () => {
    expect(webhookSecretsKeyFrom({ GATEWAY_CHANNEL_SECRETS_KEY: key.toString('base64') })).toEqual({ key, source: 'environment' });
    expect(webhookSecretsKeyFrom({}).source).toBe('development_default');
    expect(() => webhookSecretsKeyFrom({ NODE_ENV: 'production' })).toThrow(/GATEWAY_CHANNEL_SECRETS_KEY/);
    expect(() => webhookSecretsKeyFrom({ GATEWAY_CHANNEL_SECRETS_KEY: 'short' })).toThrow(/32 random bytes/);
  });
});
