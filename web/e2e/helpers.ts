// What the browser tests do again and again: sign up (through the page or
// the API), open channels, send, and find messages on the page.
import { expect, type Page } from '@playwright/test';

export const PASSWORD = 'correct horse battery';

/** A user made through the REST API. */
export interface Account {
  id: string;
  username: string;
  token: string;
}

/** One REST call; throws on an error status. */
export async function call<T = any>(base: string, method: string, path: string, token?: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const resp = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await resp.text();
  if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** Signs up through the API. */
export async function signupApi(base: string, username: string): Promise<Account> {
  const r = await call(base, 'POST', '/api/v1/auth/signup', undefined, { username, password: PASSWORD });
  return { id: r.user.id, username, token: r.token };
}

/** Sends a message over REST. */
export async function sendRest(base: string, who: Account, channel: string, text: string, cmid?: string): Promise<any> {
  const body: Record<string, string> = { text };
  if (cmid) body.client_msg_id = cmid;
  return (await call(base, 'POST', `/api/v1/channels/${channel}/messages`, who.token, body)).message;
}

/** Signs up (or in) through the page and waits for the channel list. */
export async function enter(page: Page, base: string, username: string, mode: 'signup' | 'login' = 'signup'): Promise<void> {
  await page.goto(base + '/');
  if (mode === 'signup') await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: mode === 'signup' ? 'Sign up' : 'Sign in' }).click();
  await expect(page.getByRole('navigation', { name: 'Channels' })).toBeVisible();
  await expect(page.getByTestId('connection')).toHaveText('Connected');
}

/** The sidebar link of a channel, by its title. */
export function channelLink(page: Page, title: string) {
  const escaped = title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: new RegExp(`^${escaped}(\\s|$)`) });
}

/** Messages on the page whose text contains `text`. */
export function messages(page: Page, text: string | RegExp) {
  return page.locator('.message-list .msg').filter({ has: page.locator('.text', { hasText: text }) });
}

/** Types into the composer and presses Enter. */
export async function say(page: Page, text: string): Promise<void> {
  const box = page.locator('#composer');
  await box.fill(text);
  await box.press('Enter');
}
