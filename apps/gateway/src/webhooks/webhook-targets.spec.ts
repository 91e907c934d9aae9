// Proves where webhooks may go (webhook-targets.ts, webhook-sender.ts): which addresses are public,
// which subscription URLs are refused, that the lookup a delivery connects with refuses a name that
// resolves to this machine, and that a delivery to a private target never reaches a real receiver
// listening there unless GATEWAY_WEBHOOK_PRIVATE_TARGETS=allow.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendWebhook, type WebhookRequest } from './webhook-sender.js';
import { BlockedAddressError, isPublicAddress, publicOnlyLookup, webhookUrlRefusal } from './webhook-targets.js';

describe('public addresses', () => {
  it.each([
    '127.0.0.1', '127.255.0.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '224.0.0.1', '255.255.255.255', '198.18.0.1', '192.0.2.10', '::1', '::', 'fe80::1', 'fd00::1', 'fc12::3', 'ff02::1', '::ffff:127.0.0.1',
    '::ffff:10.0.0.1', '::ffff:7f00:1', '::7f00:1', '[::1]', '2001:db8::1', 'not-an-ip', '',
  ])('%s is not public', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '::ffff:808:808', '[2a00:1450:4001::1]'])('%s is public', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});

describe('a subscription URL', () => {
  it.each([
    ['http://127.0.0.1:8080/hook', 'address 127.0.0.1'],
    ['http://169.254.169.254/latest/meta-data/', 'address 169.254.169.254'],
    ['https://10.0.0.5/hook', 'address 10.0.0.5'],
    ['http://[::1]:9000/hook', 'address ::1'],
    ['http://[::ffff:127.0.0.1]/hook', 'address ::ffff:7f00:1'],
    ['http://localhost:3000/hook', 'host localhost'],
    ['http://LOCALHOST./hook', 'host localhost.'],
    ['http://admin.localhost/hook', 'host admin.localhost'],
    ['http://2130706433/hook', 'address 127.0.0.1'],
    ['http://0x7f.1/hook', 'address 127.0.0.1'],
  ])('%s is refused (%s)', (url, reason) => {
    expect(webhookUrlRefusal(url, 'refuse')).toContain(reason);
  });

  it.each(['https://channel.example.com/hook', 'https://8.8.8.8/hook', 'http://[2606:4700:4700::1111]/hook'])('%s is taken (its host is checked again at each delivery)', (url) => {
    expect(webhookUrlRefusal(url, 'refuse')).toBeUndefined();
  });

  it('is not checked when private targets are allowed (development)', () => {
    expect(webhookUrlRefusal('http://127.0.0.1:8080/hook', 'allow')).toBeUndefined();
  });
});

describe('the lookup a delivery connects with', () => {
  it('refuses a name that resolves to this machine', async () => {
    const error = await new Promise<unknown>((resolve) => publicOnlyLookup('localhost', {}, (failure) => resolve(failure)));
    expect(error).toBeInstanceOf(BlockedAddressError);
    expect(error).toMatchObject({ code: 'EBLOCKEDADDRESS', message: expect.stringMatching(/^webhook host localhost resolves to (127\.0\.0\.1|::1), which is not on the public internet$/) });
  });
});

describe('a delivery', () => {
  let receiver: Server;
  let port: number;
  let received = 0;
  const request = (url: string): WebhookRequest => ({ url, secret: 'whsec_test', payload: '{"type":"PaymentCaptured"}', deliveryId: 'd-1', eventId: 'e-1', eventType: 'PaymentCaptured' });

  beforeAll(async () => {
    receiver = createServer((incoming, response) => {
      received += 1;
      incoming.resume();
      incoming.on('end', () => response.writeHead(200).end('ok'));
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    port = (receiver.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => receiver.close(resolve));
  });

  it.each(['http://127.0.0.1:PORT/hook', 'http://localhost:PORT/hook', 'http://[::ffff:127.0.0.1]:PORT/hook'])('to %s is refused before connecting, by default', async (template) => {
    const before = received;
    const outcome = await sendWebhook(request(template.replace('PORT', String(port))), 2_000);
    expect(outcome).toMatchObject({ result: 'network_error', statusCode: null, error: 'network_error_EBLOCKEDADDRESS' });
    expect(received).toBe(before);
  });

  it('reaches a receiver on this machine when private targets are allowed, signed', async () => {
    const before = received;
    const outcome = await sendWebhook(request(`http://127.0.0.1:${port}/hook`), 2_000, 'allow');
    expect(outcome).toMatchObject({ result: 'succeeded', statusCode: 200, error: null });
    expect(received).toBe(before + 1);
  });

  it('names the socket error of a receiver that is not there', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const outcome = await sendWebhook(request(`http://127.0.0.1:${freePort}/hook`), 2_000, 'allow');
    expect(outcome).toMatchObject({ result: 'network_error', error: 'network_error_ECONNREFUSED' });
  });
});
