import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, FrameError, MAX_FRAME_BYTES } from './wtframes';

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('wtframes', () => {
  it('prefixes the UTF-8 bytes with their length, big-endian', () => {
    expect([...encodeFrame('{"type":"ping"}')]).toEqual([
      0, 0, 0, 15, ...new TextEncoder().encode('{"type":"ping"}'),
    ]);
    expect([...encodeFrame('é').subarray(0, 4)]).toEqual([0, 0, 0, 2]);
    expect([...encodeFrame('')]).toEqual([0, 0, 0, 0]);
  });

  it('decodes a stream cut at every byte offset', () => {
    const texts = ['{"type":"hello","token":"t"}', '', '{"text":"héllo 👋"}'];
    const stream = concat(...texts.map(encodeFrame));
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder();
      const got = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(got).toEqual(texts);
      expect(d.midFrame).toBe(false);
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const text = '{"type":"message","text":"ünïcödé"}';
    const stream = encodeFrame(text);
    const d = new FrameDecoder();
    const got: string[] = [];
    for (let i = 0; i < stream.length; i++) {
      got.push(...d.push(stream.subarray(i, i + 1)));
      if (i < stream.length - 1) expect(d.midFrame).toBe(true);
    }
    expect(got).toEqual([text]);
  });

  it('returns every frame of a chunk that holds several', () => {
    const d = new FrameDecoder();
    const chunk = concat(encodeFrame('a'), encodeFrame('bb'), encodeFrame('ccc'), encodeFrame('dddd').subarray(0, 5));
    expect(d.push(chunk)).toEqual(['a', 'bb', 'ccc']);
    expect(d.midFrame).toBe(true);
    expect(d.push(encodeFrame('dddd').subarray(5))).toEqual(['dddd']);
  });

  it('refuses a declared length over the limit from its 4 bytes alone', () => {
    const d = new FrameDecoder();
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, MAX_FRAME_BYTES + 1);
    expect(() => d.push(header)).toThrow(FrameError);
    expect(() => d.push(encodeFrame('x'))).toThrow(FrameError);
  });

  it('takes a frame of exactly the limit and refuses one byte more', () => {
    expect(new FrameDecoder(3).push(encodeFrame('abc'))).toEqual(['abc']);
    expect(() => new FrameDecoder(3).push(encodeFrame('abcd'))).toThrow(/exceeds the limit of 3/);
  });

  it('refuses a body that is not UTF-8', () => {
    const d = new FrameDecoder();
    expect(() => d.push(new Uint8Array([0, 0, 0, 2, 0xc3, 0x28]))).toThrow(/not UTF-8/);
    expect(() => d.push(encodeFrame('ok'))).toThrow(FrameError);
  });
});
