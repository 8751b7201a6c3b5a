// The page: the login form while signed out, else sidebar and main column.
import { useState } from 'preact/hooks';
import { route } from '../state/route';
import { session } from '../state/session';
import { started } from '../state/store';
import { Banner } from './Banner';
import { ChannelView } from './ChannelView';
import { Friends } from './Friends';
import { Login } from './Login';
import { NewDirect, NewGroup } from './NewChat';
import { SettingsView } from './SettingsView';
import { Sidebar } from './Sidebar';

function Main() {
  const r = route.value;
  if (!started.value) return <main class="main empty" id="main"><p>Loading…</p></main>;
  switch (r.name) {
    case 'channel':
      return <ChannelView key={r.channelId} channelId={r.channelId} messageId={r.messageId} />;
    case 'friends':
      return <Friends />;
    case 'settings':
      return <SettingsView />;
    default:
      return (
        <main class="main empty" id="main" aria-label="Welcome">
          <h1>Welcome</h1>
          <p>Pick a channel, or start a new chat.</p>
        </main>
      );
  }
}

/** The whole client. */
export function App() {
  const [dialog, setDialog] = useState<'direct' | 'group' | null>(null);
  if (!session.value) return <Login />;
  const r = route.value;
  return (
    <div class={r.name === 'home' ? 'shell at-home' : 'shell'}>
      {r.name === 'channel' && <a class="skip" href="#composer">Skip to message box</a>}
      <Banner />
      <Sidebar onNew={setDialog} />
      <Main />
      {dialog === 'direct' && <NewDirect onClose={() => setDialog(null)} />}
      {dialog === 'group' && <NewGroup onClose={() => setDialog(null)} />}
    </div>
  );
}
