// Sends one signed request to the gateway (docs/security.md) and prints the answer, like `curl -s`:
//
//   node tools/signed-curl.mjs GET  http://127.0.0.1:3000/v1/accounts/demo-wallet-alice
//   node tools/signed-curl.mjs POST http://127.0.0.1:3000/v1/payments '{"channel":"e_wallet",...}'
//   node tools/signed-curl.mjs -i -H 'x-correlation-id: order-42' POST <url> '<json>'
//
// Signs with CLEARLINE_KEY_ID / CLEARLINE_SECRET, or else the e_wallet channel's public development
// key (what `npm start` trusts). A POST or PATCH gets a fresh Idempotency-Key unless -H gives one.
// -i prints the status line and headers too. Needs a build (`npm start` or `node tools/build.mjs`).
import { randomBytes, randomUUID } from 'node:crypto';

const { DEVELOPMENT_CHANNEL_CREDENTIALS, signatureHeaders } = await import('@clearline/contracts');

const args = process.argv.slice(2);
const headers = {};
let showHeaders = false;
while (args[0]?.startsWith('-')) {
  const flag = args.shift();
  if (flag === '-i') showHeaders = true;
  else if (flag === '-H') {
    const header = args.shift() ?? '';
    const colon = header.indexOf(':');
    if (colon < 1) usage(`bad header '${header}'`);
    headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
  } else usage(`unknown option ${flag}`);
}
const [method = '', target = '', body] = args;
if (!/^[A-Z]+$/.test(method) || !target) usage('give a METHOD and a URL');

const credentials = process.env.CLEARLINE_KEY_ID && process.env.CLEARLINE_SECRET
  ? { keyId: process.env.CLEARLINE_KEY_ID, secret: process.env.CLEARLINE_SECRET }
  : DEVELOPMENT_CHANNEL_CREDENTIALS.e_wallet;
const url = new URL(target);
if ((method === 'POST' || method === 'PATCH') && headers['idempotency-key'] === undefined) headers['idempotency-key'] = randomUUID();
const signed = signatureHeaders(credentials, {
  method,
  pathWithQuery: `${url.pathname}${url.search}`,
  timestampSeconds: Math.floor(Date.now() / 1000),
  nonce: randomBytes(18).toString('base64url'),
  ...(body === undefined ? {} : { body }),
});
const response = await fetch(url, { method, headers: { 'content-type': 'application/json', ...headers, ...signed }, ...(body === undefined ? {} : { body }) });
if (showHeaders) {
  console.log(`HTTP ${response.status} ${response.statusText}`);
  for (const [name, value] of response.headers) console.log(`${name}: ${value}`);
  console.log();
}
console.log(await response.text());
process.exitCode = response.ok ? 0 : 22;

function usage(problem) {
  console.error(`signed-curl: ${problem}\nusage: node tools/signed-curl.mjs [-i] [-H 'name: value'] METHOD URL [JSON body]`);
  process.exit(2);
}
