// Sign in or sign up.
import { useState } from 'preact/hooks';
import { Api, ApiError } from '../protocol';
import { begin } from '../state/chat';
import { signedOutReason } from '../state/session';

/** The page of a signed-out tab. */
export function Login() {
  const [mode, setMode] = useState<'login' | 'signup'>('login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const api = new Api(null);
    try {
      const auth = mode === 'login' ? await api.login(username, password) : await api.signup(username, password);
      begin({ token: auth.token, user: auth.user });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Something went wrong.');
    } finally {
      setBusy(false);
    }
  };

  const title = mode === 'login' ? 'Sign in' : 'Create an account';
  return (
    <main class="login">
      <form class="card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">{title}</h1>
        {signedOutReason.value && <p class="info" role="status">{signedOutReason.value}</p>}
        <label>
          Username
          <input name="username" autoComplete="username" required value={username}
            onInput={(e) => setUsername(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" required
            autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
            value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        {mode === 'signup' && <p class="hint">3 to 32 letters, digits, _ . or -; a password of at least 8 characters.</p>}
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>{mode === 'login' ? 'Sign in' : 'Sign up'}</button>
        <p>
          {mode === 'login' ? 'New here? ' : 'Have an account? '}
          <button type="button" class="link" onClick={() => { setMode(mode === 'login' ? 'signup' : 'login'); setError(null); }}>
            {mode === 'login' ? 'Create an account' : 'Sign in'}
          </button>
        </p>
      </form>
    </main>
  );
}
