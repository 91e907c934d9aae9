// Looks for card data in anything that could be written somewhere: the check behind every PAN-leak
// test (this library's, the connectors', the gateway's). A value is turned into every text it could
// become (JSON, string conversion, util.inspect with hidden properties, a deep walk of its own
// properties, a pino log line, an error's message and stack) and each text is searched.
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { pino } from 'pino';

/** What to look for: whole numbers in any grouping, and a CVV as a number on its own. */
export interface CardDataProbe {
  readonly forbidden: readonly string[];
  readonly cvv?: string;
}

/**
 * The texts a PAN may appear as: digits only, grouped by four with spaces or hyphens, and its
 * middle digits (PCI DSS allows showing the first six and last four, nothing between).
 */
export function panRenderings(pan: string): string[] {
  const groups = pan.match(/.{1,4}/g) ?? [pan];
  return [pan, groups.join(' '), groups.join('-'), pan.slice(6, -4)];
}

function deepStrings(value: unknown, seen = new Set<unknown>()): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'bigint' || typeof value === 'number') return [String(value)];
  if (typeof value !== 'object' || value === null || seen.has(value)) return [];
  seen.add(value);
  return Reflect.ownKeys(value).flatMap((key) => {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    return [String(key), ...deepStrings(descriptor && 'value' in descriptor ? descriptor.value : undefined, seen)];
  });
}

/** Every way the value could end up as text, each marked with whether it holds a stack trace. */
export function cardDataRenderings(value: unknown): { text: string; hasStack: boolean }[] {
  const lines: string[] = [];
  // No timestamp, pid or hostname: their digits would only add noise to the CVV search.
  const logger = pino({ level: 'trace', base: null, timestamp: false }, new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
  if (value instanceof Error) logger.error(value, 'failed');
  else logger.info({ value }, 'result');
  const isError = value instanceof Error;
  const plain = [
    JSON.stringify(value, (_key, field) => (typeof field === 'bigint' ? field.toString() : field)) ?? '',
    String(value),
    `${value as string}`,
    ...(isError ? [value.message] : []),
  ];
  const withStack = [inspect(value, { depth: Infinity, showHidden: true, getters: true }), ...deepStrings(value), ...lines, ...(isError ? [value.stack ?? ''] : [])];
  return [...plain.map((text) => ({ text, hasStack: false })), ...withStack.map((text) => ({ text, hasStack: isError }))];
}

/**
 * Whether a text holds card data. The CVV is searched only in texts without a stack trace: three
 * digits also occur by chance in stack-trace line numbers.
 */
export function textHoldsCardData(text: string, probe: CardDataProbe, hasStack = false): boolean {
  if (probe.forbidden.some((forbidden) => forbidden !== '' && text.includes(forbidden))) return true;
  if (probe.cvv === undefined || hasStack) return false;
  return new RegExp(`(?<![0-9A-Za-z])${probe.cvv}(?![0-9A-Za-z])`).test(text);
}

/** Throws (naming `label`, quoting the start of the offending text) when any rendering of `value` holds card data. */
export function assertNoCardData(label: string, value: unknown, probe: CardDataProbe): void {
  for (const { text, hasStack } of cardDataRenderings(value)) {
    if (textHoldsCardData(text, probe, hasStack)) throw new Error(`${label} leaks card data in: ${text.slice(0, 200)}`);
  }
}
