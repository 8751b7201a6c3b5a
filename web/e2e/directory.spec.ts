// The user pickers search the server's directory by the first letters of a
// username (GET /api/v1/users?prefix=) as one types: people never seen
// before are found, the caller is left out, only the latest query's answer
// shows, and the keyboard moves through the results.
import { expect, test } from '@playwright/test';
import { enter, signupApi } from './helpers';
import { startServer, type Server } from './server';

let server: Server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { await server.dispose(); });

test('the pickers find users by prefix, latest query first, by keyboard', async ({ browser }) => {
  for (const name of ['alice', 'alan', 'albert', 'annika', 'bob']) await signupApi(server.url, name);
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await enter(page, server.url, 'ann');

  // The answer to "a" comes late, after the one to "al": it must not show.
  const searches: string[] = [];
  page.on('request', (r) => { if (r.url().includes('/api/v1/users?')) searches.push(new URL(r.url()).searchParams.get('prefix')!); });
  await page.route(/\/api\/v1\/users\?prefix=a&/, async (route) => {
    await new Promise((r) => setTimeout(r, 1500));
    await route.continue();
  });

  await page.getByRole('button', { name: 'New chat' }).click();
  const dialog = page.getByRole('dialog', { name: 'New chat' });
  const box = dialog.getByRole('combobox', { name: 'Chat with' });
  await box.pressSequentially('a');
  await expect.poll(() => searches).toEqual(['a']);
  await box.pressSequentially('l');
  const options = dialog.getByRole('option');
  // Ascending by username; none of them was ever seen by this tab.
  await expect(options).toHaveText(['@alan', '@albert', '@alice']);
  await page.waitForTimeout(2000);
  await expect(options).toHaveText(['@alan', '@albert', '@alice']);
  expect(searches).toEqual(['a', 'al']);

  // Ignoring case; narrowing and widening again.
  await box.fill('ALI');
  await expect(options).toHaveText(['@alice']);
  await box.press('Backspace');
  await expect(options).toHaveText(['@alan', '@albert', '@alice']);
  // The caller is not offered; a prefix nobody has says so.
  await box.fill('an');
  await expect(options).toHaveText(['@annika']);
  await box.fill('zz');
  await expect(dialog.getByRole('status')).toHaveText('No user whose name starts with “zz”.');

  // The keyboard: ArrowDown and ArrowUp move (wrapping), Enter picks.
  await box.fill('al');
  await expect(options).toHaveCount(3);
  await expect(options.nth(0)).toHaveAttribute('aria-selected', 'true');
  await box.press('ArrowDown');
  await box.press('ArrowDown');
  await expect(options.nth(2)).toHaveAttribute('aria-selected', 'true');
  await expect(box).toHaveAttribute('aria-activedescendant', (await options.nth(2).getAttribute('id'))!);
  await box.press('ArrowDown');
  await expect(options.nth(0)).toHaveAttribute('aria-selected', 'true');
  await box.press('ArrowUp');
  await box.press('ArrowUp');
  await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');
  await box.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'albert' })).toBeVisible();

  // The group picker searches the same way; picked members leave the results.
  await page.getByRole('button', { name: 'New group' }).click();
  const group = page.getByRole('dialog', { name: 'New group' });
  await group.getByLabel('Group name').fill('al team');
  const members = group.getByRole('combobox', { name: 'Add members' });
  await members.pressSequentially('ali');
  await expect(group.getByRole('option')).toHaveText(['@alice']);
  await members.press('Enter');
  await members.pressSequentially('al');
  await expect(group.getByRole('option')).toHaveText(['@alan', '@albert']);
  await group.getByRole('option', { name: '@alan' }).click();
  await expect(group.getByRole('list', { name: 'Members to add' }).getByRole('listitem')).toHaveText([/@alice/, /@alan/]);
  await group.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'al team' })).toBeVisible();
  await page.getByRole('button', { name: /^Members/ }).click();
  await expect(page.getByRole('complementary', { name: 'Members' }).locator('.member')).toHaveCount(3);
  await ctx.close();
});
