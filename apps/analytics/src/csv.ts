/**
 * RFC 4180 CSV: a header line, CRLF after every record, a field quoted when it holds a comma, a
 * quote, CR or LF (quotes doubled inside). Nulls are empty fields; amounts stay integer strings.
 */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header, ...rows].map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
