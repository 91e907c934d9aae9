// Card data in, safe card facts out: Luhn and format validation with clear (PAN-free) errors, the
// brand from the IIN, last4, expiry, a random opaque token and a keyed fingerprint. The fingerprint
// is an HMAC, not a plain hash: a PAN has so little entropy that an unkeyed SHA-256 of it can be
// reversed by enumerating the card numbers of a BIN.
import { createHmac, randomBytes } from 'node:crypto';
import { cardBrandOf, PAN_LENGTHS, type CardBrand } from './card-brand.js';
import { CardValidationError } from './card-errors.js';
import { SecretString } from './secret-string.js';

/** What a customer typed. Plain strings are accepted at the edge and wrapped at once. */
export interface CardInput {
  readonly pan: string | SecretString;
  readonly expMonth: number;
  /** Four digits (2029) or two (29, meaning 2029). */
  readonly expYear: number;
  readonly cvv?: string | SecretString;
}

/** A card that passed validation: secrets wrapped, the rest normalised. */
export interface ValidatedCard {
  readonly pan: SecretString;
  readonly cvv: SecretString | null;
  readonly brand: CardBrand;
  readonly last4: string;
  readonly expMonth: number;
  readonly expYear: number;
}

/** Everything the platform may keep, log and publish about a card. */
export interface CardToken {
  /** Random and opaque (`tok_` + 128 random bits): says nothing about the card. */
  readonly token: string;
  /** HMAC-SHA256 of the PAN under the fingerprint key, hex: the same card always gives the same value. */
  readonly fingerprint: string;
  readonly last4: string;
  readonly brand: CardBrand;
  readonly expMonth: number;
  readonly expYear: number;
}

const TOKEN_PREFIX = 'tok_';
const TOKEN_RANDOM_BYTES = 16;
/** `tok_` then 22 base64url characters (16 bytes). */
export const CARD_TOKEN_PATTERN = /^tok_[A-Za-z0-9_-]{22}$/;
/** Spaces and hyphens are how people group digits; anything else is not a card number. */
const PAN_INPUT_PATTERN = /^[0-9][0-9 -]*$/;
/** Longest input worth looking at: 19 digits with a separator between each. */
const MAX_PAN_INPUT_LENGTH = 40;
/** A card further in the future than this is a typo (networks issue up to about 10 years). */
const MAX_YEARS_AHEAD = 20;
export const MIN_FINGERPRINT_KEY_BYTES = 32;

/** The Luhn (mod 10) check digit test, over a string of digits. */
export function luhnValid(digits: string): boolean {
  if (!/^[0-9]+$/.test(digits)) return false;
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** Validates and normalises card data; throws CardValidationError (never mentioning the PAN). */
export function validateCard(input: CardInput, nowMs: number): ValidatedCard {
  const pan = normalisePan(reveal(input.pan));
  const brand = cardBrandOf(pan);
  if (!PAN_LENGTHS[brand].includes(pan.length)) {
    const kind = brand === 'unknown' ? 'a card' : `a ${brand} card`;
    throw new CardValidationError('pan_length', `card number has ${pan.length} digits; ${kind} has ${PAN_LENGTHS[brand].join(', ')}`);
  }
  if (!luhnValid(pan)) throw new CardValidationError('pan_luhn', 'card number fails the Luhn check: a digit is mistyped');
  const { expMonth, expYear } = validateExpiry(input.expMonth, input.expYear, nowMs);
  const cvv = input.cvv === undefined ? null : validateCvv(reveal(input.cvv), brand);
  return { pan: new SecretString(pan), cvv, brand, last4: pan.slice(-4), expMonth, expYear };
}

/** HMAC-SHA256 of the PAN digits under `key`, hex. */
export function cardFingerprint(pan: SecretString, key: Buffer): string {
  if (key.length < MIN_FINGERPRINT_KEY_BYTES) {
    throw new RangeError(`fingerprint key must have at least ${MIN_FINGERPRINT_KEY_BYTES} bytes`);
  }
  return createHmac('sha256', key).update(pan.reveal(), 'utf8').digest('hex');
}

export function newCardToken(): string {
  return TOKEN_PREFIX + randomBytes(TOKEN_RANDOM_BYTES).toString('base64url');
}

/** The safe facts of a validated card under a new token. Storing the PAN is the vault's job. */
export function cardTokenOf(card: ValidatedCard, fingerprintKey: Buffer, token: string = newCardToken()): CardToken {
  return Object.freeze({
    token,
    fingerprint: cardFingerprint(card.pan, fingerprintKey),
    last4: card.last4,
    brand: card.brand,
    expMonth: card.expMonth,
    expYear: card.expYear,
  });
}

function reveal(value: string | SecretString): string {
  return value instanceof SecretString ? value.reveal() : value;
}

function normalisePan(raw: unknown): string {
  const trimmed = typeof raw === 'string' ? raw.trim() : '';
  if (trimmed.length > MAX_PAN_INPUT_LENGTH || !PAN_INPUT_PATTERN.test(trimmed)) {
    throw new CardValidationError('pan_format', 'card number must be 12 to 19 digits, optionally grouped with spaces or hyphens');
  }
  return trimmed.replace(/[ -]/g, '');
}

function validateExpiry(month: unknown, year: unknown, nowMs: number): { expMonth: number; expYear: number } {
  if (typeof month !== 'number' || !Number.isInteger(month) || month < 1 || month > 12) {
    throw new CardValidationError('expiry_month', 'expiry month must be an integer from 1 to 12');
  }
  if (typeof year !== 'number' || !Number.isInteger(year) || !((year >= 0 && year <= 99) || (year >= 2000 && year <= 2099))) {
    throw new CardValidationError('expiry_year', 'expiry year must be two digits (29) or four (2029)');
  }
  const fullYear = year < 100 ? 2000 + year : year;
  const now = new Date(nowMs);
  const currentYear = now.getUTCFullYear();
  if (fullYear > currentYear + MAX_YEARS_AHEAD) {
    throw new CardValidationError('expiry_year', `expiry year is more than ${MAX_YEARS_AHEAD} years ahead`);
  }
  // A card is valid through the last day of its expiry month; UTC so the answer does not depend on the server.
  if (fullYear < currentYear || (fullYear === currentYear && month < now.getUTCMonth() + 1)) {
    throw new CardValidationError('card_expired', 'card has expired');
  }
  return { expMonth: month, expYear: fullYear };
}

function validateCvv(raw: unknown, brand: CardBrand): SecretString {
  const lengths = brand === 'amex' ? [4] : brand === 'unknown' ? [3, 4] : [3];
  if (typeof raw !== 'string' || !/^[0-9]+$/.test(raw) || !lengths.includes(raw.length)) {
    throw new CardValidationError('cvv_format', `security code must be ${lengths.join(' or ')} digits for ${brand === 'unknown' ? 'this card' : `a ${brand} card`}`);
  }
  return new SecretString(raw);
}
