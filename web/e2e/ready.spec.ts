// What `ready` and one call per opened channel give at once after a
// reload: each channel's last message in the sidebar (with no history call
// for channels that are not opened), kept current by live edits and
// deletes, and read receipts of small channels (GET .../reads), never asked
// for in channels above `receipts_max_members`.
import { expect, test, type Page } from '@playwright/test';
import { call, channelLink, enter, messages, sendRest, signupApi, type Account } from './helpers';
import { startServer, type Server } from './server';

let server: Server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { await server.dispose(); });

/** The signed-in account of a page. */
async function accountOf(page: Page): Promise<Account> {
  const s = await page.evaluate(() => JSON.parse(sessionStorage.getItem('chat.session')!));
  return { id: s.user.id, username: s.user.username, token: s.token };
}

/** The paths of the REST calls a page makes from now on. */
function watchCalls(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/api/')) seen.push(url.pathname + url.search);
  });
  return seen;
}

test('after a reload: last messages without history calls, receipts at once', async ({ browser }) => {
  test.setTimeout(150_000);
  const bob = await signupApi(server.url, 'bob');
  const cid = await signupApi(server.url, 'cid');
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await enter(page, server.url, 'ann');
  const ann = await accountOf(page);

  const withBob = (await call(server.url, 'POST', '/api/v1/channels/direct', bob.token, { user_id: ann.id })).id as string;
  const trio = (await call(server.url, 'POST', '/api/v1/channels', bob.token, { name: 'trio', member_ids: [ann.id, cid.id] })).id as string;
  const withCid = (await call(server.url, 'POST', '/api/v1/channels/direct', cid.token, { user_id: ann.id })).id as string;
  // A channel of 21 members: above receipts_max_members (20).
  const crowd: Account[] = [];
  for (let i = 0; i < 19; i++) crowd.push(await signupApi(server.url, `crowd${i}`));
  const big = (await call(server.url, 'POST', '/api/v1/channels', bob.token, {
    name: 'everyone', member_ids: [ann.id, ...crowd.map((u) => u.id)],
  })).id as string;

  // Apart in time, so that the order by last message is sure.
  const later = () => page.waitForTimeout(20);
  await sendRest(server.url, bob, big, 'all hands at noon');
  await later();
  await sendRest(server.url, ann, withBob, 'ann says hi');
  await sendRest(server.url, bob, withBob, 'one');
  const two = await sendRest(server.url, bob, withBob, 'two');
  await later();
  await sendRest(server.url, cid, trio, 'x'.repeat(300));
  await later();
  await sendRest(server.url, cid, withCid, 'hello from cid');
  const oops = await sendRest(server.url, cid, withCid, 'oops, wrong chat');
  await call(server.url, 'DELETE', `/api/v1/channels/${withCid}/messages/${oops.id}`, cid.token);
  // Bob reads before the reload: no live frame tells the page about it afterwards.
  await call(server.url, 'PUT', `/api/v1/channels/${withBob}/read`, bob.token, { message_id: two.id });

  // The page before the reload saw "oops" arrive and go, and read the
  // message before it from history to show in its place: let it finish,
  // so that the calls watched are the reloaded page's own.
  await expect(channelLink(page, 'cid')).toContainText('cid: hello from cid');
  const calls = watchCalls(page);
  await page.reload();
  await expect(page.getByTestId('connection')).toHaveText('Connected');
  const sidebar = page.getByRole('navigation', { name: 'Channels' });
  // The last message of each channel that is not deleted, most recent first.
  await expect(sidebar.locator('.channel-name')).toHaveText([/^cid/, /^trio/, /^bob/, /^everyone/]);
  await expect(channelLink(page, 'cid')).toContainText('cid: hello from cid');
  await expect(channelLink(page, 'trio')).toContainText(`cid: ${'x'.repeat(80)}…`);
  await expect(channelLink(page, 'bob')).toContainText('bob: two');
  await expect(channelLink(page, 'everyone')).toContainText('bob: all hands at noon');
  await page.waitForTimeout(1000);
  expect(calls.filter((c) => c.includes('/messages'))).toEqual([]);

  // Opening the 1:1 chat: one history page, one reads call, and the
  // receipt bob left before the reload shows at once.
  await channelLink(page, 'bob').click();
  await expect(messages(page, 'ann says hi')).toHaveCount(1);
  await expect(messages(page, 'two').locator('.seen')).toHaveText('Seen by bob');
  expect(calls.filter((c) => c.includes(`/channels/${withBob}/reads`))).toHaveLength(1);
  expect(calls.filter((c) => c.includes('/messages'))).toEqual([`/api/v1/channels/${withBob}/messages?limit=50`]);

  // Live frames keep the previews current: an edit and a delete of the last
  // message of the open channel (the one before is in the timeline)...
  await call(server.url, 'PATCH', `/api/v1/channels/${withBob}/messages/${two.id}`, bob.token, { text: 'two, edited' });
  await expect(channelLink(page, 'bob')).toContainText('bob: two, edited');
  await call(server.url, 'DELETE', `/api/v1/channels/${withBob}/messages/${two.id}`, bob.token);
  await expect(channelLink(page, 'bob')).toContainText('bob: one');
  // ...a new message, and its delete, in a channel that is not open (one
  // small page before it finds the message left).
  const short = await sendRest(server.url, cid, trio, 'short again');
  await expect(channelLink(page, 'trio')).toContainText('cid: short again');
  await expect(sidebar.locator('.channel-name')).toHaveText([/^trio/, /^cid/, /^bob/, /^everyone/]);
  await call(server.url, 'DELETE', `/api/v1/channels/${trio}/messages/${short.id}`, cid.token);
  await expect(channelLink(page, 'trio')).toContainText(`cid: ${'x'.repeat(80)}…`);
  expect(calls.filter((c) => c.includes(`/channels/${withCid}/`))).toEqual([]);

  // The big channel has no receipts: no reads call when it is opened.
  await channelLink(page, 'everyone').click();
  await expect(messages(page, 'all hands at noon')).toHaveCount(1);
  await page.waitForTimeout(500);
  expect(calls.filter((c) => c.includes(`/channels/${big}/reads`))).toEqual([]);
  await ctx.close();
});
