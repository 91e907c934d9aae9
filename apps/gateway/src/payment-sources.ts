// Where the money of a payment comes from, checked at the edge: one source object per method (card
// details, an e-wallet id, a phone number; none for the internal wallet), card problems told by
// reason without ever quoting the card, free text that holds a card number refused, and the
// request body as the idempotency store may see it (card number replaced by its fingerprint, CVV gone).
import { luhnValid, type CardValidationError, type CardValidationReason } from '@clearline/cards';
import type { PaymentMethod } from '@clearline/contracts';

/** The source object each method needs; the internal wallet moves money between ledger accounts and needs none. */
const SOURCE_FIELD_OF: Readonly<Record<PaymentMethod, 'card' | 'eWallet' | 'mobileMoney' | null>> = {
  wallet: null,
  card: 'card',
  e_wallet: 'eWallet',
  mobile_money: 'mobileMoney',
};
const SOURCE_FIELDS = ['card', 'eWallet', 'mobileMoney'] as const;

/** Why the body's source objects do not fit its method, or undefined when they do. */
export function paymentSourceProblem(body: { method: PaymentMethod } & Partial<Record<(typeof SOURCE_FIELDS)[number], unknown>>): string | undefined {
  const expected = SOURCE_FIELD_OF[body.method];
  const given = SOURCE_FIELDS.filter((field) => body[field] !== undefined);
  const unexpected = given.filter((field) => field !== expected);
  if (unexpected.length > 0) {
    return `method '${body.method}' takes ${expected === null ? 'no source object' : `only '${expected}'`}; remove ${unexpected.map((field) => `'${field}'`).join(', ')}`;
  }
  if (expected !== null && !given.includes(expected)) return `method '${body.method}' needs '${expected}'`;
  return undefined;
}

/** The body field a card validation failure is about. */
const FIELD_OF_REASON: Readonly<Record<CardValidationReason, string>> = {
  pan_format: 'card.number',
  pan_length: 'card.number',
  pan_luhn: 'card.number',
  expiry_month: 'card.expMonth',
  expiry_year: 'card.expYear',
  card_expired: 'card.expYear',
  cvv_format: 'card.cvv',
};

/**
 * The problem document's parts for a card the vault refused. The card library's messages never
 * contain the input, so they can be shown as they are.
 */
export function cardProblem(error: CardValidationError): { detail: string; extensions: { reason: CardValidationReason; errors: string[] } } {
  const field = FIELD_OF_REASON[error.reason];
  return { detail: `${field}: ${error.message}`, extensions: { reason: error.reason, errors: [`${field}: ${error.message}`] } };
}

/** A run of 13-19 digits, single spaces or hyphens allowed between them, not inside a longer number. */
const DIGIT_RUN = /(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])/g;

/** Whether free text holds what looks like a card number (a Luhn-valid run of 13-19 digits). */
export function containsCardNumber(text: string): boolean {
  for (const match of text.matchAll(DIGIT_RUN)) {
    if (luhnValid(match[0].replace(/[ -]/g, ''))) return true;
  }
  return false;
}

/**
 * The request body the idempotency store hashes: the card number replaced by its fingerprint (a keyed
 * HMAC, so the same card still makes the same request, and the hash cannot be reversed by enumerating
 * card numbers) and the CVV left out (PCI DSS: never kept after authorization, not even hashed).
 * Any other body is returned as it is.
 */
export function withoutCardSecrets(body: unknown, fingerprintOf: (cardNumber: string) => string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const card = (body as { card?: unknown }).card;
  if (typeof card !== 'object' || card === null || Array.isArray(card)) return body;
  const { number, cvv: _cvv, ...rest } = card as Record<string, unknown>;
  const cardNumber = typeof number === 'string' ? number.replace(/[ -]/g, '') : JSON.stringify(number ?? null);
  return { ...body, card: { ...rest, numberFingerprint: fingerprintOf(cardNumber) } };
}
