// Profile (display name, status, avatar) and settings (notifications,
// invisible, muted channels).
import { BackLink } from './BackLink';
import { useState } from 'preact/hooks';
import type { Settings } from '../protocol';
import { enablePush, logout, logoutEverywhere, saveProfile, saveSettings, setMuted } from '../state/chat';
import { channelTitle, channels, me, settings, transport } from '../state/store';

function Profile() {
  const u = me.value;
  const [display, setDisplay] = useState(u?.display_name ?? '');
  const [status, setStatus] = useState(u?.status_text ?? '');
  const [avatar, setAvatar] = useState(u?.avatar_url ?? '');
  const [saved, setSaved] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setSaved(await saveProfile({ display_name: display, status_text: status, avatar_url: avatar.trim() }));
  };
  return (
    <form onSubmit={submit} aria-labelledby="profile-title" class="card">
      <h2 id="profile-title">Profile</h2>
      <p class="hint">Signed in as @{u?.username}</p>
      <label>Display name<input maxLength={64} value={display} onInput={(e) => { setDisplay(e.currentTarget.value); setSaved(false); }} /></label>
      <label>Status<input maxLength={140} value={status} onInput={(e) => { setStatus(e.currentTarget.value); setSaved(false); }} /></label>
      <label>Avatar URL<input type="url" value={avatar} placeholder="https://…" onInput={(e) => { setAvatar(e.currentTarget.value); setSaved(false); }} /></label>
      <div class="row">
        <button type="submit" class="primary">Save profile</button>
        {saved && <span role="status">Saved.</span>}
      </div>
    </form>
  );
}

/** "Enable notifications": push to this browser while no tab is open. */
function PushToggle() {
  const [state, setState] = useState<'off' | 'busy' | 'on'>('off');
  const [problem, setProblem] = useState<string | null>(null);
  const enable = async () => {
    setState('busy');
    const why = await enablePush();
    setProblem(why);
    setState(why === null ? 'on' : 'off');
  };
  return (
    <div class="row">
      {state === 'on' ? <span role="status">Push notifications are on for this browser.</span> : (
        <button type="button" disabled={state === 'busy'} onClick={() => void enable()}>
          Enable notifications when the app is closed
        </button>
      )}
      {problem && <p class="hint" role="alert" data-testid="push-problem">{problem}</p>}
    </div>
  );
}

function Notifications() {
  const s = settings.value;
  const [permission, setPermission] = useState(typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);
  const levels: [Settings['notifications'], string][] = [
    ['all', 'All new messages'], ['mentions', 'Only when I am mentioned'], ['none', 'Nothing'],
  ];
  const muted = s.muted_channel_ids.map((id) => channels.value.get(id)).filter((e) => !!e);
  return (
    <section class="card" aria-labelledby="notif-title">
      <h2 id="notif-title">Notifications</h2>
      <fieldset>
        <legend>Badges and notifications for</legend>
        {levels.map(([value, label]) => (
          <label class="inline" key={value}>
            <input type="radio" name="notifications" value={value} checked={s.notifications === value}
              onChange={() => void saveSettings({ notifications: value })} />
            {label}
          </label>
        ))}
      </fieldset>
      {permission === 'default' && (
        <button type="button" onClick={async () => setPermission(await Notification.requestPermission())}>
          Show desktop notifications
        </button>
      )}
      {permission === 'denied' && <p class="hint">Desktop notifications are blocked in this browser.</p>}
      <PushToggle />
      <label class="inline">
        <input type="checkbox" checked={s.invisible} onChange={(e) => void saveSettings({ invisible: e.currentTarget.checked })} />
        Appear offline to everyone (invisible)
      </label>
      <h3>Muted channels</h3>
      {muted.length === 0 ? <p class="hint">None. Mute a channel from its header.</p> : (
        <ul>
          {muted.map((e) => (
            <li key={e.channel.id} class="row">
              {channelTitle(e.channel)}
              <button type="button" onClick={() => void setMuted(e.channel.id, false)}>Unmute</button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

const TRANSPORTS = {
  webtransport: 'Connected over WebTransport (HTTP/3)',
  websocket: 'Connected over WebSocket',
} as const;

/** Which transport carries the session (transport.ts picks it). */
function Transport() {
  const kind = transport.value;
  return <p class="hint" data-testid="transport">{kind ? TRANSPORTS[kind] : 'Not connected'}</p>;
}

/** The settings page. */
export function SettingsView() {
  return (
    <main class="main page" id="main" aria-labelledby="settings-title">
      <BackLink />
      <h1 id="settings-title">Settings</h1>
      <Profile />
      <Notifications />
      <section class="card" aria-label="Session">
        <Transport />
        <div class="row">
          <button type="button" onClick={() => void logout()}>Log out of this tab</button>
          <button type="button" class="danger" onClick={() => void logoutEverywhere()}>Log out everywhere</button>
        </div>
      </section>
    </main>
  );
}
