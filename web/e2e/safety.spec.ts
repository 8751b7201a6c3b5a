// Text is text: markup in messages shows literally and runs nothing; links
// open safely; a 100,000-character message renders; the main views pass
// axe-core without serious violations, light and dark; and screenshots of
// them go to target/web-screenshots/.
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { seriousViolations } from './axe';
import { call, channelLink, enter, messages, say, sendRest, signupApi } from './helpers';
import { startServer, type Server } from './server';

let server: Server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { await server.dispose(); });

const SHOTS = path.resolve(process.cwd(), '../target/web-screenshots');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 780 };

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

test('markup is shown as text and runs nothing; long messages render', async ({ browser }) => {
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
  const bob = await signupApi(server.url, 'bob');
  await enter(page, server.url, 'ann');
  const annId = (await page.evaluate(() => JSON.parse(sessionStorage.getItem('chat.session')!).user.id)) as string;
  const channel = (await call(server.url, 'POST', '/api/v1/channels/direct', bob.token, { user_id: annId })).id as string;
  await sendRest(server.url, bob, channel, '<script>alert(1)</script>');
  await sendRest(server.url, bob, channel, '<img src=x onerror=alert(1)>');
  await sendRest(server.url, bob, channel, 'docs at https://example.com/guide. not javascript:alert(1)');
  const long = 'All work and no play. '.repeat(4545).slice(0, 99_990) + ' THE END';
  await sendRest(server.url, bob, channel, long);

  await channelLink(page, 'bob').click();
  await expect(messages(page, '<script>alert(1)</script>')).toHaveCount(1);
  await expect(messages(page, '<img src=x onerror=alert(1)>')).toHaveCount(1);
  await say(page, '<img src=x onerror=alert(2)><b>bold?</b>');
  await expect(messages(page, '<img src=x onerror=alert(2)><b>bold?</b>')).toHaveCount(1);
  await expect(page.locator('.message-list img, .message-list script, .message-list b')).toHaveCount(0);

  const link = page.getByRole('link', { name: 'https://example.com/guide' });
  await expect(link).toHaveAttribute('href', 'https://example.com/guide');
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer nofollow');
  await expect(link).toHaveAttribute('target', '_blank');
  await expect(page.locator('.message-list a[href^="javascript:"]')).toHaveCount(0);

  // 100,000 characters: collapsed at first, whole on request, page stays responsive.
  const big = page.locator('.message-list .msg').filter({ hasText: 'All work and no play.' });
  await expect(big.getByRole('button', { name: /Show more/ })).toBeVisible();
  const started = Date.now();
  await big.getByRole('button', { name: /Show more/ }).click();
  await expect(big.locator('.text')).toContainText('THE END');
  await page.locator('#composer').fill('still responsive');
  await expect(page.locator('#composer')).toHaveValue('still responsive');
  expect(Date.now() - started).toBeLessThan(5000);
  expect(dialogs).toEqual([]);
  await ctx.close();
});

test('the main views pass axe-core, light and dark; screenshots', async ({ browser }) => {
  const bob = await signupApi(server.url, 'bea');
  const cid = await signupApi(server.url, 'cyd');
  await call(server.url, 'PATCH', '/api/v1/users/me', bob.token, { display_name: 'Bea Baker', status_text: 'on a train' });
  for (const scheme of ['light', 'dark'] as const) {
    for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
      const ctx = await browser.newContext({ viewport, colorScheme: scheme });
      const page = await ctx.newPage();
      const user = `dan-${scheme}-${size}`;
      await page.goto(server.url + '/');
      await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
      expect(await seriousViolations(page), `login ${scheme} ${size}`).toEqual([]);
      await shot(page, `login-${scheme}-${size}`);

      await enter(page, server.url, user);
      const me = (await page.evaluate(() => JSON.parse(sessionStorage.getItem('chat.session')!).user.id)) as string;
      const group = (await call(server.url, 'POST', '/api/v1/channels', bob.token, { name: 'design team', member_ids: [me, cid.id] })).id;
      const direct = (await call(server.url, 'POST', '/api/v1/channels/direct', bob.token, { user_id: me })).id;
      await sendRest(server.url, bob, group, 'Morning! The new mockups are up: https://example.com/mockups');
      await sendRest(server.url, cid, group, 'Looks great. Can we ship the dark theme this week?');
      await sendRest(server.url, bob, direct, 'lunch at 12?');
      await channelLink(page, 'design team').click();
      await expect(messages(page, 'dark theme')).toHaveCount(1);
      await say(page, 'Yes — reviewing it now.');
      await expect(page.locator('.msg.pending')).toHaveCount(0);
      if (size === 'desktop') await page.getByRole('button', { name: /^Members/ }).click();
      expect(await seriousViolations(page), `channel ${scheme} ${size}`).toEqual([]);
      await shot(page, `channel-${scheme}-${size}`);

      if (size === 'phone') {
        await page.getByRole('button', { name: 'Back to channels' }).click();
        await expect(channelLink(page, 'Bea Baker')).toBeVisible();
        await shot(page, `channels-${scheme}-${size}`);
      }
      await page.goto(server.url + '/settings');
      await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
      expect(await seriousViolations(page), `settings ${scheme} ${size}`).toEqual([]);
      await shot(page, `settings-${scheme}-${size}`);
      await page.goto(server.url + '/friends');
      await expect(page.getByRole('heading', { name: 'Friends' })).toBeVisible();
      expect(await seriousViolations(page), `friends ${scheme} ${size}`).toEqual([]);
      await ctx.close();
    }
  }
});
