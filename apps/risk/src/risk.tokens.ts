/** Nest injection tokens of the risk service. */
export const RISK_CONFIGURATION = Symbol('RISK_CONFIGURATION');
