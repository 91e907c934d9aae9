// Makes a new signing key for a channel or analyst (docs/security.md, "Keys"): a random secret, to
// hand to the client once over a secure channel, and the entry for the gateway's channel file with
// that secret encrypted under GATEWAY_CHANNEL_SECRETS_KEY.
//
//   GATEWAY_CHANNEL_SECRETS_KEY=... node tools/channel-key.mjs <keyId>
//
// The plain secret goes to standard error (so `> entry.json` keeps only the encrypted entry).
// Needs a build (`node tools/build.mjs`).
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { encryptChannelSecret, secretsEncryptionKeyFrom } = await import(join(root, 'apps/gateway/dist/channel-keys.js'));

const keyId = process.argv[2];
if (!keyId || !/^[A-Za-z0-9._-]{3,64}$/.test(keyId)) {
  console.error('usage: GATEWAY_CHANNEL_SECRETS_KEY=<base64 32 bytes> node tools/channel-key.mjs <keyId (3-64 of A-Za-z0-9._-)>');
  process.exit(2);
}
const encryptionKey = secretsEncryptionKeyFrom(process.env.GATEWAY_CHANNEL_SECRETS_KEY);
const secret = randomBytes(32).toString('base64url');
console.error(`secret for ${keyId} (give it to the client; it is not stored anywhere in plain text): ${secret}`);
console.log(JSON.stringify({ keyId, secret: encryptChannelSecret(secret, keyId, encryptionKey) }));
