// A local Web Push service for the browser tests: it makes subscriptions
// (a P-256 key pair and an auth secret, as a browser does), takes the
// server's pushes at its endpoints and decrypts them (RFC 8291, aes128gcm)
// with Node's crypto, so a test can hand the very payload the server sent
// to the app's service worker. Chromium's own subscriptions go to Google's
// push service, which this machine cannot reach.
import { createDecipheriv, createECDH, hkdfSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/** A subscription, as `PushSubscription.toJSON()` writes it. */
export interface SubscriptionJson {
  endpoint: string;
  expirationTime: null;
  keys: { p256dh: string; auth: string };
}

interface Sub {
  ecdh: ReturnType<typeof createECDH>;
  auth: Buffer;
}

/** The running service. */
export interface PushService {
  /** Its origin, `http://127.0.0.1:PORT`. */
  origin: string;
  /** A new subscription. */
  subscribe(): SubscriptionJson;
  /** Waits for the next push to a subscription and returns its payload. */
  next(endpoint: string, timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}

/** Decrypts an aes128gcm body (one record) for subscription `sub`. */
function decrypt(body: Buffer, sub: Sub): Buffer {
  const salt = body.subarray(0, 16);
  const idLength = body[20];
  const asPublic = body.subarray(21, 21 + idLength);
  const sealed = body.subarray(21 + idLength);
  const uaPublic = sub.ecdh.getPublicKey();
  const shared = sub.ecdh.computeSecret(asPublic);
  const info = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, sub.auth, info, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  const plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
  // The last record ends with the delimiter 2, then zero padding.
  const end = plain.lastIndexOf(2);
  return plain.subarray(0, end);
}

/** Starts the service on a loopback port. */
export async function startPushService(): Promise<PushService> {
  const subs = new Map<string, Sub>();
  const payloads = new Map<string, any[]>();
  const waiting = new Map<string, (p: any) => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const sub = subs.get(req.url ?? '');
      if (!sub || req.headers['content-encoding'] !== 'aes128gcm' || !String(req.headers.authorization).startsWith('vapid t=')) {
        res.writeHead(400).end();
        return;
      }
      const payload = JSON.parse(decrypt(Buffer.concat(chunks), sub).toString('utf8'));
      res.writeHead(201).end();
      const wake = waiting.get(req.url ?? '');
      if (wake) {
        waiting.delete(req.url ?? '');
        wake(payload);
      } else {
        payloads.set(req.url ?? '', [...(payloads.get(req.url ?? '') ?? []), payload]);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  let n = 0;
  return {
    origin,
    subscribe() {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const path = `/push/${n++}`;
      subs.set(path, { ecdh, auth });
      return {
        endpoint: origin + path,
        expirationTime: null,
        keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
      };
    },
    next(endpoint, timeoutMs = 15_000) {
      const path = new URL(endpoint).pathname;
      const queued = payloads.get(path);
      if (queued?.length) return Promise.resolve(queued.shift());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no push to ${endpoint} in ${timeoutMs} ms`)), timeoutMs);
        waiting.set(path, (p) => { clearTimeout(timer); resolve(p); });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
