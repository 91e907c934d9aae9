// Public API of @clearline/cards: card data in, safe card facts out. Validation (Luhn, brand,
// expiry, CVV), tokens and keyed fingerprints, the AES-256-GCM card vault on Redis, the secret
// wrapper that keeps a PAN out of every log line, and the scanner the PAN-leak tests share.
// Nothing else is exported.
export { SecretString } from './secret-string.js';
export { CARD_BRANDS, cardBrandOf, PAN_LENGTHS, type CardBrand } from './card-brand.js';
export {
  CardTokenNotFoundError,
  CardValidationError,
  CardVaultError,
  type CardValidationReason,
  type CardVaultFailure,
} from './card-errors.js';
export {
  CARD_TOKEN_PATTERN,
  cardFingerprint,
  cardTokenOf,
  luhnValid,
  newCardToken,
  validateCard,
  type CardInput,
  type CardToken,
  type ValidatedCard,
} from './card-tokenization.js';
export {
  CardVault,
  cardVaultSecretsFromEnv,
  DEFAULT_CARD_VAULT_KEY_PREFIX,
  DEFAULT_CARD_VAULT_TTL_MS,
  type CardClock,
  type CardDetokenizer,
  type CardVaultKeyring,
  type CardVaultOptions,
  type CardVaultRedis,
  type DetokenizedCard,
} from './card-vault.js';
export {
  cardVaultSecretsForService,
  DEVELOPMENT_CARD_VAULT_ENVIRONMENT,
  type ServiceCardVaultSecrets,
} from './card-vault-secrets.js';
export {
  assertNoCardData,
  cardDataRenderings,
  panRenderings,
  textHoldsCardData,
  type CardDataProbe,
} from './card-data-scanner.js';
export { inMemoryVaultRedis } from './in-memory-vault-redis.js';
