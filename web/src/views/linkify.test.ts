import { describe, expect, it } from 'vitest';
import { linkify, safeHref } from './linkify';

describe('linkify', () => {
  it('links http and https only, leaving the rest as text', () => {
    expect(linkify('see https://example.com/a?b=1. and javascript:alert(1)')).toEqual([
      { text: 'see ' },
      { text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { text: '. and javascript:alert(1)' },
    ]);
    expect(linkify('<img src=x onerror=alert(1)>')).toEqual([{ text: '<img src=x onerror=alert(1)>' }]);
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('data:text/html,x')).toBeNull();
  });

  it('handles a long text in one pass', () => {
    const text = 'x'.repeat(100_000) + ' http://a.b';
    const runs = linkify(text);
    expect(runs).toHaveLength(2);
    expect(runs[1].href).toBe('http://a.b/');
  });
});
