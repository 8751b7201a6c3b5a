// Which transport the app picks (src/protocol/transport.ts): WebTransport
// when the server and the network allow it, WebSocket when UDP goes
// nowhere or the server has WebTransport off; chat works either way.
// This file drops `--disable-quic` like webtransport.spec.ts, and turns
// WebTransport on in its servers (the other specs have it off: server.ts).
import { createSocket, type Socket } from 'node:dgram';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { channelLink, enter, messages, say } from './helpers';
import { startServer, WEBTRANSPORT_ON, type Server } from './server';

test.use({
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  },
});

/** The value of an unlabelled metric in the server's /metrics (0 while it has none). */
async function metric(server: Server, name: string): Promise<number> {
  const text = await (await fetch(server.url + '/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

/**
 * Two users sign up in their own browsers (after `prepare`), ann opens a
 * 1:1 chat with bob and they exchange a message each way.
 */
async function chat(browser: Browser, server: Server, tag: string, prepare?: (page: Page) => Promise<void>) {
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];
  for (const name of [`bob${tag}`, `ann${tag}`]) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await prepare?.(page);
    await enter(page, server.url, name);
    contexts.push(context);
    pages.push(page);
  }
  const [bob, ann] = pages;
  await ann.getByRole('button', { name: 'New chat' }).click();
  await ann.getByLabel('Chat with').fill(`bob${tag}`);
  await ann.getByRole('option', { name: `@bob${tag}` }).click();
  await channelLink(bob, `ann${tag}`).click();
  await say(ann, `hi bob, over ${tag}`);
  await expect(messages(bob, `hi bob, over ${tag}`)).toHaveCount(1);
  await say(bob, `hi ann, over ${tag}`);
  await expect(messages(ann, `hi ann, over ${tag}`)).toHaveCount(1);
  await expect(ann.locator('.msg.pending')).toHaveCount(0);
  return { pages, close: () => Promise.all(contexts.map((c) => c.close())) };
}

/** Both pages are on `kind`, and Settings says so. */
async function expectTransport(pages: Page[], kind: 'webtransport' | 'websocket') {
  for (const page of pages) await expect(page.locator('html')).toHaveAttribute('data-transport', kind);
  await pages[0].getByRole('link', { name: 'Settings' }).click();
  await expect(pages[0].getByTestId('transport')).toHaveText(
    kind === 'webtransport' ? 'Connected over WebTransport (HTTP/3)' : 'Connected over WebSocket');
}

test.describe('with WebTransport on', () => {
  let server: Server;
  test.beforeAll(async () => { server = await startServer(undefined, 0, WEBTRANSPORT_ON); });
  test.afterAll(async () => { await server.dispose(); });

  test('the app chats over WebTransport, and the server counts the sessions', async ({ browser }) => {
    const sessions = await metric(server, 'chat_wt_connections');
    const framesIn = await metric(server, 'chat_wt_frames_in_total');
    const { pages, close } = await chat(browser, server, 'wt');
    try {
      await expectTransport(pages, 'webtransport');
      await expect.poll(() => metric(server, 'chat_wt_connections')).toBeGreaterThanOrEqual(sessions + 2);
      // hello, and a send, from each page at least.
      await expect.poll(() => metric(server, 'chat_wt_frames_in_total')).toBeGreaterThanOrEqual(framesIn + 4);
    } finally {
      await close();
    }
  });
});

// UDP black-holed: the certificate-hash answer names a UDP port that
// swallows everything: the HTTP port number (TCP), with the real endpoint
// moved to another port, so the page tries the very address a browser
// would try first.
test.describe('with UDP going nowhere', () => {
  let server: Server;
  let hole: Socket;
  let swallowed = 0;
  test.beforeAll(async () => {
    hole = createSocket('udp4');
    hole.on('message', () => { swallowed += 1; });
    await new Promise<void>((resolve) => hole.bind(0, '127.0.0.1', resolve));
    server = await startServer(undefined, hole.address().port, {
      ...WEBTRANSPORT_ON, CHAT_EDGE__WEBTRANSPORT__LISTEN: '127.0.0.1:0',
    });
  });
  test.afterAll(async () => {
    await server.dispose();
    hole.close();
  });

  test('the app falls back to WebSocket and chats', async ({ browser }) => {
    const blackHole = async (page: Page) => {
      await page.route('**/webtransport/cert-hash', async (route) => {
        const response = await route.fetch();
        await route.fulfill({ response, json: { ...(await response.json()), port: server.port } });
      });
    };
    const { pages, close } = await chat(browser, server, 'udp', blackHole);
    try {
      await expectTransport(pages, 'websocket');
      // The QUIC handshake went to the hole, and nothing reached the real endpoint.
      expect(swallowed).toBeGreaterThan(0);
      expect(await metric(server, 'chat_wt_frames_in_total')).toBe(0);
    } finally {
      await close();
    }
  });
});

test.describe('with WebTransport off', () => {
  let server: Server;
  test.beforeAll(async () => { server = await startServer(undefined, 0, { CHAT_EDGE__WEBTRANSPORT__ENABLED: 'false' }); });
  test.afterAll(async () => { await server.dispose(); });

  test('the app chats over WebSocket', async ({ browser }) => {
    expect((await fetch(server.url + '/webtransport/cert-hash')).status).toBe(404);
    const { pages, close } = await chat(browser, server, 'off');
    try {
      await expectTransport(pages, 'websocket');
    } finally {
      await close();
    }
  });
});
