// Proves that docs/asyncapi.yaml is exactly what tools/asyncapi.mjs renders from the contracts
// registry today, so the published description of our topics cannot drift from the code; and that
// the rendering covers every topic and contract with its schema, key and headers.
import { readFileSync } from 'node:fs';
// tools/ belongs to no project, so the boundary rule cannot place this import; it is a test of a workspace script, not a dependency of the lib.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ASYNCAPI_DOCUMENT_PATH, ASYNCAPI_REGENERATE_COMMAND, asyncApiDocument, renderAsyncApi, toYaml } from '../../../tools/asyncapi.mjs';
import { ALL_TOPICS, CONTRACTS, MessageHeaders } from './index.js';

interface Channel { address: string; messages: Record<string, { $ref: string }> }
interface Message { payload: { properties: { data: unknown } }; headers: { properties: Record<string, { const?: string }> }; 'x-clearline-partition-key': string }
interface Document { asyncapi: string; channels: Record<string, Channel>; components: { messages: Record<string, Message> } }

describe('docs/asyncapi.yaml', () => {
  it('is up to date with the contracts registry', () => {
    let committed = '';
    try {
      committed = readFileSync(ASYNCAPI_DOCUMENT_PATH, 'utf8');
    } catch {
      // Missing counts as out of date; the message below says how to fix it.
    }
    const rendered = renderAsyncApi();
    if (committed !== rendered) {
      const committedLines = committed.split('\n');
      const renderedLines = rendered.split('\n');
      const line = renderedLines.findIndex((text, index) => committedLines[index] !== text);
      throw new Error(
        `docs/asyncapi.yaml is out of date with libs/contracts: run \`${ASYNCAPI_REGENERATE_COMMAND}\` and commit the result.\n`
        + `First difference at line ${line + 1}:\n  committed: ${committedLines[line] ?? '(end of file)'}\n  generated: ${renderedLines[line] ?? '(end of file)'}`,
      );
    }
  });

  it('is deterministic', () => {
    expect(renderAsyncApi()).toBe(renderAsyncApi());
  });

  const document = asyncApiDocument() as unknown as Document;

  it('has every topic and its dead-letter twin as a channel, and every contract as a message on its topic', () => {
    expect(document.asyncapi).toBe('3.0.0');
    expect(Object.values(document.channels).map((channel) => channel.address).sort()).toEqual([...ALL_TOPICS].sort());
    for (const contract of CONTRACTS) {
      const channel = Object.values(document.channels).find((candidate) => candidate.address === contract.topic);
      expect(channel?.messages[contract.type]).toEqual({ $ref: `#/components/messages/${contract.type}` });
      const message = document.components.messages[contract.type];
      expect(message?.payload.properties.data).toEqual(contract.schema);
      expect(message?.headers.properties[MessageHeaders.messageType]?.const).toBe(contract.type);
    }
  });

  it('names the field each contract is keyed by', () => {
    expect(document.components.messages.RequestPayment?.['x-clearline-partition-key']).toBe('data.paymentId');
    expect(document.components.messages.SettlementBatchClosed?.['x-clearline-partition-key']).toBe('data.merchantId');
  });
});

describe('toYaml', () => {
  it('quotes every string, so nothing reads back as another type', () => {
    expect(toYaml({ a: 'no', b: '1', c: 1, d: true, e: null, f: [], g: {}, 'h-i': ['x', { y: 'z' }], 'with space': [[1]] })).toBe([
      'a: "no"', 'b: "1"', 'c: 1', 'd: true', 'e: null', 'f: []', 'g: {}', 'h-i:', '  - "x"', '  - y: "z"', '"with space":', '  - - 1', '',
    ].join('\n'));
  });
});
