// Proves queriesInTurn: queries issued at once by concurrent handlers run one at a time, in the order
// they were issued, each answering its own caller (a failure only its own), and everything else of
// the client passes through.
import type { PoolClient } from 'pg';
import { queriesInTurn } from './queries-in-turn.js';

function fakeClient() {
  const log: string[] = [];
  let active = 0;
  let mostActive = 0;
  const client = {
    release: () => 'released',
    query: async (text: string) => {
      active += 1;
      mostActive = Math.max(mostActive, active);
      log.push(`start ${text}`);
      await new Promise((resolve) => setTimeout(resolve, text === 'slow' ? 20 : 1));
      active -= 1;
      log.push(`end ${text}`);
      if (text === 'bad') throw new Error('bad query');
      return { rows: [text] };
    },
  };
  return { client: client as unknown as PoolClient, log, mostActive: () => mostActive };
}

describe('queriesInTurn', () => {
  it('runs overlapping queries one at a time, in the order they were issued, each with its own answer', async () => {
    const fake = fakeClient();
    const client = queriesInTurn(fake.client);
    const answers = await Promise.all(['slow', 'a', 'b'].map((text) => client.query(text)));
    expect(answers.map((answer) => answer.rows[0])).toEqual(['slow', 'a', 'b']);
    expect(fake.mostActive()).toBe(1);
    expect(fake.log).toEqual(['start slow', 'end slow', 'start a', 'end a', 'start b', 'end b']);
  });

  it('fails only the query that failed; the next one still runs', async () => {
    const fake = fakeClient();
    const client = queriesInTurn(fake.client);
    const [bad, good] = await Promise.allSettled([client.query('bad'), client.query('good')]);
    expect(bad).toMatchObject({ status: 'rejected', reason: new Error('bad query') });
    expect(good).toMatchObject({ status: 'fulfilled', value: { rows: ['good'] } });
  });

  it('passes every other property through to the client', () => {
    const client = queriesInTurn(fakeClient().client);
    expect((client.release as unknown as () => string)()).toBe('released');
  });
});
