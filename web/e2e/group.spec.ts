// A group of three, one of them with two tabs: messages, badges, edits and
// deletes reach every tab.
import { expect, test } from '@playwright/test';
import { channelLink, enter, messages, say, signupApi } from './helpers';
import { startServer, type Server } from './server';

let server: Server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { await server.dispose(); });

test('a group reaches every tab; reading in one tab clears the badge in the other', async ({ browser }) => {
  const bob = await signupApi(server.url, 'bob');
  await signupApi(server.url, 'cid');
  const annCtx = await browser.newContext();
  const ann = await annCtx.newPage();
  await enter(ann, server.url, 'ann');

  // Bob in two tabs of one browser: each tab is a session of its own.
  const bobCtx = await browser.newContext();
  const tab1 = await bobCtx.newPage();
  const tab2 = await bobCtx.newPage();
  await enter(tab1, server.url, bob.username, 'login');
  await enter(tab2, server.url, bob.username, 'login');

  // Ann creates the group with a name and two members.
  await ann.getByRole('button', { name: 'New group' }).click();
  const dialog = ann.getByRole('dialog', { name: 'New group' });
  await dialog.getByLabel('Group name').fill('design team');
  await dialog.getByLabel('Add members').fill('bob');
  await dialog.getByRole('option', { name: '@bob' }).click();
  await dialog.getByLabel('Add members').fill('cid');
  await dialog.getByRole('option', { name: '@cid' }).click();
  await dialog.getByRole('button', { name: 'Create group' }).click();
  await expect(ann.getByRole('heading', { level: 1, name: 'design team' })).toBeVisible();
  await expect(channelLink(tab1, 'design team')).toBeVisible();
  await expect(channelLink(tab2, 'design team')).toBeVisible();

  await say(ann, 'standup at ten?');
  for (const tab of [tab1, tab2]) {
    await expect(channelLink(tab, 'design team')).toContainText('ann: standup at ten?');
    await expect(channelLink(tab, 'design team').locator('.badge')).toHaveText('1 unread');
  }

  // Bob reads in tab 1: the badge goes in tab 2 too.
  await channelLink(tab1, 'design team').click();
  await expect(messages(tab1, 'standup at ten?')).toHaveCount(1);
  await expect(tab1.locator('.divider')).toHaveText('New messages');
  await expect(channelLink(tab2, 'design team').locator('.badge')).toHaveCount(0);
  await expect(channelLink(tab1, 'design team').locator('.badge')).toHaveCount(0);

  await channelLink(tab2, 'design team').click();
  await expect(messages(tab2, 'standup at ten?')).toHaveCount(1);

  // Bob answers from tab 2: tab 1 and ann see it.
  await say(tab2, 'yes, in 5');
  await expect(messages(tab1, 'yes, in 5')).toHaveCount(1);
  await expect(messages(ann, 'yes, in 5')).toHaveCount(1);

  // Ann edits her message (Escape first cancels an edit), then deletes it.
  const mine = messages(ann, 'standup at ten?');
  await mine.getByRole('button', { name: 'Edit message' }).click();
  // The box puts the caret after the old text once mounted: fill only
  // then, or the new text can land after the old instead of replacing it.
  await expect(ann.getByLabel('Edit message')).toBeFocused();
  await ann.getByLabel('Edit message').fill('throwaway');
  await ann.getByLabel('Edit message').press('Escape');
  await expect(messages(ann, 'standup at ten?')).toHaveCount(1);
  await messages(ann, 'standup at ten?').getByRole('button', { name: 'Edit message' }).click();
  await expect(ann.getByLabel('Edit message')).toBeFocused();
  await ann.getByLabel('Edit message').fill('standup at eleven');
  await ann.getByLabel('Edit message').press('Enter');
  for (const page of [ann, tab1, tab2]) {
    await expect(messages(page, 'standup at eleven')).toHaveCount(1);
    await expect(messages(page, 'standup at eleven').locator('.edited')).toHaveText(/\(edited\)/);
    await expect(messages(page, 'standup at ten?')).toHaveCount(0);
  }
  await messages(ann, 'standup at eleven').getByRole('button', { name: 'Delete message' }).click();
  await ann.getByRole('button', { name: 'Yes, delete' }).click();
  for (const page of [ann, tab1, tab2]) {
    await expect(messages(page, 'standup at eleven')).toHaveCount(0);
    await expect(page.locator('.msg .deleted')).toHaveText(['This message was deleted']);
  }

  // Bob leaves from tab 1: the group goes from both of his tabs.
  await tab1.getByRole('button', { name: /^Members/ }).click();
  await tab1.getByRole('button', { name: 'Leave group' }).click();
  await expect(channelLink(tab1, 'design team')).toHaveCount(0);
  await expect(channelLink(tab2, 'design team')).toHaveCount(0);
  await ann.getByRole('button', { name: /^Members \(2\)/ }).click();
  await expect(ann.getByRole('complementary', { name: 'Members' }).locator('.member')).toHaveCount(2);
  await annCtx.close();
  await bobCtx.close();
});
