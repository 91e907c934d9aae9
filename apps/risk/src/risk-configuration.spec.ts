// Proves the shipped configuration: the rule set and merchant profiles under apps/risk/config and the
// model under apps/risk/model load and validate; a missing model leaves the service running without
// one (fail policy), a bad merchant profile stops it; and an ordinary first payment of a new payer,
// as the platform e2e test makes them, is approved by the shipped rules and model.
import { decideRisk, InMemoryFeatureStore, type RiskPayment } from '@clearline/risk-domain';
import { DEFAULT_MODEL_PATH, loadRiskConfiguration, parseMerchantProfiles, RiskConfigurationError } from './risk-configuration.js';
import { readFileSync } from 'node:fs';

const logged: string[] = [];
const logger = { info: () => undefined, warn: () => undefined, debug: () => undefined, error: (_context: unknown, message: string) => { logged.push(message); } } as never;

describe('the shipped configuration', () => {
  it('loads the rule set, merchant profiles and the trained model', () => {
    const configuration = loadRiskConfiguration(logger, {});
    expect(configuration.ruleSet.version).toBe('rules-2025-01');
    expect(configuration.model?.version).toBe('risk-lr-seed7');
    expect(configuration.merchantProfiles.get('merchant-demo-giftcards')).toEqual({ category: 'gift_cards' });
  });

  it('the model file records its training figures', () => {
    const model = JSON.parse(readFileSync(DEFAULT_MODEL_PATH, 'utf8'));
    expect(model.training.heldOut.auc).toBeGreaterThan(0.95);
  });

  it('without a model file, the service still loads, with no model', () => {
    expect(loadRiskConfiguration(logger, { RISK_MODEL_PATH: '/nonexistent/model.json' }).model).toBeNull();
    expect(logged.at(-1)).toContain('risk model unavailable');
  });

  it('refuses a merchant profile without a proper category', () => {
    expect(() => parseMerchantProfiles({ merchants: { m: { category: 'Gift Cards' } } })).toThrow(RiskConfigurationError);
  });

  it('approves the e2e payer: 12.50 EUR, 500 EUR and small payments from a new wallet on a new device', () => {
    const { ruleSet, model } = loadRiskConfiguration(logger, {});
    const store = new InMemoryFeatureStore();
    const start = Date.UTC(2025, 5, 1, 12);
    const outcomes = [1_250n, 50_000n, 100n, 100n, 200n].map((amountMinor, index) => {
      const payment: RiskPayment = {
        paymentId: `e2e-${index}`, merchantId: 'merchant-e2e', payerAccountId: 'e2e-payer', amountMinor, currency: 'EUR', method: 'wallet', channel: 'e_wallet',
        requestedAtMs: start + index * 2_000, deviceId: 'device-e2e', ipAddress: '203.0.113.7', cardFingerprint: null, cardCountry: null, ipCountry: null, merchantCategory: null,
      };
      return decideRisk({ payment, features: store.observe(payment) }, { ruleSet, model }).outcome;
    });
    expect(outcomes).toEqual(['approve', 'approve', 'approve', 'approve', 'approve']);
  });
});
