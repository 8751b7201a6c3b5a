import { describe, expect, it } from 'vitest';
import { forward } from './receipts';

describe('forward', () => {
  it('takes new positions and leaves out the user', () => {
    const next = forward(undefined, [{ user_id: '2', last_read_id: '10' }, { user_id: '1', last_read_id: '12' }], '1');
    expect(next).toEqual(new Map([['2', '10']]));
  });

  it('never moves a position back: a late REST answer loses to a newer live frame', () => {
    const held = new Map([['2', '15']]);
    expect(forward(held, [{ user_id: '2', last_read_id: '9' }], '1')).toBeNull();
    expect(forward(held, [{ user_id: '2', last_read_id: '100' }], '1')).toEqual(new Map([['2', '100']]));
    expect(held.get('2')).toBe('15');
  });

  it('says when nothing moved, so nothing redraws', () => {
    expect(forward(new Map([['2', '15']]), [{ user_id: '2', last_read_id: '15' }], '1')).toBeNull();
    expect(forward(undefined, [], '1')).toBeNull();
  });
});
