// Where a service gets the vault's secrets: the environment (cardVaultSecretsFromEnv), or, on a
// developer's machine where none are set, fixed development keys so `npm start` and the tests run
// without setup. Those keys are public (they are in this file): they protect test cards only, which
// is why production (NODE_ENV=production) refuses to start without real ones.
import { CardVaultError } from './card-errors.js';
import { cardVaultSecretsFromEnv, type CardVaultKeyring } from './card-vault.js';

const SECRET_VARIABLES = ['CARD_VAULT_KEYS', 'CARD_VAULT_ACTIVE_KEY_ID', 'CARD_FINGERPRINT_KEY'] as const;

/**
 * The development secrets, in the environment's own format. Every service that uses the vault gets
 * the same ones, so a token minted by the gateway detokenizes in the service that calls the acquirer.
 * Never use them for a real card.
 */
export const DEVELOPMENT_CARD_VAULT_ENVIRONMENT: Readonly<Record<(typeof SECRET_VARIABLES)[number], string>> = {
  // sha256('clearline development card vault key 1 (public: test cards only)')
  CARD_VAULT_KEYS: 'dev-1:9hdWOQySSEv2fjNXoXBqPmjASe0CBvqt7tJua+lJ8s4=',
  CARD_VAULT_ACTIVE_KEY_ID: 'dev-1',
  // sha256('clearline development card fingerprint key (public: test cards only)')
  CARD_FINGERPRINT_KEY: 'j04CfRg5kW6SI1sTy0GMU1XRI3a+a7U9DdVRt1H9HnY=',
};

export interface ServiceCardVaultSecrets {
  readonly keyring: CardVaultKeyring;
  readonly fingerprintKey: Buffer;
  /** `development_defaults` when none of the variables was set (log it at boot: it must never happen in production). */
  readonly source: 'environment' | 'development_defaults';
}

/**
 * The vault secrets a service runs with. Any of the three variables set: all three are read (and a
 * missing or bad one is an error naming it, never its value). None set: the development secrets,
 * unless NODE_ENV is `production`, which is an error.
 */
export function cardVaultSecretsForService(environment: Readonly<Record<string, string | undefined>>): ServiceCardVaultSecrets {
  const anySet = SECRET_VARIABLES.some((name) => environment[name] !== undefined && environment[name] !== '');
  if (anySet) return { ...cardVaultSecretsFromEnv(environment), source: 'environment' };
  if (environment['NODE_ENV'] === 'production') {
    throw new CardVaultError('invalid_configuration', `${SECRET_VARIABLES.join(', ')} must be set when NODE_ENV is production (the development keys are public)`);
  }
  return { ...cardVaultSecretsFromEnv(DEVELOPMENT_CARD_VAULT_ENVIRONMENT), source: 'development_defaults' };
}
