// Two people in two browsers: a 1:1 chat both ways, typing, read receipts.
import { expect, test } from '@playwright/test';
import { channelLink, enter, messages, say } from './helpers';
import { startServer, type Server } from './server';

let server: Server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { await server.dispose(); });

test('two users chat one to one, see typing and read receipts', async ({ browser }) => {
  const annCtx = await browser.newContext();
  const bobCtx = await browser.newContext();
  const ann = await annCtx.newPage();
  const bob = await bobCtx.newPage();
  await enter(bob, server.url, 'bob');
  await enter(ann, server.url, 'ann');

  // Ann finds bob as she types and opens the chat.
  await ann.getByRole('button', { name: 'New chat' }).click();
  await ann.getByLabel('Chat with').pressSequentially('bo');
  await ann.getByLabel('Chat with').pressSequentially('b');
  await ann.getByRole('option', { name: '@bob' }).click();
  await expect(ann.getByRole('heading', { level: 1, name: 'bob' })).toBeVisible();

  // Bob sees the channel appear and opens it.
  await channelLink(bob, 'ann').click();
  await expect(bob.getByRole('heading', { level: 1, name: 'ann' })).toBeVisible();

  // Typing shows on the other side.
  await ann.locator('#composer').pressSequentially('hi b');
  await expect(bob.getByTestId('typing')).toHaveText('ann is typing…');
  await ann.locator('#composer').fill('');
  await say(ann, 'hi bob');
  await expect(messages(bob, 'hi bob')).toHaveCount(1);
  await expect(messages(ann, 'hi bob')).toHaveCount(1);
  await expect(ann.locator('.msg.pending')).toHaveCount(0);

  // Bob read it with the channel open: ann sees the receipt.
  await expect(messages(ann, 'hi bob').locator('.seen')).toHaveText('Seen by bob');

  await bob.locator('#composer').pressSequentially('hello');
  await expect(ann.getByTestId('typing')).toHaveText('bob is typing…');
  await bob.locator('#composer').press('Shift+Enter');
  await bob.locator('#composer').pressSequentially('ann');
  await bob.locator('#composer').press('Enter');
  await expect(messages(ann, /hello\s+ann/)).toHaveCount(1);
  await expect(messages(bob, /hello\s+ann/).locator('.seen')).toHaveText('Seen by ann');
  // Typing ends with the message.
  await expect(ann.getByTestId('typing')).toHaveText('');

  // The sidebar shows the last message on both sides.
  await expect(channelLink(ann, 'bob')).toContainText('bob: hello ann');
  await expect(channelLink(bob, 'ann')).toContainText('You: hello ann');

  // Friends: ann asks, bob accepts, both see each other as friends.
  await ann.getByRole('link', { name: 'Friends' }).click();
  await ann.getByLabel('Add a friend').fill('bob');
  await ann.getByRole('option', { name: '@bob' }).click();
  await expect(ann.getByRole('region', { name: 'Requests you sent' })).toContainText('bob');
  await bob.getByRole('link', { name: 'Friends' }).click();
  await bob.getByRole('button', { name: 'Accept ann' }).click();
  await expect(bob.getByRole('region', { name: 'Friends' })).toContainText('ann');
  await expect(ann.getByRole('region', { name: 'Friends' })).toContainText('online');

  // A new display name reaches the other side.
  await ann.getByRole('link', { name: 'Settings' }).click();
  await ann.getByLabel('Display name').fill('Ann A.');
  await ann.getByLabel('Status').fill('on a train');
  await ann.getByRole('button', { name: 'Save profile' }).click();
  await expect(ann.getByText('Saved.')).toBeVisible();
  await expect(channelLink(bob, 'Ann A.')).toBeVisible();
  await channelLink(ann, 'bob').click();

  // Presence of the open channel's members.
  await ann.getByRole('button', { name: /^Members/ }).click();
  const members = ann.getByRole('complementary', { name: 'Members' });
  await expect(members.locator('.member', { hasText: 'bob' }).getByTestId('presence')).toHaveText('online');
  await bobCtx.close();
  await expect(members.locator('.member', { hasText: 'bob' }).getByTestId('presence')).toHaveText(/last seen/, { timeout: 45_000 });
  await annCtx.close();
});
