// Muting a channel and the notification level: changed in one tab, they
// reach the user's other tab (a `settings` frame) and survive a reload; a
// muted channel shows muted in the sidebar with a quiet badge, as in Slack.
import { expect, test, type Page } from '@playwright/test';
import { call, channelLink, enter, sendRest, signupApi } from './helpers';
import { startServer, type Server } from './server';

let server: Server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { await server.dispose(); });

/** The badge of a channel in the sidebar. */
const badge = (page: Page, title: string) => channelLink(page, title).locator('.badge');

test('mute and notification level reach every tab and survive a reload', async ({ browser }) => {
  const bob = await signupApi(server.url, 'bob');
  const ctx = await browser.newContext();
  const tab1 = await ctx.newPage();
  const tab2 = await ctx.newPage();
  await enter(tab1, server.url, 'ann');
  await enter(tab2, server.url, 'ann', 'login');
  const annId = (await tab1.evaluate(() => JSON.parse(sessionStorage.getItem('chat.session')!).user.id)) as string;
  const group = (await call(server.url, 'POST', '/api/v1/channels', bob.token, { name: 'ops', member_ids: [annId] })).id as string;
  const direct = (await call(server.url, 'POST', '/api/v1/channels/direct', bob.token, { user_id: annId })).id as string;
  for (const tab of [tab1, tab2]) {
    await expect(channelLink(tab, 'ops')).toBeVisible();
    await expect(channelLink(tab, 'bob')).toBeVisible();
  }

  // Tab 1 mutes "ops" from its header, then leaves it.
  await channelLink(tab1, 'ops').click();
  await tab1.getByRole('button', { name: 'Mute', exact: true }).click();
  await expect(tab1.getByRole('button', { name: 'Unmute', exact: true })).toBeVisible();
  await tab1.getByRole('link', { name: 'Settings' }).click();
  for (const tab of [tab1, tab2]) {
    await expect(channelLink(tab, 'ops')).toHaveAccessibleName(/^ops \(muted\)/);
    await expect(channelLink(tab, 'ops')).toHaveClass(/\bmuted\b/);
    await expect(channelLink(tab, 'bob')).not.toHaveClass(/\bmuted\b/);
  }

  // Unread in the muted channel: a quiet badge, not counted in the title.
  await sendRest(server.url, bob, group, 'deploy done');
  await sendRest(server.url, bob, direct, 'lunch?');
  for (const tab of [tab1, tab2]) {
    await expect(badge(tab, 'ops')).toHaveText('1 unread');
    await expect(badge(tab, 'ops')).toHaveClass(/\bquiet\b/);
    await expect(badge(tab, 'bob')).toHaveText('1 unread');
    await expect(badge(tab, 'bob')).not.toHaveClass(/\bquiet\b/);
    await expect(tab).toHaveTitle('(1) Chat');
  }
  // The quiet badge looks different from the loud one.
  const colours = async (tab: Page, title: string) =>
    badge(tab, title).evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(await colours(tab1, 'ops')).not.toEqual(await colours(tab1, 'bob'));

  // Tab 1 asks for mentions only: the 1:1 chat's badge goes quiet in both tabs.
  await tab1.getByRole('radio', { name: 'Only when I am mentioned' }).check();
  await tab2.getByRole('link', { name: 'Settings' }).click();
  await expect(tab2.getByRole('radio', { name: 'Only when I am mentioned' })).toBeChecked();
  for (const tab of [tab1, tab2]) {
    await expect(badge(tab, 'bob')).toHaveClass(/\bquiet\b/);
    await expect(tab).toHaveTitle('Chat');
  }
  // A mention still asks for attention.
  await sendRest(server.url, bob, direct, '@ann are you there?');
  for (const tab of [tab1, tab2]) {
    await expect(badge(tab, 'bob')).not.toHaveClass(/\bquiet\b/);
    await expect(badge(tab, 'bob')).toHaveText('1 unread');
    await expect(tab).toHaveTitle('(1) Chat');
  }

  // Both survive a reload (the server keeps them; `ready` brings them back).
  for (const tab of [tab1, tab2]) {
    await tab.reload();
    await expect(tab.getByTestId('connection')).toHaveText('Connected');
    await expect(tab.getByRole('radio', { name: 'Only when I am mentioned' })).toBeChecked();
    await expect(channelLink(tab, 'ops')).toHaveAccessibleName(/^ops \(muted\)/);
    await expect(badge(tab, 'ops')).toHaveClass(/\bquiet\b/);
  }
  const stored = await call(server.url, 'GET', '/api/v1/users/me/settings',
    (await tab1.evaluate(() => JSON.parse(sessionStorage.getItem('chat.session')!).token)) as string);
  expect(stored).toMatchObject({ notifications: 'mentions', muted_channel_ids: [group] });

  // Unmuted from tab 2's settings page: tab 1 follows.
  const mutedList = tab2.getByRole('region', { name: 'Notifications' });
  await mutedList.getByRole('button', { name: 'Unmute' }).click();
  await expect(mutedList.getByText('None. Mute a channel from its header.')).toBeVisible();
  await expect(channelLink(tab1, 'ops')).not.toHaveClass(/\bmuted\b/);
  await expect(channelLink(tab1, 'ops')).toHaveAccessibleName(/^ops(?! \(muted\))/);
  await ctx.close();
});
