// A gateway under test with a client of its own: a fresh key (encrypted in GATEWAY_CHANNELS as in
// production) and a rate limit high enough that a test sending thousands of requests measures the
// gateway, not the rate limiter, and never shares a token bucket (Redis, per client) with other tests.
import type { ChannelCredentials } from '@clearline/contracts';
import type { INestApplication } from '@nestjs/common';
import { createServiceApp } from '@clearline/service-runtime';
import { randomBytes } from 'node:crypto';

export interface ConfiguredClient {
  client: string;
  credentials: ChannelCredentials;
  /** GATEWAY_CHANNELS and its key: every gateway started with it trusts exactly this client. */
  environment: Record<string, string>;
}

export const UNTHROTTLED = { requestsPerSecond: 100_000, burst: 100_000 } as const;

export async function configuredClient(client: string): Promise<ConfiguredClient> {
  const { encryptChannelSecret } = await import('./channel-keys.js');
  const encryptionKey = randomBytes(32);
  const credentials = { keyId: `${client.replace(/_/g, '-')}-1`, secret: randomBytes(32).toString('base64url') };
  const clients = { [client]: { rateLimit: UNTHROTTLED, keys: [{ keyId: credentials.keyId, secret: encryptChannelSecret(credentials.secret, credentials.keyId, encryptionKey) }] } };
  return { client, credentials, environment: { GATEWAY_CHANNELS: JSON.stringify({ clients }), GATEWAY_CHANNEL_SECRETS_KEY: encryptionKey.toString('base64') } };
}

/** A gateway app on a free port, made as production makes it, reading the keyring from `environment`. */
export async function startGateway(environment: Record<string, string>): Promise<{ app: INestApplication; url: string }> {
  Object.assign(process.env, environment);
  delete process.env['GATEWAY_CHANNELS_FILE'];
  const { AppModule } = await import('./app.module.js');
  const { GATEWAY_APP_OPTIONS } = await import('./gateway-app.js');
  const app = await createServiceApp(AppModule, GATEWAY_APP_OPTIONS);
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}
