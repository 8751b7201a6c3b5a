// Client-side routes. The server answers index.html for these paths, so a
// reload or a shared link lands in the same place.
import { signal } from '@preact/signals';
import { isId, type Id } from '../protocol';

/** Where the user is. */
export type Route =
  | { name: 'home' }
  | { name: 'channel'; channelId: Id; messageId?: Id }
  | { name: 'friends' }
  | { name: 'settings' };

/** The route of a path. */
export function parse(path: string): Route {
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'c' && isId(parts[1])) {
    if (parts[2] === 'm' && isId(parts[3])) return { name: 'channel', channelId: parts[1], messageId: parts[3] };
    return { name: 'channel', channelId: parts[1] };
  }
  if (parts[0] === 'friends') return { name: 'friends' };
  if (parts[0] === 'settings') return { name: 'settings' };
  return { name: 'home' };
}

/** The path of a route. */
export function href(route: Route): string {
  switch (route.name) {
    case 'channel':
      return route.messageId ? `/c/${route.channelId}/m/${route.messageId}` : `/c/${route.channelId}`;
    case 'friends':
      return '/friends';
    case 'settings':
      return '/settings';
    default:
      return '/';
  }
}

/** The current route. */
export const route = signal<Route>(parse(location.pathname));

/** Goes to `to`, adding a history entry. */
export function navigate(to: Route): void {
  const path = href(to);
  if (path !== location.pathname) history.pushState(null, '', path);
  route.value = to;
}

addEventListener('popstate', () => {
  route.value = parse(location.pathname);
});
