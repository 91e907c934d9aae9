// Pins the request signature to the worked example of docs/security.md (checked there with openssl
// too): a change to the canonical string breaks this test before it breaks every channel's client.
import { bodyDigestHex, canonicalRequest, DEVELOPMENT_CHANNEL_CREDENTIALS, requestSignature, signatureHeaders } from './channel-signature.js';

const body = '{"accountId":"wallet-bob","ownerId":"bob","kind":"customer_wallet","currency":"EUR"}';
const example = { method: 'POST', pathWithQuery: '/v1/accounts', timestampSeconds: 1795770000, nonce: 'c2lnbmVkLWV4YW1wbGUtMDAx', body };

describe('the request signature', () => {
  it('is the worked example of docs/security.md', () => {
    expect(canonicalRequest(example)).toBe([
      'CLEARLINE-HMAC-SHA256', 'POST', '/v1/accounts', '1795770000', 'c2lnbmVkLWV4YW1wbGUtMDAx',
      'b57c43922442e2428916653bc802972f00271bfcff7c946d70728e2cf02122d8',
    ].join('\n'));
    expect(signatureHeaders(DEVELOPMENT_CHANNEL_CREDENTIALS.e_wallet, example)).toEqual({
      'x-clearline-key-id': 'dev-e_wallet',
      'x-clearline-timestamp': '1795770000',
      'x-clearline-nonce': 'c2lnbmVkLWV4YW1wbGUtMDAx',
      'x-clearline-signature': 'ef788c5fe9532a87419727a8fe6387bbba5b4b691222f971a33a72dfe71c2ae8',
    });
  });

  it('signs a request without a body over the digest of no bytes, and the path with its query', () => {
    const get = { method: 'get', pathWithQuery: '/v1/accounts/wallet-bob/history?limit=2', timestampSeconds: 1795770000, nonce: 'c2lnbmVkLWV4YW1wbGUtMDAy' };
    expect(bodyDigestHex(undefined)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(canonicalRequest(get).split('\n').slice(1, 3)).toEqual(['GET', '/v1/accounts/wallet-bob/history?limit=2']);
    expect(requestSignature(DEVELOPMENT_CHANNEL_CREDENTIALS.e_wallet.secret, get)).toBe('a427b3c311b7f1ce6debd1b30a56556c4d3583025fddb37e969e91fc7162a9a7');
  });

  it('changes with every signed part', () => {
    const secret = DEVELOPMENT_CHANNEL_CREDENTIALS.e_wallet.secret;
    const original = requestSignature(secret, example);
    for (const change of [{ method: 'PUT' }, { pathWithQuery: '/v1/accounts?x=1' }, { timestampSeconds: 1795770001 }, { nonce: 'c2lnbmVkLWV4YW1wbGUtMDAz' }, { body: `${body} ` }]) {
      expect({ change, same: requestSignature(secret, { ...example, ...change }) === original }).toEqual({ change, same: false });
    }
  });
});
