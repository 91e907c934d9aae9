// Proves that card data and secrets are redacted from log lines even when a caller logs them by
// mistake, and that LOG_FILE's destination receives the lines synchronously.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createLogger, REDACTED_PATHS } from './logger.js';

function capture(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
  return { logger: pino({ redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, stream), lines };
}

describe('log redaction', () => {
  it('never writes a PAN, CVV, secret or authorization header', () => {
    const { logger, lines } = capture();
    logger.info({ pan: '4111111111111111', card: { cardNumber: '4111111111111111', cvv: '123' }, channel: { secret: 's3cr3t' }, request: { headers: { authorization: 'Bearer abc' } } }, 'oops');
    const line = lines.join('');
    for (const leaked of ['4111111111111111', '123"', 's3cr3t', 'Bearer abc']) expect(line).not.toContain(leaked);
    expect(line).toContain('[redacted]');
  });
});

describe('a log file', () => {
  it('receives each line as it is logged, redacted like standard output', () => {
    const directory = mkdtempSync(join(tmpdir(), 'clearline-log-'));
    try {
      const file = join(directory, 'nested', 'gateway.log');
      const logger = createLogger('gateway', 'info', file);
      logger.info({ card: { cvv: '123' } }, 'first');
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      expect(lines).toEqual([expect.objectContaining({ service: 'gateway', level: 'info', msg: 'first', card: { cvv: '[redacted]' } })]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
