// Slash commands in the web client: `/weather paris` in a channel with a
// bot named weather runs its command instead of posting; the bot (a
// webhook receiver here, answering over REST) answers the caller alone, and
// the page shows that answer as visible only to them. Text starting with
// `/` that names no bot is an ordinary message.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import { call, channelLink, enter, messages, say, signupApi } from './helpers';
import { startServer, type Server } from './server';

let server: Server;
let hook: HttpServer;
let hookUrl = '';
let botToken = '';
const commands: any[] = [];

test.beforeAll(async () => {
  server = await startServer(undefined, 0, { CHAT_CORE__WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true' });
  // The bot's endpoint: every command is answered to its caller alone.
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const frame = JSON.parse(body);
      res.writeHead(204).end();
      if (frame.type !== 'command') return;
      commands.push(frame);
      const answer = { user_id: frame.caller_id, text: `${frame.args}: 14 °C`, command_id: frame.command_id };
      void call(server.url, 'POST', `/api/v1/channels/${frame.channel_id}/ephemeral`, botToken, answer);
    });
  });
  await new Promise<void>((ok) => hook.listen(0, '127.0.0.1', ok));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/events`;
});
test.afterAll(async () => {
  await server.dispose();
  hook.close();
});

test('a slash command reaches its bot and the answer shows for the caller alone', async ({ page }) => {
  const ann = await signupApi(server.url, 'ann');
  const bob = await signupApi(server.url, 'bob');
  const bot = await call(server.url, 'POST', '/api/v1/bots', ann.token, { username: 'weather' });
  botToken = bot.token;
  await call(server.url, 'PUT', `/api/v1/bots/${bot.user.id}/webhook`, ann.token, { url: hookUrl });
  await call(server.url, 'POST', '/api/v1/channels', ann.token, { name: 'forecast', member_ids: [bob.id, bot.user.id] });

  await enter(page, server.url, bob.username, 'login');
  await channelLink(page, 'forecast').click();
  await say(page, '/Weather paris');
  const answer = page.locator('.msg.ephemeral');
  await expect(answer).toContainText('paris: 14 °C');
  await expect(answer).toContainText('Only visible to you');
  await expect(answer).toContainText('weather');
  expect(commands).toHaveLength(1);
  expect(commands[0].caller_id).toBe(bob.id);
  await expect(messages(page, '/Weather paris')).toHaveCount(0);
  const history = await call(server.url, 'GET', `/api/v1/channels/${commands[0].channel_id}/messages`, ann.token);
  expect(history.messages).toHaveLength(0);

  await say(page, '/shrug not a bot');
  await expect(messages(page, '/shrug not a bot')).toHaveCount(1);
  await page.getByRole('button', { name: 'Dismiss message' }).click();
  await expect(answer).toHaveCount(0);
});
