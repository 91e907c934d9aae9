// Errors about card data. PCI DSS: no message, property or stack of these ever holds the PAN, the
// CVV, a key or even the raw input; they say what is wrong with it, by a stable reason code.

export type CardValidationReason =
  | 'pan_format'
  | 'pan_length'
  | 'pan_luhn'
  | 'expiry_month'
  | 'expiry_year'
  | 'card_expired'
  | 'cvv_format';

/** The card data a customer typed is not a usable card. Safe to show and to log. */
export class CardValidationError extends Error {
  constructor(
    readonly reason: CardValidationReason,
    message: string,
  ) {
    super(message);
    this.name = 'CardValidationError';
  }
}

/** The token is unknown, malformed or expired (the vault's TTL ran out). Which one is not told. */
export class CardTokenNotFoundError extends Error {
  constructor() {
    super('card token not found: unknown, malformed, or expired from the vault');
    this.name = 'CardTokenNotFoundError';
  }
}

export type CardVaultFailure = 'unknown_key_id' | 'decryption_failed' | 'malformed_record' | 'token_collision' | 'invalid_configuration';

/** The vault cannot do its job (configuration, a key it no longer has, a tampered record). */
export class CardVaultError extends Error {
  constructor(
    readonly reason: CardVaultFailure,
    message: string,
  ) {
    super(message);
    this.name = 'CardVaultError';
  }
}
