// A string that refuses to be printed. PANs and CVVs live in memory only inside one of these, so
// a careless log line, JSON.stringify, template string or util.inspect shows '[REDACTED]' instead.

const REDACTED = '[REDACTED]';

export class SecretString {
  // An ES private field: not an own enumerable property, so JSON.stringify, Object.keys, spread,
  // structuredClone and Jest's pretty-format cannot reach it.
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The secret itself. Call it only at the point of use (encryption, the provider request). */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SecretString(${REDACTED})`;
  }
}
