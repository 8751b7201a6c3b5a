import { describe, expect, it } from 'vitest';
import { canRetry } from './outbox';

describe('canRetry', () => {
  it('offers a retry after errors that pass', () => {
    for (const code of ['timeout', 'overloaded', 'rate_limited', 'unavailable', 'storage_unavailable', 'not_owner']) {
      expect(canRetry(code)).toBe(true);
    }
    expect(canRetry(undefined)).toBe(true);
  });

  it('offers none where the same send would fail again', () => {
    for (const code of ['blocked', 'text_too_long', 'channel_not_found', 'invalid_text']) {
      expect(canRetry(code)).toBe(false);
    }
  });
});
