// WebTransport in Debian's Chromium: a page pins the server's self-signed
// certificate by the hash it serves, opens the chat stream and speaks the
// length-prefixed frames of docs/protocol.md; two such pages chat.
// This file drops `--disable-quic` (the other specs keep it, so page loads
// never try the HTTP/3 endpoint that `Alt-Svc` advertises).
import { expect, test, type Page } from '@playwright/test';
import { call, signupApi } from './helpers';
import { startServer, WEBTRANSPORT_ON, type Server } from './server';

test.use({
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  },
});

let server: Server;
test.beforeAll(async () => { server = await startServer(undefined, 0, WEBTRANSPORT_ON); });
test.afterAll(async () => { await server.dispose(); });

/** Opens a WebTransport session in `page`, says hello, returns `ready`. */
async function open(page: Page, token: string): Promise<Record<string, unknown>> {
  await page.goto(server.url + '/');
  return page.evaluate(async (token) => {
    const info = await (await fetch('/webtransport/cert-hash')).json();
    const hash = Uint8Array.from(atob(info.value), (c) => c.charCodeAt(0));
    const wt = new WebTransport(`https://${location.hostname}:${info.port}${info.path}`,
      { serverCertificateHashes: [{ algorithm: 'sha-256', value: hash }] });
    await wt.ready;
    const stream = await wt.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    let buffered = new Uint8Array(0);
    const frames: Record<string, unknown>[] = [];
    const w = window as unknown as Record<string, unknown>;
    w.chatSend = async (frame: unknown) => {
      const body = new TextEncoder().encode(JSON.stringify(frame));
      const out = new Uint8Array(4 + body.length);
      new DataView(out.buffer).setUint32(0, body.length);
      out.set(body, 4);
      await writer.write(out);
    };
    // The next frame of `type`, keeping the others.
    w.chatNext = async (type: string) => {
      for (;;) {
        const i = frames.findIndex((f) => f.type === type);
        if (i >= 0) return frames.splice(i, 1)[0];
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        const more = new Uint8Array(buffered.length + value.length);
        more.set(buffered);
        more.set(value, buffered.length);
        buffered = more;
        while (buffered.length >= 4) {
          const n = new DataView(buffered.buffer, buffered.byteOffset).getUint32(0);
          if (buffered.length < 4 + n) break;
          frames.push(JSON.parse(new TextDecoder().decode(buffered.subarray(4, 4 + n))));
          buffered = buffered.subarray(4 + n);
        }
      }
    };
    await (w.chatSend as (f: unknown) => Promise<void>)({ type: 'hello', token });
    return (w.chatNext as (t: string) => Promise<Record<string, unknown>>)('ready');
  }, token);
}

test('two pages chat over WebTransport with the pinned certificate hash', async ({ browser }) => {
  const ann = await signupApi(server.url, 'ann');
  const bob = await signupApi(server.url, 'bob');
  const channel = (await call(server.url, 'POST', '/api/v1/channels/direct', ann.token, { user_id: bob.id })).id as string;
  const annPage = await (await browser.newContext()).newPage();
  const bobPage = await (await browser.newContext()).newPage();
  expect((await open(annPage, ann.token)).type).toBe('ready');
  expect((await open(bobPage, bob.token)).type).toBe('ready');

  const ack = await annPage.evaluate(async (channel) => {
    const w = window as unknown as Record<string, (a: unknown) => Promise<Record<string, unknown>>>;
    await w.chatSend({ type: 'send', channel_id: channel, client_msg_id: 'wt-1', text: 'hello over HTTP/3' });
    return w.chatNext('ack');
  }, channel);
  expect(ack.type).toBe('ack');
  const got = await bobPage.evaluate(async () => {
    const w = window as unknown as Record<string, (a: unknown) => Promise<Record<string, unknown>>>;
    return w.chatNext('message');
  });
  expect((got.message as Record<string, unknown>).text).toBe('hello over HTTP/3');
  expect(got.message).toEqual(ack.message);
});
