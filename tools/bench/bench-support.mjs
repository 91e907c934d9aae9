// What the benchmark scripts share: sizes from the command line, the PostgreSQL settings they
// report, and the statistics and table they print.

/** `--quick` picks the quick sizes, `--reps=N` overrides the repetitions. */
export function benchSize(argv, sizes) {
  const quick = argv.includes('--quick');
  const size = { ...(quick ? sizes.quick : sizes.full) };
  const repsArgument = argv.find((argument) => argument.startsWith('--reps='));
  if (repsArgument !== undefined) size.reps = Math.max(1, Number.parseInt(repsArgument.slice('--reps='.length), 10) || size.reps);
  return { quick, size };
}

/** The server settings that decide append speed, for the report. */
export async function postgresSettings(client) {
  const settings = await client.query(
    `select current_setting('server_version') as version, current_setting('fsync') as fsync,
            current_setting('synchronous_commit') as synchronous_commit, current_setting('shared_buffers') as shared_buffers`,
  );
  return settings.rows[0];
}

/** Nearest-rank percentile of an ascending array; NaN for none. */
export function percentile(sorted, p) {
  return sorted.length === 0 ? Number.NaN : sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Whole numbers from 100 up, one decimal below. */
export function round(value) {
  return value >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
}

export function fmt(value) {
  return round(value).toLocaleString('en-US');
}

/** A Markdown table: the first column left-aligned, the others right-aligned. */
export function printTable(header, lines) {
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
  const format = (cells) => `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join(' | ')} |`;
  console.log(format(header));
  console.log(`|${widths.map((width, column) => (column === 0 ? ` ${'-'.repeat(width)} ` : ` ${'-'.repeat(width - 1)}: `)).join('|')}|`);
  for (const line of lines) console.log(format(line));
}
