import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff';

describe('backoff', () => {
  it('doubles up to the cap, with jitter inside [ceiling/2, ceiling]', () => {
    const low = new Backoff({ baseMs: 100, maxMs: 1000, factor: 2 }, () => 0);
    const high = new Backoff({ baseMs: 100, maxMs: 1000, factor: 2 }, () => 1);
    const lows = Array.from({ length: 6 }, () => low.next());
    const highs = Array.from({ length: 6 }, () => high.next());
    expect(lows).toEqual([50, 100, 200, 400, 500, 500]);
    expect(highs).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('starts over after a reset', () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1000, factor: 2 }, () => 1);
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('spreads clients out', () => {
    let seed = 1;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const delays = new Set(Array.from({ length: 20 }, () => new Backoff(undefined, rand).next()));
    expect(delays.size).toBeGreaterThan(10);
  });
});
