// The keyboard alone, no mouse: sign in, reach the channel list, open a
// channel, send with Enter, a new line with Shift+Enter, edit the last own
// message with ArrowUp in the empty box, Escape cancels; focus is visible.
import { expect, test, type Page } from '@playwright/test';
import { call, enter, messages, PASSWORD, sendRest, signupApi } from './helpers';
import { startServer, type Server } from './server';

let server: Server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { await server.dispose(); });

/** What has the focus: tag, id, class and text, as a short string. */
const focused = (page: Page) => page.evaluate(() => {
  const el = document.activeElement as HTMLElement | null;
  const text = el?.querySelector('.channel-name')?.textContent ?? el?.textContent ?? '';
  return el ? `${el.tagName.toLowerCase()}#${el.id}.${el.className}: ${text.trim().slice(0, 40)}` : '';
});

/** Whether the focused element shows a focus ring. */
const ringShown = (page: Page) => page.evaluate(() => {
  const el = document.activeElement as HTMLElement | null;
  if (!el || el === document.body) return false;
  const s = getComputedStyle(el);
  return el.matches(':focus-visible') && s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
});

/** Presses Tab until `want` matches what has the focus (at most `max` times). */
async function tabTo(page: Page, want: RegExp, max = 25): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (want.test(await focused(page))) return;
  }
  throw new Error(`Tab never reached ${want}; focus is on ${await focused(page)}`);
}

test('keyboard only: channel list, send, new line, edit and cancel', async ({ browser }) => {
  const ann = await signupApi(server.url, 'ann');
  const bob = await signupApi(server.url, 'bob');
  await call(server.url, 'POST', '/api/v1/channels', bob.token, { name: 'lobby', member_ids: [ann.id] });
  const direct = (await call(server.url, 'POST', '/api/v1/channels/direct', bob.token, { user_id: ann.id })).id as string;
  await sendRest(server.url, bob, direct, 'hi ann');

  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(server.url + '/');
  // Sign in: Tab into the form, type, Enter submits.
  await tabTo(page, /^input#\./);
  expect(await ringShown(page)).toBe(true);
  await page.keyboard.type('ann');
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('connection')).toHaveText('Connected');

  // Tab reaches the channel list (most recent first); each link shows its focus ring.
  await tabTo(page, /^a#\.channel\b.*: bob\b/);
  expect(await ringShown(page)).toBe(true);
  await page.keyboard.press('Tab');
  expect(await focused(page)).toMatch(/^a#\.channel\b.*: lobby$/);
  expect(await ringShown(page)).toBe(true);
  await page.keyboard.press('Shift+Tab');
  expect(await focused(page)).toMatch(/^a#\.channel\b.*: bob\b/);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'bob' })).toBeVisible();
  await expect(messages(page, 'hi ann')).toHaveCount(1);
  // Opening a channel puts the keyboard in its message box.
  await expect(page.locator('#composer')).toBeFocused();
  expect(await ringShown(page)).toBe(true);

  // Enter sends; Shift+Enter is a new line inside the message.
  await page.keyboard.type('first line');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('second line');
  await expect(page.locator('#composer')).toHaveValue('first line\nsecond line');
  await page.keyboard.press('Enter');
  await expect(messages(page, 'second line')).toHaveCount(1);
  // By id from here on: while it is edited, the message shows no text. A
  // pending message has no id yet, so wait for the ack first.
  await expect(page.locator('.msg.pending')).toHaveCount(0);
  const sent = page.locator(`#m-${await messages(page, 'second line').getAttribute('data-id')}`);
  await expect(page.locator('#composer')).toHaveValue('');
  expect(await sent.locator('.text').evaluate((el) => (el as HTMLElement).innerText)).toBe('first line\nsecond line');
  const lineHeight = await sent.locator('.text').evaluate((el) => parseFloat(getComputedStyle(el).lineHeight));
  expect((await sent.locator('.text').boundingBox())!.height).toBeGreaterThanOrEqual(2 * lineHeight - 1);

  // ArrowUp in the empty box edits the last own message; Escape cancels it
  // and gives the focus back to the message box.
  await page.keyboard.press('ArrowUp');
  const box = sent.getByRole('textbox', { name: 'Edit message' });
  await expect(box).toBeFocused();
  await expect(box).toHaveValue('first line\nsecond line');
  await page.keyboard.type(' (changed my mind)');
  await page.keyboard.press('Escape');
  await expect(box).toHaveCount(0);
  await expect(page.locator('#composer')).toBeFocused();
  await expect(sent.locator('.text')).toHaveText('first line\nsecond line');
  await expect(sent.locator('.edited')).toHaveCount(0);

  // ArrowUp again, and this time Enter saves.
  await page.keyboard.press('ArrowUp');
  await expect(box).toBeFocused();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type('one line now');
  await page.keyboard.press('Enter');
  await expect(sent.locator('.text')).toHaveText('one line now');
  await expect(sent.locator('.edited')).toHaveText(/\(edited\)/);
  await expect(page.locator('#composer')).toBeFocused();
  const stored = (await call(server.url, 'GET', `/api/v1/channels/${direct}/messages?limit=10`, bob.token)).messages;
  expect(stored.map((m: { text: string }) => m.text)).toEqual(['hi ann', 'one line now']);

  // ArrowUp in a box with text moves the caret, and edits nothing.
  await page.keyboard.type('draft');
  await page.keyboard.press('ArrowUp');
  await expect(page.locator('#composer')).toBeFocused();
  await expect(page.getByRole('textbox', { name: 'Edit message' })).toHaveCount(0);
  await ctx.close();
});

test('what is typed in a dialog stays through a reconnect', async ({ browser }) => {
  // Two pages, as in a chat between two people: the one typing was opened last.
  const other = await (await browser.newContext()).newPage();
  await enter(other, server.url, 'quill');
  const page = await (await browser.newContext()).newPage();
  await enter(page, server.url, 'quentin');
  // Typed the moment the box is in the page. (The dialog used to open after
  // paint, so on a cold browser this key could reach a box still hidden.)
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.getByLabel('Chat with').pressSequentially('q');
  await expect(page.getByLabel('Chat with')).toHaveValue('q');
  // The server goes away and comes back while the dialog is open: what was
  // typed before, during and after stays.
  await server.stop();
  await expect(page.getByTestId('connection')).toHaveText('Reconnecting…');
  await page.keyboard.type('u');
  server = await startServer(server.dataDir, server.port);
  await expect(page.getByTestId('connection')).toHaveText('Connected');
  await page.keyboard.type('i');
  await expect(page.getByLabel('Chat with')).toHaveValue('qui');
  await expect(page.getByRole('option', { name: '@quill' })).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'quill' })).toBeVisible();
});
