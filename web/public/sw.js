// The service worker of push notifications. The server pushes only while
// none of the user's devices has a session (docs/protocol.md, "Push
// notifications"): a `message` push shows one notification per channel
// (tagged by channel, so a newer one replaces it), a `read` push removes it.
/* eslint-env serviceworker */

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    return;
  }
  if (typeof data.channel_id !== 'string') return;
  const tag = 'c' + data.channel_id;
  if (data.type === 'read') {
    event.waitUntil(
      self.registration.getNotifications({ tag }).then((shown) => shown.forEach((n) => n.close())),
    );
    return;
  }
  if (data.type !== 'message') return;
  const title = data.count > 1 ? `${data.channel_name} (${data.count} new)` : data.channel_name;
  event.waitUntil(
    self.registration.showNotification(title, {
      body: `${data.sender}: ${data.text}`,
      tag,
      renotify: true,
      icon: '/favicon.svg',
      data: { channel_id: data.channel_id, message_id: data.message_id },
    }),
  );
});

// A click opens the channel: in an open tab of the app if there is one.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const path = `/c/${event.notification.data.channel_id}`;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((tabs) => {
      const tab = tabs.find((t) => new URL(t.url).origin === self.location.origin);
      if (tab) return tab.navigate(path).then((t) => (t ?? tab).focus());
      return self.clients.openWindow(path);
    }),
  );
});
