/** Injection tokens of the webhooks module. */
export const WEBHOOK_POOL = Symbol('WEBHOOK_POOL');
export const WEBHOOK_SETTINGS = Symbol('WEBHOOK_SETTINGS');
export const WEBHOOK_SECRETS_KEY = Symbol('WEBHOOK_SECRETS_KEY');
