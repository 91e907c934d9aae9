/** Nest injection token for the payment process's timeouts (PaymentTimeouts, read at boot). */
export const PAYMENT_TIMEOUTS = Symbol('PAYMENT_TIMEOUTS');
/** Nest injection token for the settlement settings (SettlementSettings, read at boot). */
export const SETTLEMENT_SETTINGS = Symbol('SETTLEMENT_SETTINGS');
