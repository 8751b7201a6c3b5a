// Entry point: draws the app and keeps this tab's connection in step with
// its sign-in.
import { effect, untracked } from '@preact/signals';
import { render } from 'preact';
import { connect } from './state/chat';
import { session } from './state/session';
import { App } from './views/App';
import './styles.css';

let token: string | null = null;
effect(() => {
  const s = session.value;
  if (s && s.token !== token) untracked(() => connect(s));
  token = s?.token ?? null;
});

const root = document.getElementById('app');
if (root) render(<App />, root);
