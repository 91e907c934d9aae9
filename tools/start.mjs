// `npm start`: brings up the infrastructure (see deploy/local/infra), builds, starts the five
// services, opens a funded demo wallet and a merchant, and prints a first payment to send.
// Ctrl-C stops the services gracefully; `npm run infra -- down` stops what the infra script started.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

execFileSync('bash', [join(root, 'deploy/local/infra'), 'up'], { stdio: 'inherit' });
execFileSync(process.execPath, [join(root, 'tools/build.mjs')], { stdio: 'inherit' });
// Imported after the build: the launcher and the demo seed are compiled from libs/testing.
const { gatewayClient, DEMO, seedDemo, startPlatform } = await import('@clearline/testing');

console.log('starting gateway, payments, ledger, risk and analytics ...');
const platform = await startPlatform({ env: { DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/clearline' } });
const gatewayUrl = `http://127.0.0.1:${platform.ports.gateway}`;
let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping the services ...');
  await platform.stop();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);

await seedDemo(gatewayClient(gatewayUrl));
const example = JSON.stringify({
  channel: 'e_wallet', merchantId: DEMO.merchantId, merchantAccountId: DEMO.merchantAccountId,
  payerAccountId: DEMO.payerAccountId, amount: { amountMinor: '1250', currency: 'EUR' }, method: 'wallet',
});
console.log(`
Clearline is running (Node ${process.version}); logs in ${platform.logDirectory}
  gateway   ${gatewayUrl}      analytics http://127.0.0.1:${platform.ports.analytics}
  health    ${gatewayUrl}/health/ready      metrics ${gatewayUrl}/metrics

Demo wallet '${DEMO.payerAccountId}' holds 1000.00 EUR. Send a first payment of 12.50 EUR (every
request is signed; tools/signed-curl.mjs signs with the e_wallet channel's development key, which
opened the demo wallet; see docs/security.md):

  node tools/signed-curl.mjs POST ${gatewayUrl}/v1/payments '${example}'

then follow it (use the paymentId from the answer):

  node tools/signed-curl.mjs GET ${gatewayUrl}/v1/payments/<paymentId>

Press Ctrl-C to stop.`);
