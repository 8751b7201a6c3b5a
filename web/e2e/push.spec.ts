// "Enable notifications": the app registers its service worker and, where
// the browser can reach its push service, subscribes and registers the
// subscription with the server. Headless Chromium's push service is
// Google's, out of reach here, so the notifications themselves are checked
// by handing the service worker the payloads the server really pushed to a
// local push service (e2e/pushservice.ts): one notification per channel
// burst, with its count, removed by the `read` push.
import { expect, test } from '@playwright/test';
import { call, enter, sendRest, signupApi } from './helpers';
import { startPushService, type PushService } from './pushservice';
import { startServer, type Server } from './server';

let server: Server;
let push: PushService;
test.beforeAll(async () => {
  push = await startPushService();
  server = await startServer(undefined, 0, {
    CHAT_CORE__PUSH__WEB_PUSH_INSECURE: 'true',
    CHAT_CORE__PUSH__WEB_PUSH_HOSTS: '["127.0.0.1", "fcm.googleapis.com"]',
    CHAT_CORE__PUSH__COALESCE_MS: '300',
    CHAT_CORE__PUSH__MIN_INTERVAL_MS: '0',
  });
});
test.afterAll(async () => {
  await server.dispose();
  await push.close();
});

test('enable notifications: the service worker shows what the server pushes and clears it on read', async ({ browser }, info) => {
  const ctx = await browser.newContext();
  await ctx.grantPermissions(['notifications'], { origin: server.url });
  const page = await ctx.newPage();
  await enter(page, server.url, 'bob');
  const bob = { token: (await page.evaluate(() => JSON.parse(sessionStorage.getItem('chat.session')!).token)) as string };
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Enable notifications when the app is closed' }).click();
  const on = page.getByText('Push notifications are on for this browser.');
  const problem = page.getByTestId('push-problem');
  await expect(on.or(problem)).toBeVisible();
  const targets = await call(server.url, 'GET', '/api/v1/users/me/push-targets', bob.token);
  if (await on.isVisible()) {
    expect(targets.targets).toHaveLength(1);
    expect(targets.targets[0].kind).toBe('web_push');
  } else {
    // The browser's own words, for the record; the worker is registered.
    info.annotations.push({ type: 'push subscription refused by the browser', description: await problem.innerText() });
    expect(targets.targets).toHaveLength(0);
  }
  const worker = ctx.serviceWorkers()[0] ?? (await ctx.waitForEvent('serviceworker'));
  expect(new URL(worker.url()).pathname).toBe('/sw.js');

  // Bob's other device: a subscription at the local push service. He
  // closes the app, so nothing of his is live; ann writes a burst.
  const sub = push.subscribe();
  await call(server.url, 'POST', '/api/v1/users/me/push-targets', bob.token, { kind: 'web_push', ...sub });
  const bobId = (await call(server.url, 'GET', '/api/v1/users/me', bob.token)).id as string;
  await page.goto('about:blank');
  // His session is gone once the edge no longer counts it (the edge
  // withdraws his interest from the core as it unregisters the session).
  await expect.poll(async () => {
    const metrics = await (await fetch(server.url + '/metrics')).text();
    return /^chat_ws_sessions_registered 0$/m.test(metrics);
  }).toBe(true);
  const ann = await signupApi(server.url, 'ann');
  const team = (await call(server.url, 'POST', '/api/v1/channels', ann.token, { name: 'team', member_ids: [bobId] })).id as string;
  let last = '';
  for (const text of ['standup in 5', 'room 2', 'bring the <b>notes</b>']) last = (await sendRest(server.url, ann, team, text)).id;
  const note = await push.next(sub.endpoint);
  expect(note).toEqual({
    type: 'message', channel_id: team, channel_name: 'team', message_id: last,
    sender: 'ann', count: 3, mentions: 0, text: 'bring the <b>notes</b>',
  });

  // The worker shows it as the browser would on a real push.
  const shown = await worker.evaluate(async (payload) => {
    const sw = self as any;
    sw.dispatchEvent(new sw.PushEvent('push', { data: JSON.stringify(payload) }));
    for (let i = 0; i < 100; i++) {
      const list = await sw.registration.getNotifications();
      if (list.length) return list.map((n: Notification) => ({ title: n.title, body: n.body, tag: n.tag }));
      await new Promise((r) => setTimeout(r, 50));
    }
    return [];
  }, note);
  expect(shown).toEqual([{ title: 'team (3 new)', body: 'ann: bring the <b>notes</b>', tag: `c${team}` }]);

  // Reading the channel anywhere pushes a clear, which removes it.
  await call(server.url, 'PUT', `/api/v1/channels/${team}/read`, bob.token, { message_id: last });
  const clear = await push.next(sub.endpoint);
  expect(clear).toEqual({ type: 'read', channel_id: team });
  const left = await worker.evaluate(async (payload) => {
    const sw = self as any;
    sw.dispatchEvent(new sw.PushEvent('push', { data: JSON.stringify(payload) }));
    for (let i = 0; i < 100; i++) {
      const list = await sw.registration.getNotifications();
      if (!list.length) return 0;
      await new Promise((r) => setTimeout(r, 50));
    }
    return (await sw.registration.getNotifications()).length;
  }, clear);
  expect(left).toBe(0);
  await ctx.close();
});
