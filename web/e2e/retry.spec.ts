// A send that gets no answer shows as failed with Retry; Retry goes out
// under the same client_msg_id, so the server stores the message once,
// whether the first attempt reached it (a lost ack) or not (a crash).
import { expect, test, type Page } from '@playwright/test';
import { call, channelLink, enter, messages, say, signupApi } from './helpers';
import { startServer, type Server } from './server';

let server: Server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { await server.dispose(); });

/** The sends of the channel as stored: text and client_msg_id. */
async function stored(channel: string, token: string): Promise<{ text: string; client_msg_id?: string }[]> {
  const page = await call(server.url, 'GET', `/api/v1/channels/${channel}/messages?limit=100`, token);
  return page.messages.map((m: { text: string; client_msg_id?: string }) => ({ text: m.text, client_msg_id: m.client_msg_id }));
}

async function failedItem(page: Page, text: string) {
  const item = page.locator('.msg.failed').filter({ hasText: text });
  // 15 s without an ack, checked at each heartbeat (10 s).
  await expect(item).toHaveCount(1, { timeout: 45_000 });
  await expect(item.locator('.status')).toHaveText('Not sent: no answer from the server');
  return item;
}

test('a failed send is retried once, under the same client_msg_id', async ({ browser }) => {
  test.setTimeout(240_000);
  const bob = await signupApi(server.url, 'bob');
  const annCtx = await browser.newContext();
  const bobCtx = await browser.newContext();
  const ann = await annCtx.newPage();
  const bobPage = await bobCtx.newPage();
  await enter(ann, server.url, 'ann');
  await enter(bobPage, server.url, 'bob', 'login');
  const annId = (await ann.evaluate(() => JSON.parse(sessionStorage.getItem('chat.session')!).user.id)) as string;
  const channel = (await call(server.url, 'POST', '/api/v1/channels/direct', bob.token, { user_id: annId })).id as string;
  await channelLink(ann, 'bob').click();
  await channelLink(bobPage, 'ann').click();
  await say(ann, 'first, answered');
  await expect(messages(bobPage, 'first, answered')).toHaveCount(1);

  // 1. The server stops answering (paused: the connection stays open).
  // The send shows failed; Retry puts the same id on the wire again. Once
  // the server runs again it reads both: one message, the second a duplicate.
  server.pause();
  await say(ann, 'lost ack');
  await expect(ann.locator('.msg.pending').filter({ hasText: 'lost ack' }).locator('.status')).toHaveText('Sending…');
  const lost = await failedItem(ann, 'lost ack');
  const lostId = await lost.getAttribute('data-client-msg-id');
  await lost.getByRole('button', { name: 'Retry' }).click();
  await expect(ann.locator('.msg.pending').filter({ hasText: 'lost ack' })).toHaveCount(1);
  server.resume();
  await expect(ann.locator('.msg.pending, .msg.failed')).toHaveCount(0, { timeout: 60_000 });
  await expect(messages(ann, 'lost ack')).toHaveCount(1);
  await expect(messages(bobPage, 'lost ack')).toHaveCount(1, { timeout: 60_000 });

  // 2. The server dies with the send unread, and comes back: the message
  // stays failed (nothing goes out behind the user's back) until Retry.
  await expect(ann.getByTestId('connection')).toHaveText('Connected', { timeout: 60_000 });
  server.pause();
  await say(ann, 'server gone');
  const gone = await failedItem(ann, 'server gone');
  const goneId = await gone.getAttribute('data-client-msg-id');
  await server.kill();
  server = await server.restart();
  await expect(ann.getByTestId('connection')).toHaveText('Connected', { timeout: 60_000 });
  await expect(bobPage.getByTestId('connection')).toHaveText('Connected', { timeout: 60_000 });
  await expect(ann.locator('.msg.failed').filter({ hasText: 'server gone' })).toHaveCount(1);
  expect((await stored(channel, bob.token)).map((m) => m.text)).not.toContain('server gone');
  await ann.locator('.msg.failed').filter({ hasText: 'server gone' }).getByRole('button', { name: 'Retry' }).click();
  await expect(ann.locator('.msg.pending, .msg.failed')).toHaveCount(0);
  await expect(messages(ann, 'server gone')).toHaveCount(1);
  await expect(messages(bobPage, 'server gone')).toHaveCount(1);

  // Stored once each, under the ids the failed items carried.
  expect(await stored(channel, bob.token)).toEqual([
    { text: 'first, answered', client_msg_id: expect.any(String) },
    { text: 'lost ack', client_msg_id: lostId },
    { text: 'server gone', client_msg_id: goneId },
  ]);
  // And once each after a reload, on both sides.
  for (const page of [ann, bobPage]) {
    await page.reload();
    await expect(page.getByTestId('connection')).toHaveText('Connected');
    for (const text of ['first, answered', 'lost ack', 'server gone']) await expect(messages(page, text)).toHaveCount(1);
  }
  await annCtx.close();
  await bobCtx.close();
});
