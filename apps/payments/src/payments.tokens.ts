/** Nest injection token for the payment process's timeouts (PaymentTimeouts, read at boot). */
export const PAYMENT_TIMEOUTS = Symbol('PAYMENT_TIMEOUTS');
