// Starts the real server binary (target/debug/chat, or E2E_SERVER_BIN) on a
// fresh data directory, with cheap password hashing, and stops it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** A running server. */
export interface Server {
  url: string;
  port: number;
  dataDir: string;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL, and wait for the exit: nothing is flushed or answered. */
  kill(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing is read or answered. */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** Start again on the same port and data directory. */
  restart(): Promise<Server>;
  /** Stop and remove the data directory. */
  dispose(): Promise<void>;
}

// Not CHAT_BIN: variables starting with CHAT_ are the server's config keys.
const BIN = process.env.E2E_SERVER_BIN ?? path.resolve(process.cwd(), '../target/debug/chat');

/**
 * Config that turns WebTransport on, for the specs about it. Every other
 * spec gets a server with it off, so the app falls back to WebSocket at once
 * (the certificate hash is a 404): Chromium's `--disable-quic` does not stop
 * WebTransport, and those specs expect TCP's ways (a paused server keeps its
 * connections, where a paused QUIC session times out).
 */
export const WEBTRANSPORT_ON: Record<string, string> = { CHAT_EDGE__WEBTRANSPORT__ENABLED: 'true' };

/** Starts a server; `port` 0 takes a free one; `env` adds config variables (`CHAT_…`). */
export async function startServer(
  dataDir = mkdtempSync(path.join(tmpdir(), 'chat-e2e-')), port = 0, env: Record<string, string> = {},
): Promise<Server> {
  const child = spawn(BIN, ['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--log-format', 'json'], {
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHAT_'))),
      RUST_LOG: 'info',
      CHAT_CORE__PASSWORD_MEMORY_KIB: '8',
      CHAT_CORE__PASSWORD_ITERATIONS: '1',
      CHAT_EDGE__WEBTRANSPORT__ENABLED: 'false',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const addr = await listening(child);
  const bound = Number(addr.split(':').pop());
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    // A paused process acts on SIGTERM only once it runs again.
    child.kill('SIGCONT');
    await exited;
  };
  const stop = () => end('SIGTERM');
  return {
    url: `http://${addr}`,
    port: bound,
    dataDir,
    stop,
    kill: () => end('SIGKILL'),
    pause: () => { child.kill('SIGSTOP'); },
    resume: () => { child.kill('SIGCONT'); },
    restart: async () => {
      await stop();
      return startServer(dataDir, bound, env);
    },
    dispose: async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const timer = setTimeout(() => reject(new Error(`no "listening" line in time:\n${lines.join('\n')}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${lines.join('\n')}`)));
    const rl = createInterface({ input: child.stderr! });
    rl.on('line', (line) => {
      lines.push(line);
      if (process.env.E2E_SERVER_LOG) process.stderr.write(`[server] ${line}\n`);
      try {
        const fields = JSON.parse(line).fields;
        if (fields?.message === 'listening' && typeof fields.addr === 'string') {
          clearTimeout(timer);
          resolve(fields.addr);
        }
      } catch {
        // Not JSON: keep it for the error message.
      }
    });
  });
}
