// Card brand from the IIN (the leading digits of the PAN) and the PAN lengths each brand issues.
// The ranges are the networks' published ones; where two overlap (Discover accepts UnionPay's
// 622126-622925 on its network) the table order decides, more specific ranges first.

export const CARD_BRANDS = ['visa', 'mastercard', 'amex', 'discover', 'unionpay', 'jcb', 'unknown'] as const;
export type CardBrand = (typeof CARD_BRANDS)[number];

interface IinRange {
  readonly brand: Exclude<CardBrand, 'unknown'>;
  /** Inclusive range over the first `digits` digits of the PAN. */
  readonly from: number;
  readonly to: number;
  readonly digits: number;
}

const range = (brand: IinRange['brand'], from: number, to: number = from): IinRange => ({ brand, from, to, digits: String(from).length });

const IIN_RANGES: readonly IinRange[] = [
  range('amex', 34),
  range('amex', 37),
  range('jcb', 3528, 3589),
  range('discover', 6011),
  range('discover', 622126, 622925),
  range('discover', 644, 649),
  range('discover', 65),
  range('unionpay', 62),
  range('unionpay', 81),
  range('mastercard', 51, 55),
  range('mastercard', 2221, 2720),
  range('visa', 4),
];

/** Lengths each brand issues; an unknown brand may be any ISO/IEC 7812 length from 12 to 19. */
export const PAN_LENGTHS: Readonly<Record<CardBrand, readonly number[]>> = {
  visa: [13, 16, 19],
  mastercard: [16],
  amex: [15],
  discover: [16, 17, 18, 19],
  unionpay: [16, 17, 18, 19],
  jcb: [16, 17, 18, 19],
  unknown: [12, 13, 14, 15, 16, 17, 18, 19],
};

/** The brand of a PAN of digits only (validate the format first). */
export function cardBrandOf(pan: string): CardBrand {
  for (const candidate of IIN_RANGES) {
    if (pan.length < candidate.digits) continue;
    const prefix = Number(pan.slice(0, candidate.digits));
    if (prefix >= candidate.from && prefix <= candidate.to) return candidate.brand;
  }
  return 'unknown';
}
