import { describe, expect, it } from 'vitest';
import { LatestSearch, type SearchResult } from './search';

/** A search with hand-driven timers and answers. */
function setup() {
  const timers: { fn: () => void; ms: number }[] = [];
  const asked: { query: string; answer: (v: string[]) => void; fail: () => void }[] = [];
  const results: SearchResult<string[]>[] = [];
  const search = new LatestSearch<string[]>({
    lookup: (query) => new Promise((resolve, reject) => asked.push({ query, answer: resolve, fail: () => reject(new Error('x')) })),
    onResult: (r) => results.push(r),
    delayMs: 100,
    setTimer: (fn, ms) => { const t = { fn, ms }; timers.push(t); return t; },
    clearTimer: (t) => { const i = timers.indexOf(t as never); if (i >= 0) timers.splice(i, 1); },
  });
  const fire = () => timers.splice(0).forEach((t) => t.fn());
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return { search, timers, asked, results, fire, settle };
}

describe('LatestSearch', () => {
  it('waits for typing to pause, then asks once for the last text', async () => {
    const t = setup();
    t.search.set('a');
    t.search.set('al');
    t.search.set('ali');
    expect(t.timers.map((x) => x.ms)).toEqual([100]);
    t.fire();
    expect(t.asked.map((a) => a.query)).toEqual(['ali']);
    t.asked[0].answer(['alice']);
    await t.settle();
    expect(t.results).toEqual([{ query: 'ali', value: ['alice'] }]);
  });

  it('drops a late answer to an older query', async () => {
    const t = setup();
    t.search.set('a');
    t.fire();
    t.search.set('al');
    t.fire();
    t.asked[1].answer(['alice', 'alan']);
    await t.settle();
    t.asked[0].answer(['ann', 'alice', 'alan']);
    await t.settle();
    expect(t.results).toEqual([{ query: 'al', value: ['alice', 'alan'] }]);
  });

  it('reports nothing for an empty query, a cancelled one, or a failed lookup', async () => {
    const t = setup();
    t.search.set('bo');
    t.fire();
    t.search.set('');
    expect(t.timers).toEqual([]);
    t.asked[0].answer(['bob']);
    t.search.set('cid');
    t.search.cancel();
    t.fire();
    t.search.set('dan');
    t.fire();
    t.asked[1].fail();
    await t.settle();
    expect(t.asked.map((a) => a.query)).toEqual(['bo', 'dan']);
    expect(t.results).toEqual([]);
  });
});
