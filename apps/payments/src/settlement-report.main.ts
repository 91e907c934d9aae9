// `npm run settlement:report -- <settlementBatchId> [--out <file>]`: writes the CSV report of a closed
// settlement batch to stdout (or the file) and says on stderr whether it reconciles with the ledger.
// Exit code 0 when it reconciles, 2 when it does not, 1 when there is no report (unknown or open batch).
// DATABASE_URL selects the database (default: the local `clearline`).
import { PostgresEventStore } from '@clearline/event-store';
import { createPool } from '@clearline/postgres';
import { writeFileSync } from 'node:fs';
import { settlementBatchReport, SettlementReportError } from './settlement-report.js';

const [batchId, ...rest] = process.argv.slice(2);
const outIndex = rest.indexOf('--out');
const outPath = outIndex >= 0 ? rest[outIndex + 1] : undefined;
if (batchId === undefined || batchId.startsWith('-') || (outIndex >= 0 && outPath === undefined)) {
  process.stderr.write('usage: npm run settlement:report -- <settlementBatchId> [--out <file>]\n');
  process.exit(1);
}

const pool = createPool({ applicationName: 'clearline-settlement-report', max: 2 });
try {
  const report = await settlementBatchReport(pool, new PostgresEventStore(pool), batchId);
  if (outPath === undefined) process.stdout.write(report.csv);
  else writeFileSync(outPath, report.csv);
  if (report.reconciliation.reconciled) {
    process.stderr.write(`reconciled: net ${report.reconciliation.netMinor} minor units of ${report.ledgerCredit.currency} = the ledger's credit to the settlement account (payout ${report.payoutStatus})\n`);
  } else {
    process.stderr.write(`NOT reconciled (payout ${report.payoutStatus}):\n${report.reconciliation.problems.map((problem) => `  - ${problem}`).join('\n')}\n`);
    process.exitCode = 2;
  }
} catch (error) {
  process.stderr.write(`${error instanceof SettlementReportError ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await pool.end();
}
