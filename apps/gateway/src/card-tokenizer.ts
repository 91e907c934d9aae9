import { Inject, Injectable } from '@nestjs/common';
import { CardVault, cardFingerprint, cardVaultSecretsForService, SecretString, type CardInput, type CardToken } from '@clearline/cards';
import { LOGGER, REDIS, type Logger } from '@clearline/service-runtime';
import type { Redis } from 'ioredis';

/**
 * The gateway's side of the card vault (PCI DSS): a card number and CVV taken from a request are
 * tokenised at once into the vault in Redis, and only the token, fingerprint, last4, brand and
 * expiry go further. The secrets come from CARD_VAULT_KEYS, CARD_VAULT_ACTIVE_KEY_ID and
 * CARD_FINGERPRINT_KEY, or, when none is set outside production, the public development keys
 * (libs/cards README, "Keys in a service").
 */
@Injectable()
export class CardTokenizer {
  private readonly vault: CardVault;
  private readonly fingerprintKey: Buffer;

  constructor(@Inject(REDIS) redis: Redis, @Inject(LOGGER) logger: Logger) {
    const secrets = cardVaultSecretsForService(process.env);
    if (secrets.source === 'development_defaults') {
      logger.warn('card vault: CARD_VAULT_KEYS, CARD_VAULT_ACTIVE_KEY_ID and CARD_FINGERPRINT_KEY are not set; using the public development keys (test cards only)');
    }
    this.vault = new CardVault(redis, secrets);
    this.fingerprintKey = secrets.fingerprintKey;
  }

  /** Validates the card and stores it; CardValidationError (never quoting the input) when it is not a usable card. */
  tokenize(card: CardInput): Promise<CardToken> {
    return this.vault.tokenize(card);
  }

  /** Forgets a token that no command will ever name (the command could not be sent). */
  async forget(token: string): Promise<void> {
    await this.vault.delete(token);
  }

  /** The card's fingerprint (HMAC under the fingerprint key), for what must tell cards apart without holding them. */
  fingerprintOf(cardNumber: string): string {
    return cardFingerprint(new SecretString(cardNumber), this.fingerprintKey);
  }
}
