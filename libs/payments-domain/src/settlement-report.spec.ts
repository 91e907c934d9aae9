// Proves the settlement report: one row per payment and refund with amounts in minor units and in the
// currency's exponent, carry rows and totals, RFC 4180 quoting that reads back exactly, and a
// reconciliation that passes only when the net column sums to the ledger's credit to the minor unit.
import { deriveMessageId } from '@clearline/contracts';
import { moneyFromMinor, type Money } from '@clearline/money';
import fc from 'fast-check';
import {
  decideSettlementBatch, evolveSettlementBatch, initialSettlementBatchState,
  type ClosedSettlementBatchState, type OpenSettlementBatchData, type SettlementBatchCommand, type SettlementBatchState,
} from './settlement-batch.js';
import { CsvFormatError, csvField, csvRecord, parseCsv, reconcileSettlementReport, SETTLEMENT_REPORT_COLUMNS, settlementReportCsv } from './settlement-report.js';

const BATCH_ID = deriveMessageId('merchant-1:EUR', 'batch-7');
const P1 = deriveMessageId('test', 'payment-1');
const P2 = deriveMessageId('test', 'payment-2');
const R1 = deriveMessageId('test', 'refund-1');

function closedBatch(currency: string, carriedInMinor: bigint, lines: SettlementBatchCommand[], feeSchedule = { percentBasisPoints: 290n, fixedMinor: 30n }): ClosedSettlementBatchState {
  const opening: OpenSettlementBatchData = {
    batchId: BATCH_ID, merchantId: 'merchant-1', currency, batchNo: 7, feeSchedule, carriedInMinor, openedAt: '2026-11-27T00:00:00Z',
    accounts: { merchantAccountId: 'm', settlementAccountId: 's', feeRevenueAccountId: 'f' },
  };
  const commands: SettlementBatchCommand[] = [
    { type: 'OpenSettlementBatch', data: opening },
    ...lines,
    { type: 'CloseSettlementBatch', data: { batchId: BATCH_ID, closedAt: '2026-11-28T00:00:00Z', reason: 'schedule' } },
  ];
  const state = commands.reduce<SettlementBatchState>((current, command) => decideSettlementBatch(command, current).reduce(evolveSettlementBatch, current), initialSettlementBatchState());
  if (state.status !== 'closed') throw new Error('expected a closed batch');
  return state;
}

const pay = (paymentId: string, amount: Money): SettlementBatchCommand => ({ type: 'AddCapturedPayment', data: { paymentId, amount, capturedAt: '2026-11-27T10:00:00Z' } });
const refund = (refundId: string, paymentId: string, amount: Money): SettlementBatchCommand =>
  ({ type: 'AddRefund', data: { paymentId, refundId, amount, refundedAt: '2026-11-27T11:00:00Z' } });
const eur = (minor: bigint) => moneyFromMinor(minor, 'EUR');

describe('settlementReportCsv', () => {
  it('writes a header, a row per payment and refund, the carry-in, and the totals, with CRLF line ends', () => {
    const batch = closedBatch('EUR', 500n, [pay(P1, eur(10_000n)), pay(P2, eur(1_250n)), refund(R1, P1, eur(2_500n))]);
    const head = `${BATCH_ID},merchant-1`;
    expect(settlementReportCsv(batch).split('\r\n')).toEqual([
      SETTLEMENT_REPORT_COLUMNS.join(','),
      `payment,${head},${P1},,2026-11-27T10:00:00Z,EUR,10000,0,320,9680,100.00,0.00,3.20,96.80`,
      `payment,${head},${P2},,2026-11-27T10:00:00Z,EUR,1250,0,66,1184,12.50,0.00,0.66,11.84`,
      `refund,${head},${P1},${R1},2026-11-27T11:00:00Z,EUR,0,2500,0,-2500,0.00,25.00,0.00,-25.00`,
      `carried_in,${head},,,2026-11-27T00:00:00Z,EUR,0,0,0,-500,0.00,0.00,0.00,-5.00`,
      `total,${head},,,2026-11-28T00:00:00Z,EUR,11250,2500,386,7864,112.50,25.00,3.86,78.64`,
      '',
    ]);
  });

  it('adds a carried_forward row when the batch leaves the merchant owing, so the net column still sums to the (zero) transfer', () => {
    const batch = closedBatch('EUR', 0n, [pay(P1, eur(1_000n)), refund(R1, P1, eur(1_000n))]);
    const rows = parseCsv(settlementReportCsv(batch));
    expect(rows.map((row) => [row[0], row[10], row[14]])).toEqual([
      ['record_type', 'net_minor', 'net'],
      ['payment', '941', '9.41'], // fee 29 + 30
      ['refund', '-1000', '-10.00'],
      ['carried_forward', '59', '0.59'],
      ['total', '0', '0.00'],
    ]);
  });

  it('formats with the currency exponent: JPY has no fraction, BHD three digits', () => {
    const yen = parseCsv(settlementReportCsv(closedBatch('JPY', 0n, [pay(P1, moneyFromMinor(12_345n, 'JPY'))], { percentBasisPoints: 360n, fixedMinor: 40n })));
    expect(yen[1]?.slice(11)).toEqual(['12345', '0', '484', '11861']);
    const dinar = parseCsv(settlementReportCsv(closedBatch('BHD', 0n, [pay(P1, moneyFromMinor(1_250n, 'BHD'))], { percentBasisPoints: 290n, fixedMinor: 100n })));
    expect(dinar[1]?.slice(11)).toEqual(['1.250', '0.000', '0.136', '1.114']);
  });
});

describe('RFC 4180', () => {
  it('quotes a field only when it holds a comma, a double quote, CR or LF, doubling inner quotes', () => {
    expect(csvField('plain-id_1')).toBe('plain-id_1');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField('')).toBe('');
  });

  it('reads back exactly what it wrote, for any fields (property)', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'Z', '1', ',', '"', '\r', '\n', ' ', '€', '-') });
    fc.assert(fc.property(fc.array(fc.array(field, { minLength: 2, maxLength: 5 }), { minLength: 1, maxLength: 5 }), (records) => {
      const text = records.map(csvRecord).join('\r\n') + '\r\n';
      expect(parseCsv(text)).toEqual(records);
    }));
  });

  it('accepts bare LF line ends and refuses malformed quoting', () => {
    expect(parseCsv('a,b\nc,d')).toEqual([['a', 'b'], ['c', 'd']]);
    expect(() => parseCsv('a,"b\r\n')).toThrow(CsvFormatError);
    expect(() => parseCsv('a,b"c\r\n')).toThrow('a double quote inside an unquoted field');
    expect(() => parseCsv('"a"b,c\r\n')).toThrow('a quoted field must end at a comma or a line end');
    expect(() => parseCsv('a\rb')).toThrow('a CR not followed by LF');
  });
});

describe('reconcileSettlementReport', () => {
  const batch = closedBatch('EUR', 500n, [pay(P1, eur(10_000n)), pay(P2, eur(1_250n)), refund(R1, P1, eur(2_500n))]);
  const report = settlementReportCsv(batch);

  it('reconciles when the net column sums to the settlement account credit to the minor unit', () => {
    expect(batch.closed.netMinor).toBe('7864');
    expect(reconcileSettlementReport(report, eur(7_864n))).toEqual({ reconciled: true, netMinor: 7_864n });
  });

  it('does not when the ledger credit differs by a single minor unit, and says by how much', () => {
    expect(reconcileSettlementReport(report, eur(7_865n))).toEqual({
      reconciled: false, problems: ['the net column sums to 7864 minor units, the ledger credited 7865 (difference -1)'],
    });
  });

  it('does not when the ledger credit is in another currency', () => {
    const result = reconcileSettlementReport(report, moneyFromMinor(7_864n, 'USD'));
    expect(result.reconciled).toBe(false);
    if (!result.reconciled) expect(result.problems[0]).toBe('a payment row is in EUR, the ledger credit in USD');
  });

  it('catches a tampered row, total, or formatted amount', () => {
    const tamperedNet = report.replace(',9680,100.00,', ',9681,100.00,');
    const tamperedTotal = report.replace(',11250,2500,386,7864,', ',11250,2500,385,7864,');
    const tamperedFormat = report.replace(',12.50,0.00,0.66,11.84', ',12.50,0.00,0.66,11.48');
    const problemsOf = (text: string) => {
      const result = reconcileSettlementReport(text, eur(7_864n));
      return result.reconciled ? [] : result.problems;
    };
    expect(problemsOf(tamperedNet)).toEqual(expect.arrayContaining([
      `payment ${P1}: net 9681 is not gross - refund - fee = 9680`, 'the total net_minor 7864 is not the sum of the rows, 7865',
      'the net column sums to 7865 minor units, the ledger credited 7864 (difference 1)',
    ]));
    expect(problemsOf(tamperedTotal)).toEqual(['fee 3.86 of a total row is not fee_minor 385', 'the total fee_minor 385 is not the sum of the rows, 386']);
    expect(problemsOf(tamperedFormat)).toEqual(['net 11.48 of a payment row is not net_minor 1184']);
  });

  it('refuses what is not a settlement report', () => {
    expect(reconcileSettlementReport('a,b\r\n', eur(0n))).toMatchObject({ reconciled: false, problems: [expect.stringContaining("the header is not the settlement report's")] });
    const withoutTotal = report.split('\r\n').filter((line) => !line.startsWith('total,')).join('\r\n');
    expect(reconcileSettlementReport(withoutTotal, eur(7_864n))).toEqual({ reconciled: false, problems: ['expected one total row, found 0'] });
    expect(reconcileSettlementReport(report.replace(',9680,', ',96.80,'), eur(7_864n)).reconciled).toBe(false);
  });
});
