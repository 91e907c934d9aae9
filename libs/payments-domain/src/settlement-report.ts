// The CSV report of a closed settlement batch, and the check that it reconciles with the ledger.
import { moneyFromMinor, parseMoney, toMajorString, type Money } from '@clearline/money';
import type { ClosedSettlementBatchState } from './settlement-batch.js';

/**
 * Columns, in order. Every amount appears twice: in minor units (exact, for machines) and in major
 * units with the currency's exponent (for people: 12.34 EUR, 1000 JPY, 1.234 BHD).
 *
 * Row types: `payment` (net = gross - fee), `refund` (net = -refund; no fee is returned), `carried_in`
 * (net = -what the previous batch carried forward), `carried_forward` (net = +what this batch leaves
 * owing), then one `total`. With the two carry rows, the net column of the other rows sums exactly to
 * the net the ledger moved to the settlement account, which is what reconciliation checks.
 */
export const SETTLEMENT_REPORT_COLUMNS = [
  'record_type', 'settlement_batch_id', 'merchant_id', 'payment_id', 'refund_id', 'occurred_at', 'currency',
  'gross_minor', 'refund_minor', 'fee_minor', 'net_minor', 'gross', 'refund', 'fee', 'net',
] as const;

export type SettlementReportColumn = (typeof SETTLEMENT_REPORT_COLUMNS)[number];
export type SettlementReportRecordType = 'payment' | 'refund' | 'carried_in' | 'carried_forward' | 'total';

/** RFC 4180 line ending. */
const CRLF = '\r\n';

interface ReportRow {
  recordType: SettlementReportRecordType;
  paymentId: string;
  refundId: string;
  occurredAt: string;
  grossMinor: bigint;
  refundMinor: bigint;
  feeMinor: bigint;
  netMinor: bigint;
}

/** The report as RFC 4180 CSV: a header, one row per line in the batch's order, carry rows, totals. */
export function settlementReportCsv(state: ClosedSettlementBatchState): string {
  const { batch, closed } = state;
  const rows: ReportRow[] = state.lines.toArray().map((line) => line.kind === 'payment'
    ? { recordType: 'payment', paymentId: line.paymentId, refundId: '', occurredAt: line.capturedAt, grossMinor: line.amountMinor, refundMinor: 0n, feeMinor: line.feeMinor, netMinor: line.amountMinor - line.feeMinor }
    : { recordType: 'refund', paymentId: line.paymentId, refundId: line.refundId, occurredAt: line.refundedAt, grossMinor: 0n, refundMinor: line.amountMinor, feeMinor: 0n, netMinor: -line.amountMinor });
  const carry = (recordType: SettlementReportRecordType, occurredAt: string, netMinor: bigint): ReportRow =>
    ({ recordType, paymentId: '', refundId: '', occurredAt, grossMinor: 0n, refundMinor: 0n, feeMinor: 0n, netMinor });
  if (batch.carriedInMinor > 0n) rows.push(carry('carried_in', batch.openedAt, -batch.carriedInMinor));
  const carriedForwardMinor = BigInt(closed.carriedForwardMinor);
  if (carriedForwardMinor > 0n) rows.push(carry('carried_forward', closed.closedAt, carriedForwardMinor));
  rows.push({
    recordType: 'total', paymentId: '', refundId: '', occurredAt: closed.closedAt,
    grossMinor: BigInt(closed.grossMinor), refundMinor: BigInt(closed.refundsMinor), feeMinor: BigInt(closed.feesMinor), netMinor: BigInt(closed.netMinor),
  });
  const format = (minor: bigint) => toMajorString(moneyFromMinor(minor, batch.currency));
  const records = rows.map((row) => [
    row.recordType, batch.batchId, batch.merchantId, row.paymentId, row.refundId, row.occurredAt, batch.currency,
    row.grossMinor.toString(), row.refundMinor.toString(), row.feeMinor.toString(), row.netMinor.toString(),
    format(row.grossMinor), format(row.refundMinor), format(row.feeMinor), format(row.netMinor),
  ]);
  return [[...SETTLEMENT_REPORT_COLUMNS], ...records].map(csvRecord).join(CRLF) + CRLF;
}

// ---------------------------------------------------------------- RFC 4180

/** A field is quoted when it holds a comma, a double quote, CR or LF; quotes inside are doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csvRecord(fields: readonly string[]): string {
  return fields.map(csvField).join(',');
}

export class CsvFormatError extends Error {
  constructor(readonly position: number, reason: string) {
    super(`malformed CSV at character ${position}: ${reason}`);
    this.name = 'CsvFormatError';
  }
}

/**
 * Parses RFC 4180 CSV into records of fields. Accepts CRLF (the standard) and bare LF line ends, so a
 * report that went through a Unix tool still reads; refuses a quote inside an unquoted field and an
 * unterminated quoted field rather than guessing. A final line end does not start an empty record.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let position = 0;
  let fieldStarted = false;
  const endField = () => { record.push(field); field = ''; fieldStarted = false; };
  const endRecord = () => { endField(); records.push(record); record = []; };
  while (position < text.length) {
    const character = text[position]!;
    if (character === '"' && !fieldStarted) {
      const closing = quotedFieldEnd(text, position);
      field = text.slice(position + 1, closing).replaceAll('""', '"');
      fieldStarted = true;
      position = closing + 1;
      const next = text[position];
      if (next !== undefined && next !== ',' && next !== '\r' && next !== '\n') throw new CsvFormatError(position, 'a quoted field must end at a comma or a line end');
      continue;
    }
    if (character === '"') throw new CsvFormatError(position, 'a double quote inside an unquoted field');
    if (character === ',') endField();
    else if (character === '\n') endRecord();
    else if (character === '\r') {
      if (text[position + 1] !== '\n') throw new CsvFormatError(position, 'a CR not followed by LF');
      endRecord();
      position += 1;
    } else {
      field += character;
      fieldStarted = true;
    }
    position += 1;
  }
  if (fieldStarted || record.length > 0) endRecord();
  return records;
}

function quotedFieldEnd(text: string, opening: number): number {
  let position = opening + 1;
  for (;;) {
    const closing = text.indexOf('"', position);
    if (closing < 0) throw new CsvFormatError(opening, 'a quoted field is never closed');
    if (text[closing + 1] !== '"') return closing;
    position = closing + 2;
  }
}

// ---------------------------------------------------------------- reconciliation

export type SettlementReconciliation =
  | { reconciled: true; netMinor: bigint }
  | { reconciled: false; problems: string[] };

/**
 * Checks a report (the CSV text, as it was handed out) against the ledger: the net column of its
 * rows sums exactly, to the minor unit, to `ledgerCredit`, the settlement account's credit from the
 * batch's transfer (zero when the batch moved no net). Also checks each row's own arithmetic, that
 * the totals row adds up its rows, and that the currency is the credit's. Pure: reads nothing else.
 */
export function reconcileSettlementReport(report: string, ledgerCredit: Money): SettlementReconciliation {
  const problems: string[] = [];
  let rows: Record<SettlementReportColumn, string>[];
  try {
    rows = reportRows(report);
  } catch (error) {
    return { reconciled: false, problems: [error instanceof Error ? error.message : String(error)] };
  }
  const totals = rows.filter((row) => row.record_type === 'total');
  const lines = rows.filter((row) => row.record_type !== 'total');
  if (totals.length !== 1) return { reconciled: false, problems: [`expected one total row, found ${totals.length}`] };
  const total = totals[0]!;
  const sum = (column: SettlementReportColumn) => lines.reduce((accumulated, row) => accumulated + minor(row, column, problems), 0n);
  for (const row of rows) {
    if (row.currency !== ledgerCredit.currency) problems.push(`a ${row.record_type} row is in ${row.currency}, the ledger credit in ${ledgerCredit.currency}`);
    for (const [minorColumn, majorColumn] of AMOUNT_COLUMNS) checkFormatted(row, minorColumn, majorColumn, problems);
    if (row.record_type === 'payment' || row.record_type === 'refund') {
      const expected = minor(row, 'gross_minor', problems) - minor(row, 'refund_minor', problems) - minor(row, 'fee_minor', problems);
      if (expected !== minor(row, 'net_minor', problems)) problems.push(`${row.record_type} ${row.refund_id || row.payment_id}: net ${row.net_minor} is not gross - refund - fee = ${expected}`);
    }
  }
  for (const column of ['gross_minor', 'refund_minor', 'fee_minor', 'net_minor'] as const) {
    const rowsSum = sum(column);
    if (rowsSum !== minor(total, column, problems)) problems.push(`the total ${column} ${total[column]} is not the sum of the rows, ${rowsSum}`);
  }
  const netMinor = sum('net_minor');
  if (netMinor !== ledgerCredit.amountMinor) {
    problems.push(`the net column sums to ${netMinor} minor units, the ledger credited ${ledgerCredit.amountMinor} (difference ${netMinor - ledgerCredit.amountMinor})`);
  }
  // One malformed cell is read by several checks; say it once.
  return problems.length === 0 ? { reconciled: true, netMinor } : { reconciled: false, problems: [...new Set(problems)] };
}

function reportRows(report: string): Record<SettlementReportColumn, string>[] {
  const [header, ...records] = parseCsv(report);
  if (header === undefined || header.join(',') !== SETTLEMENT_REPORT_COLUMNS.join(',')) {
    throw new Error(`the header is not the settlement report's: expected ${SETTLEMENT_REPORT_COLUMNS.join(',')}`);
  }
  return records.map((fields, index) => {
    if (fields.length !== SETTLEMENT_REPORT_COLUMNS.length) throw new Error(`record ${index + 1} has ${fields.length} fields, expected ${SETTLEMENT_REPORT_COLUMNS.length}`);
    return Object.fromEntries(SETTLEMENT_REPORT_COLUMNS.map((column, position) => [column, fields[position]!])) as Record<SettlementReportColumn, string>;
  });
}

const MINOR = /^(0|-?[1-9][0-9]*)$/;

const AMOUNT_COLUMNS = [['gross_minor', 'gross'], ['refund_minor', 'refund'], ['fee_minor', 'fee'], ['net_minor', 'net']] as const;

/** The column people read must say what the column machines read says. */
function checkFormatted(row: Record<SettlementReportColumn, string>, minorColumn: SettlementReportColumn, majorColumn: SettlementReportColumn, problems: string[]): void {
  let formatted: bigint;
  try {
    formatted = parseMoney(row[majorColumn], row.currency).amountMinor;
  } catch (error) {
    problems.push(`${majorColumn} ${JSON.stringify(row[majorColumn])} of a ${row.record_type} row: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  if (formatted !== minor(row, minorColumn, problems)) problems.push(`${majorColumn} ${row[majorColumn]} of a ${row.record_type} row is not ${minorColumn} ${row[minorColumn]}`);
}

function minor(row: Record<SettlementReportColumn, string>, column: SettlementReportColumn, problems: string[]): bigint {
  const value = row[column];
  if (MINOR.test(value)) return BigInt(value);
  problems.push(`${column} ${JSON.stringify(value)} of a ${row.record_type} row is not an integer of minor units`);
  return 0n;
}
