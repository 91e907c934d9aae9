/** Injection tokens for what ServiceRuntimeModule provides. Classes are their own tokens. */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
export const LOGGER = Symbol('LOGGER');
export const POSTGRES_POOL = Symbol('POSTGRES_POOL');
export const REDIS = Symbol('REDIS');
