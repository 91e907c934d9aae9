// The analysts' dashboard: reads the query API on this origin (docs/analytics.md) every 5 s and draws
// it with hand-made SVG, no library and no build step. Counts are summed as BigInt and amounts are
// formatted from their integer strings of minor units with the currency's ISO 4217 exponent (served
// by the service from libs/money): money never passes through a float. Text from the API is put in
// the page with textContent only, never parsed as HTML.
'use strict';

(() => {
  const REFRESH_MS = 5_000;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  /** Range -> length and the bucket size drawn for it (a few dozen to a few hundred points). */
  const RANGES = {
    '15m': { ms: 15 * 60_000, granularity: 'minute' },
    '1h': { ms: 60 * 60_000, granularity: 'minute' },
    '6h': { ms: 6 * 60 * 60_000, granularity: 'minute' },
    '24h': { ms: 24 * 60 * 60_000, granularity: 'hour' },
    '7d': { ms: 7 * 24 * 60 * 60_000, granularity: 'hour' },
    '30d': { ms: 30 * 24 * 60 * 60_000, granularity: 'day' },
  };
  const BUCKET_MS = { minute: 60_000, hour: 60 * 60_000, day: 24 * 60 * 60_000 };
  /** Pages of 500 followed at most per query: enough for 30 days of hours, bounded if the data is not. */
  const MAX_PAGES = 20;

  const byId = (id) => document.getElementById(id);
  const form = byId('filters');
  const merchantInput = byId('filter-merchant');
  const channelSelect = byId('filter-channel');
  const rangeSelect = byId('filter-range');
  const autoRefresh = byId('auto-refresh');
  const status = byId('status');
  const errorBox = byId('error');

  let exponents = {};
  let generation = 0;
  let inFlight = false;
  let refreshes = 0;

  // ------------------------------------------------------------------------------ filters ---
  function readFiltersFromUrl() {
    const query = new URLSearchParams(location.search);
    merchantInput.value = query.get('merchantId') ?? '';
    const channel = query.get('channel') ?? '';
    if ([...channelSelect.options].some((option) => option.value === channel)) channelSelect.value = channel;
    const range = query.get('range') ?? '1h';
    if (range in RANGES) rangeSelect.value = range;
  }

  function filters() {
    return { merchantId: merchantInput.value.trim(), channel: channelSelect.value, range: rangeSelect.value };
  }

  /** The address bar follows the filters, so a view can be bookmarked or shared. */
  function writeFiltersToUrl() {
    const query = new URLSearchParams();
    const current = filters();
    if (current.merchantId) query.set('merchantId', current.merchantId);
    if (current.channel) query.set('channel', current.channel);
    if (current.range !== '1h') query.set('range', current.range);
    const search = query.toString();
    history.replaceState(null, '', `${location.pathname}${search ? `?${search}` : ''}`);
  }

  // ---------------------------------------------------------------------------------- API ---
  async function api(path, parameters) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(parameters)) if (value !== undefined && value !== '') query.set(name, value);
    const response = await fetch(`${path}?${query}`, { headers: { accept: 'application/json' }, cache: 'no-store' });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error(body?.detail ?? body?.title ?? `${path} answered ${response.status}`);
    return body;
  }

  /** Every item of a keyset-paged endpoint, following nextCursor. */
  async function allPages(path, parameters) {
    const items = [];
    let cursor;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const body = await api(path, { ...parameters, limit: '500', cursor });
      items.push(...body.items);
      if (!body.nextCursor) break;
      cursor = body.nextCursor;
    }
    return items;
  }

  // ------------------------------------------------------------------------------ numbers ---
  const sumOf = (items, field) => items.reduce((total, item) => total + BigInt(item[field]), 0n);
  const groupDigits = (digits) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const formatCount = (count) => (count < 0n ? `-${groupDigits((-count).toString())}` : groupDigits(count.toString()));

  /** "123456" EUR -> "1,234.56 EUR"; "6000" JPY -> "6,000 JPY": string work on the integer, no float. */
  function formatMinor(minor, currency) {
    const text = typeof minor === 'bigint' ? minor.toString() : String(minor);
    const match = /^(-?)(\d+)$/.exec(text);
    const exponent = exponents[currency];
    if (match === null || exponent === undefined) return `${text} ${currency} (minor units)`;
    const [, sign, digits] = match;
    const padded = digits.padStart(exponent + 1, '0');
    const whole = padded.slice(0, padded.length - exponent);
    const fraction = padded.slice(padded.length - exponent);
    return `${sign}${groupDigits(whole)}${exponent > 0 ? `.${fraction}` : ''} ${currency}`;
  }

  /** part / whole as a percentage with one decimal, from integers; '–' when there is no whole. */
  function formatRate(part, whole) {
    if (whole === 0n) return '–';
    const tenths = (part * 2000n + whole) / (2n * whole); // rounded half up
    return `${tenths / 10n}.${tenths % 10n} %`;
  }

  function formatMs(ms) {
    if (ms === null || ms === undefined) return '–';
    return ms < 10_000 ? `${ms} ms` : `${(ms / 1_000).toFixed(1)} s`;
  }

  /** The top of a count axis with four gridlines on whole, round steps (1, 2, 5 times a power of ten). */
  function niceCeiling(value) {
    const wanted = Math.max(1, value / 4);
    const power = 10 ** Math.floor(Math.log10(wanted));
    for (const step of [1, 2, 5, 10]) if (step * power >= wanted) return 4 * Math.max(1, step * power);
    return 40 * power;
  }

  function bucketLabel(ms, granularity) {
    const iso = new Date(ms).toISOString();
    return granularity === 'day' ? iso.slice(5, 10) : granularity === 'hour' && RANGES[rangeSelect.value].ms > 24 * 3_600_000 ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}h` : iso.slice(11, 16);
  }

  // ---------------------------------------------------------------------------------- SVG ---
  function svg(name, attributes = {}, text) {
    const element = document.createElementNS(SVG_NS, name);
    for (const [attribute, value] of Object.entries(attributes)) element.setAttribute(attribute, String(value));
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function canvas(container, width, height, label) {
    const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
    container.replaceChildren(root);
    return root;
  }

  function emptyChart(container, message) {
    const root = canvas(container, 600, 60, message);
    root.append(svg('text', { x: 300, y: 34, 'text-anchor': 'middle', class: 'empty' }, message));
    root.dataset.empty = 'true';
  }

  /** Lines over time buckets: series = [{ name, className, values }], one value per bucket. */
  function lineChart(container, { buckets, granularity, series, yMax, yFormat, label }) {
    const width = 960;
    const height = 240;
    const margin = { left: 56, right: 16, top: 26, bottom: 24 };
    const plotWidth = width - margin.left - margin.right;
    const plotHeight = height - margin.top - margin.bottom;
    const top = yMax ?? niceCeiling(Math.max(0, ...series.flatMap((line) => line.values.filter((value) => value !== null))));
    const x = (index) => margin.left + (buckets.length === 1 ? plotWidth / 2 : (index * plotWidth) / (buckets.length - 1));
    const y = (value) => margin.top + plotHeight - (value / top) * plotHeight;
    const root = canvas(container, width, height, label);
    for (let tick = 0; tick <= 4; tick += 1) {
      const value = (top * tick) / 4;
      root.append(svg('line', { x1: margin.left, x2: width - margin.right, y1: y(value), y2: y(value), class: tick === 0 ? 'axis' : 'grid' }));
      root.append(svg('text', { x: margin.left - 6, y: y(value) + 4, 'text-anchor': 'end' }, yFormat(value)));
    }
    const labelEvery = Math.max(1, Math.ceil(buckets.length / 8));
    buckets.forEach((bucket, index) => {
      if (index % labelEvery === 0) root.append(svg('text', { x: x(index), y: height - 6, 'text-anchor': 'middle' }, bucketLabel(bucket, granularity)));
    });
    root.append(svg('text', { x: width - margin.right, y: height - 6, 'text-anchor': 'end' }, 'UTC'));
    series.forEach((line, lineIndex) => {
      // A gap (null) breaks the line: a bucket without results has no approval rate.
      let points = [];
      const flush = () => {
        if (points.length > 1) root.append(svg('polyline', { points: points.join(' '), class: line.className }));
        if (points.length === 1) {
          const [cx, cy] = points[0].split(',');
          root.append(svg('circle', { cx, cy, r: 2.5, class: line.className }));
        }
        points = [];
      };
      line.values.forEach((value, index) => {
        if (value === null) flush();
        else points.push(`${x(index).toFixed(1)},${y(value).toFixed(1)}`);
      });
      flush();
      const legendX = margin.left + 8 + lineIndex * 220;
      root.append(svg('rect', { x: legendX, y: 6, width: 12, height: 12, class: `legend-${line.legend}` }));
      root.append(svg('text', { x: legendX + 18, y: 16, class: 'value' }, line.name));
    });
    root.dataset.points = String(buckets.length);
  }

  /** Vertical bars, stacked: bars = [{ label, parts: [{ className, count, name }] }]. */
  function stackedBars(container, { bars, label, legend }) {
    const width = 480;
    const height = 220;
    const margin = { left: 48, right: 8, top: 24, bottom: 24 };
    const plotWidth = width - margin.left - margin.right;
    const plotHeight = height - margin.top - margin.bottom;
    const totals = bars.map((bar) => bar.parts.reduce((sum, part) => sum + part.count, 0));
    const top = niceCeiling(Math.max(0, ...totals));
    const root = canvas(container, width, height, label);
    for (let tick = 0; tick <= 4; tick += 1) {
      const value = (top * tick) / 4;
      const lineY = margin.top + plotHeight - (value / top) * plotHeight;
      root.append(svg('line', { x1: margin.left, x2: width - margin.right, y1: lineY, y2: lineY, class: tick === 0 ? 'axis' : 'grid' }));
      root.append(svg('text', { x: margin.left - 6, y: lineY + 4, 'text-anchor': 'end' }, Number.isInteger(value) ? groupDigits(String(value)) : value.toFixed(1)));
    }
    const slot = plotWidth / Math.max(1, bars.length);
    bars.forEach((bar, index) => {
      let base = margin.top + plotHeight;
      for (const part of bar.parts) {
        const barHeight = (part.count / top) * plotHeight;
        base -= barHeight;
        const rect = svg('rect', { x: margin.left + index * slot + slot * 0.12, y: base, width: slot * 0.76, height: barHeight, class: part.className, 'data-count': part.count });
        rect.append(svg('title', {}, `${bar.label}: ${part.count} ${part.name}`));
        root.append(rect);
      }
      root.append(svg('text', { x: margin.left + index * slot + slot / 2, y: height - 6, 'text-anchor': 'middle' }, bar.label));
    });
    legend.forEach((entry, index) => {
      root.append(svg('rect', { x: margin.left + 8 + index * 90, y: 6, width: 12, height: 12, class: entry.className }));
      root.append(svg('text', { x: margin.left + 26 + index * 90, y: 16, class: 'value' }, entry.name));
    });
  }

  /** Horizontal bars with their labels and values: rows = [{ label, value (number), text }]. */
  function horizontalBars(container, { rows, className, label }) {
    const width = 480;
    const rowHeight = 24;
    const labelWidth = 200;
    const height = rows.length * rowHeight + 8;
    const top = Math.max(1, ...rows.map((row) => row.value));
    const root = canvas(container, width, height, label);
    rows.forEach((row, index) => {
      const rowY = 4 + index * rowHeight;
      root.append(svg('text', { x: labelWidth - 8, y: rowY + 15, 'text-anchor': 'end', class: 'value' }, row.label));
      const barWidth = ((width - labelWidth - 80) * row.value) / top;
      root.append(svg('rect', { x: labelWidth, y: rowY + 3, width: Math.max(barWidth, row.value > 0 ? 1 : 0), height: rowHeight - 8, class: className, 'data-count': row.value }));
      root.append(svg('text', { x: labelWidth + barWidth + 6, y: rowY + 15, class: 'value' }, row.text));
    });
  }

  function setOutput(id, text, value) {
    const output = byId(id);
    output.textContent = text;
    if (value === undefined) delete output.dataset.value;
    else output.dataset.value = String(value);
  }

  function fillTable(id, rows) {
    const body = byId(id).tBodies[0];
    body.replaceChildren(...rows.map((cells) => {
      const row = document.createElement('tr');
      for (const cell of cells) {
        const td = document.createElement('td');
        td.textContent = cell;
        row.append(td);
      }
      return row;
    }));
  }

  // ------------------------------------------------------------------------------ drawing ---
  function drawFlow(flowItems, from, granularity) {
    const step = BUCKET_MS[granularity];
    const byBucket = new Map(flowItems.map((item) => [Date.parse(item.bucketStart), item]));
    const buckets = [];
    for (let bucket = from; bucket <= Date.now(); bucket += step) buckets.push(bucket);
    const requests = sumOf(flowItems, 'requests');
    const results = sumOf(flowItems, 'results');
    const approved = sumOf(flowItems, 'approved');
    const declined = sumOf(flowItems, 'declined');
    const inReview = sumOf(flowItems, 'inReview');
    setOutput('p-total', formatCount(requests), requests);
    setOutput('r-total', formatCount(results), results);
    setOutput('approval-rate', formatRate(approved, results), results === 0n ? undefined : `${approved}/${results}`);
    setOutput('decline-rate', formatRate(declined, results), results === 0n ? undefined : `${declined}/${results}`);
    setOutput('review-rate', formatRate(inReview, requests), requests === 0n ? undefined : `${inReview}/${requests}`);
    byId('granularity').textContent = granularity;
    for (const name of document.querySelectorAll('.granularity-name')) name.textContent = granularity;
    const count = (item, field) => (item === undefined ? 0 : Number(item[field]));
    lineChart(byId('flow-chart'), {
      buckets, granularity, label: 'P(t) and R(t)', yFormat: (value) => (Number.isInteger(value) ? groupDigits(String(value)) : value.toFixed(1)),
      series: [
        { name: `P(t) requests: ${formatCount(requests)}`, className: 'series-p', legend: 'p', values: buckets.map((bucket) => count(byBucket.get(bucket), 'requests')) },
        { name: `R(t) results: ${formatCount(results)}`, className: 'series-r', legend: 'r', values: buckets.map((bucket) => count(byBucket.get(bucket), 'results')) },
      ],
    });
    lineChart(byId('approval-chart'), {
      buckets, granularity, label: 'approval rate', yMax: 100, yFormat: (value) => `${value} %`,
      series: [{
        name: `approved / R: ${formatRate(approved, results)}`, className: 'series-approval', legend: 'approval',
        values: buckets.map((bucket) => {
          const item = byBucket.get(bucket);
          return item === undefined || item.approvalRate === null ? null : item.approvalRate * 100;
        }),
      }],
    });
  }

  function drawLatency(latency) {
    setOutput('latency-p95', formatMs(latency.latencyMsP95), latency.latencyMsP95 ?? undefined);
    if (latency.payments === '0') {
      emptyChart(byId('latency-chart'), 'no payment completed in the range');
      return;
    }
    const rows = [['p50', latency.latencyMsP50], ['p90', latency.latencyMsP90], ['p95', latency.latencyMsP95], ['p99', latency.latencyMsP99], ['max', latency.latencyMsMax]];
    horizontalBars(byId('latency-chart'), {
      label: 'latency percentiles', className: 'bar-latency',
      rows: rows.map(([name, ms]) => ({ label: `${name} of ${groupDigits(latency.payments)}`, value: ms ?? 0, text: formatMs(ms) })),
    });
  }

  function drawRiskScores(riskScores) {
    if (riskScores.items.length === 0) {
      emptyChart(byId('risk-chart'), 'no risk assessment in the range');
      return;
    }
    const buckets = new Map(riskScores.items.map((item) => [item.scoreFrom, item]));
    const bars = [];
    for (let scoreFrom = 0; scoreFrom <= 100; scoreFrom += riskScores.bucketWidth) {
      const item = buckets.get(scoreFrom);
      const part = (decision) => ({ className: `bar-${decision}`, name: decision, count: item === undefined ? 0 : Number(item[decision]) });
      bars.push({ label: String(scoreFrom), parts: [part('approve'), part('review'), part('decline')] });
    }
    stackedBars(byId('risk-chart'), {
      bars, label: 'risk score histogram',
      legend: [{ className: 'bar-approve', name: 'approve' }, { className: 'bar-review', name: 'review' }, { className: 'bar-decline', name: 'decline' }],
    });
  }

  function drawDeclineReasons(reasons) {
    if (reasons.items.length === 0) {
      emptyChart(byId('decline-chart'), 'no declines in the range');
      return;
    }
    horizontalBars(byId('decline-chart'), {
      label: 'top decline reasons', className: 'bar-decline',
      rows: reasons.items.map((item) => ({ label: `${item.stage} · ${item.reasonCode}`, value: Number(item.declines), text: groupDigits(item.declines) })),
    });
  }

  function drawVolume(byCurrency) {
    const totals = new Map();
    for (const item of byCurrency) {
      const entry = totals.get(item.currency) ?? { requested: 0n, approved: 0n };
      entry.requested += BigInt(item.requestedMinor);
      entry.approved += BigInt(item.approvedMinor);
      totals.set(item.currency, entry);
    }
    const rows = [...totals].sort(([a], [b]) => a.localeCompare(b)).map(([currency, entry]) => [currency, formatMinor(entry.requested, currency), formatMinor(entry.approved, currency)]);
    fillTable('volume-table', rows.length > 0 ? rows : [['no payments in the range', '', '']]);
  }

  function drawSettlement(batches) {
    const totals = new Map();
    for (const batch of batches) {
      const entry = totals.get(batch.currency) ?? { open: 0n, closed: 0n, payments: 0n, gross: 0n, refunds: 0n, fees: 0n, net: 0n, paidOut: 0n };
      entry[batch.status === 'closed' ? 'closed' : 'open'] += 1n;
      entry.payments += BigInt(batch.paymentCount);
      entry.gross += BigInt(batch.grossMinor);
      entry.refunds += BigInt(batch.refundsMinor);
      entry.fees += BigInt(batch.feesMinor);
      if (batch.netMinor !== null) entry.net += BigInt(batch.netMinor);
      if (batch.payoutStatus === 'posted' && batch.netMinor !== null) entry.paidOut += BigInt(batch.netMinor);
      totals.set(batch.currency, entry);
    }
    const rows = [...totals].sort(([a], [b]) => a.localeCompare(b)).map(([currency, entry]) => [
      currency, formatCount(entry.open), formatCount(entry.closed), formatCount(entry.payments), formatMinor(entry.gross, currency),
      formatMinor(entry.refunds, currency), formatMinor(entry.fees, currency), formatMinor(entry.net, currency), formatMinor(entry.paidOut, currency),
    ]);
    fillTable('settlement-table', rows.length > 0 ? rows : [['no settlement batch opened in the range', '', '', '', '', '', '', '', '']]);
  }

  function drawMerchantList(merchantItems) {
    const merchants = [...new Set(merchantItems.map((item) => item.merchantId))].sort();
    const list = byId('merchant-list');
    if (list.options.length === merchants.length && [...list.options].every((option, index) => option.value === merchants[index])) return;
    list.replaceChildren(...merchants.map((merchantId) => {
      const option = document.createElement('option');
      option.value = merchantId;
      return option;
    }));
  }

  // ------------------------------------------------------------------------------ refresh ---
  async function refresh() {
    if (inFlight) return;
    inFlight = true;
    const mine = ++generation;
    const current = filters();
    const { granularity, ms } = RANGES[current.range];
    const step = BUCKET_MS[granularity];
    const from = Math.floor((Date.now() - ms) / step) * step;
    const fromText = new Date(from).toISOString();
    const scope = { from: fromText, merchantId: current.merchantId, channel: current.channel };
    document.body.dataset.state = 'loading';
    try {
      const [flowItems, byCurrency, latency, riskScores, reasons, batches, merchantItems] = await Promise.all([
        allPages('/analytics/flow', { ...scope, granularity }),
        allPages('/analytics/flow', { ...scope, granularity, groupBy: 'currency' }),
        api('/analytics/latency', scope),
        api('/analytics/risk-scores', { from: fromText, bucketWidth: '10' }),
        api('/analytics/decline-reasons', { ...scope, limit: '8' }),
        allPages('/analytics/settlement-batches', { from: fromText, merchantId: current.merchantId }),
        // Suggestions only: day buckets from the range's first day are few rows, whatever the range.
        allPages('/analytics/flow', { from: new Date(Math.floor(from / BUCKET_MS.day) * BUCKET_MS.day).toISOString(), granularity: 'day', groupBy: 'merchantId' }),
      ]);
      if (mine !== generation) return;
      drawFlow(flowItems, from, granularity);
      drawLatency(latency);
      drawRiskScores(riskScores);
      drawDeclineReasons(reasons);
      drawVolume(byCurrency);
      drawSettlement(batches);
      drawMerchantList(merchantItems);
      errorBox.hidden = true;
      refreshes += 1;
      status.textContent = `updated ${new Date().toISOString().slice(11, 19)} UTC · from ${fromText.slice(0, 16).replace('T', ' ')} UTC`;
      // What this view asked for, so a reader (or a test) can ask the API the same question.
      Object.assign(status.dataset, { refreshes: String(refreshes), from: fromText, granularity, merchantId: current.merchantId, channel: current.channel });
      document.body.dataset.state = 'ready';
    } catch (error) {
      if (mine !== generation) return;
      errorBox.textContent = `Could not load the dashboard: ${error instanceof Error ? error.message : String(error)}`;
      errorBox.hidden = false;
      document.body.dataset.state = 'error';
    } finally {
      inFlight = false;
    }
  }

  /** A filter changed: the answer in flight is for the old filters, so it is dropped and asked again. */
  function filtersChanged() {
    writeFiltersToUrl();
    generation += 1;
    inFlight = false;
    void refresh();
  }

  async function start() {
    readFiltersFromUrl();
    exponents = await (await fetch('/dashboard/assets/currencies.json')).json();
    form.addEventListener('submit', (event) => event.preventDefault());
    for (const control of [merchantInput, channelSelect, rangeSelect]) control.addEventListener('change', filtersChanged);
    setInterval(() => {
      if (autoRefresh.checked) void refresh();
    }, REFRESH_MS);
    await refresh();
  }

  void start();
})();
