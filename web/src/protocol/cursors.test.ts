import { describe, expect, it } from 'vitest';
import { Cursors } from './cursors';

describe('cursors', () => {
  it('go in hello only for tracked channels, and move with new messages', () => {
    const c = new Cursors();
    expect(c.forHello()).toEqual({});
    c.track('1', '100');
    expect(c.observe('1', '101')).toBe(true);
    expect(c.observe('2', '500')).toBe(true);
    expect(c.forHello()).toEqual({ '1': '101' });
  });

  it('drop repeats: an ack and its message, or a replay of held history', () => {
    const c = new Cursors();
    c.track('1', '100');
    expect(c.observe('1', '101')).toBe(true);
    expect(c.observe('1', '101')).toBe(false);
    expect(c.observe('1', '99')).toBe(false);
    expect(c.cursor('1')).toBe('101');
  });

  it('never move back', () => {
    const c = new Cursors();
    c.track('1', '100');
    c.track('1', '50');
    expect(c.cursor('1')).toBe('100');
  });

  it('hold at a resync point until the gap is filled', () => {
    const c = new Cursors();
    c.track('1', '100');
    c.resync('1', '90');
    expect(c.cursor('1')).toBe('90');
    expect(c.observe('1', '120')).toBe(true);
    expect(c.cursor('1')).toBe('90');
    c.track('1', '130');
    expect(c.cursor('1')).toBe('90');
    c.filled('1', '125');
    expect(c.cursor('1')).toBe('125');
    expect(c.observe('1', '126')).toBe(true);
    expect(c.cursor('1')).toBe('126');
  });

  it('forget deleted channels', () => {
    const c = new Cursors();
    c.track('1', '5');
    c.forget('1');
    expect(c.forHello()).toEqual({});
  });
});
