// Proves the webhook signature: Stripe's scheme (HMAC-SHA256 of "t.body", hex), checked by the
// receiver's verifier against tampering, another secret, an old timestamp and malformed headers.
import { createHmac } from 'node:crypto';
import { signatureHeaderValue, verifyWebhookSignature, webhookSignature } from './webhook-signature.js';

const SECRET = 'whsec_test-secret';
const BODY = '{"id":"e1","type":"PaymentCaptured"}';
const NOW = 1_800_000_000;

describe('webhook signatures', () => {
  it('is the hex HMAC-SHA256 of "<t>.<body>" under the secret, in a t=,v1= header', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`).digest('hex');
    expect(webhookSignature(SECRET, NOW, BODY)).toBe(expected);
    expect(signatureHeaderValue(SECRET, NOW, BODY)).toBe(`t=${NOW},v1=${expected}`);
  });

  it('verifies its own header, within the tolerance', () => {
    expect(verifyWebhookSignature(SECRET, signatureHeaderValue(SECRET, NOW, BODY), BODY, NOW + 299)).toEqual({ valid: true, timestampSeconds: NOW });
  });

  it('accepts any one of several v1 signatures (a secret rotation)', () => {
    const header = `t=${NOW},v1=${'0'.repeat(64)},v1=${webhookSignature(SECRET, NOW, BODY)}`;
    expect(verifyWebhookSignature(SECRET, header, BODY, NOW).valid).toBe(true);
  });

  it.each([
    ['a changed body', signatureHeaderValue(SECRET, NOW, BODY), `${BODY} `, NOW, 'mismatch'],
    ['another secret', signatureHeaderValue('whsec_other', NOW, BODY), BODY, NOW, 'mismatch'],
    ['a changed timestamp', signatureHeaderValue(SECRET, NOW, BODY).replace(`t=${NOW}`, `t=${NOW + 1}`), BODY, NOW, 'mismatch'],
    ['an old delivery replayed', signatureHeaderValue(SECRET, NOW, BODY), BODY, NOW + 301, 'stale'],
    ['no timestamp', `v1=${webhookSignature(SECRET, NOW, BODY)}`, BODY, NOW, 'malformed'],
    ['no signature', `t=${NOW}`, BODY, NOW, 'malformed'],
    ['a signature that is not hex', `t=${NOW},v1=xyz`, BODY, NOW, 'malformed'],
    ['no header at all', undefined, BODY, NOW, 'malformed'],
  ])('refuses %s', (_case, header, body, now, reason) => {
    expect(verifyWebhookSignature(SECRET, header, body, now)).toEqual({ valid: false, reason });
  });
});
