// The signed-in user of this tab. The token lives in sessionStorage: each
// tab (and each device) is a session of its own, and closing the tab forgets it.
import { signal } from '@preact/signals';
import type { User } from '../protocol';

/** A tab's sign-in. */
export interface Session {
  token: string;
  user: User;
}

const KEY = 'chat.session';

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Session;
    return typeof parsed?.token === 'string' && parsed.user ? parsed : null;
  } catch {
    return null;
  }
}

/** Null while signed out. */
export const session = signal<Session | null>(load());

/** Why the user landed on the login page, if not by choice. */
export const signedOutReason = signal<string | null>(null);

/** Keeps a new sign-in for this tab. */
export function signIn(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
  signedOutReason.value = null;
  session.value = s;
}

/** Forgets this tab's sign-in; `reason` is shown on the login page. */
export function signOut(reason: string | null = null): void {
  sessionStorage.removeItem(KEY);
  signedOutReason.value = reason;
  session.value = null;
}
