// The server stops and starts mid-conversation: the page reconnects by
// itself and shows what was sent meanwhile, once each; what the user sent
// while disconnected goes out once.
import { expect, test } from '@playwright/test';
import { call, channelLink, enter, messages, say, sendRest, signupApi } from './helpers';
import { startServer, type Server } from './server';

let server: Server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { await server.dispose(); });

test('a restart of the server: reconnect, catch up, nothing twice', async ({ browser }) => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const bob = await signupApi(server.url, 'bob');
  await enter(page, server.url, 'ann');
  const annId = (await page.evaluate(() => JSON.parse(sessionStorage.getItem('chat.session')!).user.id)) as string;
  const channel = (await call(server.url, 'POST', '/api/v1/channels/direct', bob.token, { user_id: annId })).id as string;
  await sendRest(server.url, bob, channel, 'before the restart');
  await channelLink(page, 'bob').click();
  await expect(messages(page, 'before the restart')).toHaveCount(1);

  await server.stop();
  await expect(page.getByTestId('connection')).toHaveText('Reconnecting…');
  await say(page, 'written while away');
  await expect(page.locator('.msg.pending')).toHaveText(/Sending…/);

  // Kept offline while bob writes, so those messages must come by catch-up.
  await ctx.setOffline(true);
  server = await server.restart();
  for (const n of [1, 2, 3]) await sendRest(server.url, bob, channel, `away ${n}`);
  await ctx.setOffline(false);

  await expect(page.getByTestId('connection')).toHaveText('Connected', { timeout: 60_000 });
  for (const n of [1, 2, 3]) await expect(messages(page, `away ${n}`)).toHaveCount(1);
  await expect(messages(page, 'before the restart')).toHaveCount(1);
  await expect(messages(page, 'written while away')).toHaveCount(1);
  await expect(page.locator('.msg.pending, .msg.failed')).toHaveCount(0);
  const stored = (await call(server.url, 'GET', `/api/v1/channels/${channel}/messages?limit=100`, bob.token)).messages;
  expect(stored.map((m: { text: string }) => m.text).sort()).toEqual(
    ['before the restart', 'written while away', 'away 1', 'away 2', 'away 3'].sort(),
  );

  // Live again: a new message arrives at once.
  await sendRest(server.url, bob, channel, 'back live');
  await expect(messages(page, 'back live')).toHaveCount(1);

  // The token ended elsewhere ("log out everywhere"): the tab goes to the login page.
  const token = (await page.evaluate(() => JSON.parse(sessionStorage.getItem('chat.session')!).token)) as string;
  await call(server.url, 'POST', '/api/v1/auth/logout-all', token);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'session has ended' })).toBeVisible();
  expect(await page.evaluate(() => sessionStorage.getItem('chat.session'))).toBeNull();
  await ctx.close();
});
