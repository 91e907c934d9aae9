// Proves where a service's vault secrets come from: the environment when any variable is set (all
// three then required, errors naming the variable and never the value), the public development keys
// when none is, and never the development keys under NODE_ENV=production.
import { CardVaultError } from './card-errors.js';
import { cardVaultSecretsForService, DEVELOPMENT_CARD_VAULT_ENVIRONMENT } from './card-vault-secrets.js';

const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');

describe('cardVaultSecretsForService', () => {
  it('reads the environment when the variables are set', () => {
    const secrets = cardVaultSecretsForService({ CARD_VAULT_KEYS: `k1:${key(1)}`, CARD_VAULT_ACTIVE_KEY_ID: 'k1', CARD_FINGERPRINT_KEY: key(2), NODE_ENV: 'production' });
    expect(secrets.source).toBe('environment');
    expect(secrets.keyring.activeKeyId).toBe('k1');
    expect(secrets.fingerprintKey.equals(Buffer.alloc(32, 2))).toBe(true);
  });

  it('refuses a partial configuration, naming the missing variable and not the given value', () => {
    const secret = key(7);
    const attempt = () => cardVaultSecretsForService({ CARD_VAULT_KEYS: `k1:${secret}`, CARD_VAULT_ACTIVE_KEY_ID: 'k1' });
    expect(attempt).toThrow(CardVaultError);
    expect(attempt).toThrow(/CARD_FINGERPRINT_KEY/);
    expect(() => attempt()).not.toThrow(new RegExp(secret.replace(/[+/=]/g, '.')));
  });

  it('falls back to the development keys when nothing is set outside production', () => {
    const secrets = cardVaultSecretsForService({});
    expect(secrets.source).toBe('development_defaults');
    expect(secrets.keyring.activeKeyId).toBe(DEVELOPMENT_CARD_VAULT_ENVIRONMENT.CARD_VAULT_ACTIVE_KEY_ID);
    expect(secrets.keyring.keys['dev-1']).toHaveLength(32);
    expect(secrets.fingerprintKey).toHaveLength(32);
  });

  it('never uses the development keys in production', () => {
    expect(() => cardVaultSecretsForService({ NODE_ENV: 'production' })).toThrow(/must be set when NODE_ENV is production/);
  });
});
