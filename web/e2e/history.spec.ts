// A channel with 1,000 messages: the latest page at once, older pages on
// scroll up with the view kept in place, and a jump to an old message.
import { expect, test, type Page } from '@playwright/test';
import { call, channelLink, enter, signupApi, type Account } from './helpers';
import { startServer, type Server } from './server';

let server: Server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { await server.dispose(); });

/** Sends `n` messages as `who` over several WebSockets at once (each has its own frame budget). */
async function seed(page: Page, who: Account, channel: string, n: number): Promise<void> {
  const url = server.url.replace(/^http/, 'ws') + '/ws';
  await page.evaluate(async ({ url, token, channel, n }) => {
    const conns = 8;
    const per = Math.ceil(n / conns);
    await Promise.all(Array.from({ length: conns }, (_, c) => new Promise<void>((resolve, reject) => {
      const mine = Math.max(0, Math.min(per, n - c * per));
      if (mine === 0) { resolve(); return; }
      const ws = new WebSocket(url);
      let acked = 0;
      ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token }));
      ws.onmessage = (ev) => {
        const f = JSON.parse(ev.data as string);
        if (f.type === 'ready') {
          for (let i = 0; i < mine; i++) {
            ws.send(JSON.stringify({ type: 'send', channel_id: channel, client_msg_id: `seed-${c}-${i}`, text: `seed ${c}-${i}` }));
          }
        } else if (f.type === 'ack' && ++acked === mine) {
          ws.close();
          resolve();
        } else if (f.type === 'error') {
          reject(new Error(ev.data as string));
        }
      };
    })));
  }, { url, token: who.token, channel, n });
}

test('older pages load on scroll up and keep the view in place', async ({ browser }) => {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await ctx.newPage();
  const bob = await signupApi(server.url, 'bob');
  await enter(page, server.url, 'ann');
  const annId = (await page.evaluate(() => JSON.parse(sessionStorage.getItem('chat.session')!).user.id)) as string;
  const channel = (await call(server.url, 'POST', '/api/v1/channels/direct', bob.token, { user_id: annId })).id as string;
  await seed(page, bob, channel, 1000);
  const oldest = (await call(server.url, 'GET', `/api/v1/channels/${channel}/messages?after=0&limit=20`, bob.token)).messages;
  expect(oldest).toHaveLength(20);

  // Every message arrived live and counts as unread.
  await expect(channelLink(page, 'bob').locator('.badge')).toHaveText('1000 unread');
  await channelLink(page, 'bob').click();
  const rows = page.locator('.message-list .msg');
  await expect(rows).toHaveCount(50);
  const scroller = page.locator('.messages');
  for (const expected of [100, 150, 200]) {
    const topId = await rows.first().getAttribute('data-id');
    const offset = async () => page.evaluate((id) => {
      const el = document.getElementById(`m-${id}`)!;
      const box = document.querySelector('.messages')!.getBoundingClientRect();
      return el.getBoundingClientRect().top - box.top;
    }, topId);
    await scroller.evaluate((el) => { el.scrollTop = 0; });
    const before = await offset();
    await expect(rows).toHaveCount(expected);
    // What was at the top is where it was, not pushed down by the new page.
    await expect.poll(offset).toBeGreaterThan(before - 60);
    expect(await offset()).toBeLessThan(before + 60);
    expect(await scroller.evaluate((el) => el.scrollTop)).toBeGreaterThan(500);
  }

  // A link to an old message opens the page around it, highlighted.
  const target = oldest[10];
  await page.goto(`${server.url}/c/${channel}/m/${target.id}`);
  const focused = page.locator(`#m-${target.id}`);
  await expect(focused).toBeVisible();
  await expect(focused).toHaveClass(/highlight/);
  await expect(focused).toBeInViewport();
  await page.getByRole('button', { name: 'Jump to latest' }).click();
  await expect(rows).toHaveCount(50);
  await expect(page.locator(`#m-${target.id}`)).toHaveCount(0);
  await ctx.close();
});
