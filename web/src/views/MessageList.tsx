// The scrolling list of a channel: older pages load on scroll up with the
// view kept where it was; it follows new messages while at the bottom, and
// marks them read while the tab is visible.
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import { compareIds, type Id, type Message } from '../protocol';
import { dividers, jumpToLatest, loadNewer, loadOlder, markRead, ws } from '../state/chat';
import { channels, ephemerals, me, nameOf, outboxVersion, receipts, timeline } from '../state/store';
import { EphemeralItem } from './EphemeralItem';
import { MessageItem } from './MessageItem';
import { PendingItem } from './PendingItem';

/** Pixels from an edge that count as being there. */
const EDGE = 150;

/** Who has read up to each message: message id → names, latest only per reader. */
function seenMap(channelId: Id, messages: Message[]): Map<Id, string[]> {
  const byMessage = new Map<Id, string[]>();
  const reads = receipts.value.get(channelId);
  if (!reads || messages.length === 0) return byMessage;
  for (const [user, lastRead] of reads) {
    let at: Message | undefined;
    for (let i = messages.length - 1; i >= 0; i--) {
      if (compareIds(messages[i].id, lastRead) <= 0) { at = messages[i]; break; }
    }
    if (!at) continue;
    byMessage.set(at.id, [...(byMessage.get(at.id) ?? []), nameOf(user)]);
  }
  return byMessage;
}

/** The messages of one channel. */
export function MessageList({ channelId }: { channelId: Id }) {
  const t = timeline(channelId).value;
  void outboxVersion.value;
  const pending = ws()?.outbox.inChannel(channelId) ?? [];
  const ref = useRef<HTMLDivElement>(null);
  const snap = useRef({ height: 0, top: 0, atBottom: true, first: '' });
  const divider = dividers.value.get(channelId);
  const mine = me.value?.id;

  const atBottom = (el: HTMLElement) => el.scrollHeight - el.scrollTop - el.clientHeight < EDGE;
  const readIfSeen = () => {
    const el = ref.current;
    if (el && atBottom(el) && document.visibilityState === 'visible') markRead(channelId);
  };

  const onScroll = () => {
    const el = ref.current;
    if (!el) return;
    snap.current = { ...snap.current, height: el.scrollHeight, top: el.scrollTop, atBottom: atBottom(el) };
    if (el.scrollTop < EDGE && t.hasMoreBefore && !t.loading) void loadOlder(channelId);
    if (t.hasMoreAfter && atBottom(el) && !t.loading) void loadNewer(channelId);
    readIfSeen();
  };

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const first = t.messages[0]?.id ?? '';
    const before = snap.current;
    if (t.focus) {
      document.getElementById(`m-${t.focus}`)?.scrollIntoView({ block: 'center' });
    } else if (before.first && first !== before.first && compareIds(first, before.first) < 0) {
      // Older messages went in above: keep what the user looked at in place.
      el.scrollTop = before.top + (el.scrollHeight - before.height);
    } else if (before.atBottom) {
      el.scrollTop = el.scrollHeight;
    }
    snap.current = { height: el.scrollHeight, top: el.scrollTop, atBottom: atBottom(el), first };
    readIfSeen();
  }, [t.messages, t.focus, pending.length, ephemerals.value.get(channelId)?.length]);

  useEffect(() => {
    const onVisible = () => readIfSeen();
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [channelId]);

  // A page that does not fill the view cannot be scrolled up: load more now.
  useEffect(() => {
    const el = ref.current;
    if (el && t.loaded && !t.loading && t.hasMoreBefore && el.scrollHeight <= el.clientHeight) void loadOlder(channelId);
  }, [t.loaded, t.loading, t.messages.length]);

  const seen = seenMap(channelId, t.messages);
  let dividerShown = false;
  const unread = channels.value.get(channelId)?.unread ?? 0;
  return (
    <div class="messages-wrap">
      <div class="messages" ref={ref} onScroll={onScroll} tabIndex={0} role="log" aria-label="Messages" aria-live="polite">
        {t.loading && t.hasMoreBefore && <p class="hint center">Loading…</p>}
        {t.loaded && !t.hasMoreBefore && <p class="hint center">This is the beginning of the conversation.</p>}
        <ol class="message-list">
          {t.messages.map((m) => {
            const showDivider = !dividerShown && divider !== undefined && m.sender_id !== mine
              && compareIds(m.id, divider) > 0;
            if (showDivider) dividerShown = true;
            return [
              showDivider && <li key={`d-${m.id}`} class="divider"><span>New messages</span></li>,
              <MessageItem key={m.id} m={m} highlight={t.focus === m.id} seenBy={seen.get(m.id) ?? []} />,
            ];
          })}
          {!t.hasMoreAfter && pending.map((p) => <PendingItem key={p.clientMsgId} p={p} />)}
          {!t.hasMoreAfter && (ephemerals.value.get(channelId) ?? []).map((e) => <EphemeralItem key={e.id} e={e} />)}
        </ol>
      </div>
      {(t.hasMoreAfter || (unread > 0 && !snap.current.atBottom)) && (
        <button type="button" class="jump" onClick={() => {
          if (t.hasMoreAfter) void jumpToLatest(channelId);
          else ref.current?.scrollTo({ top: ref.current.scrollHeight });
        }}>Jump to latest</button>
      )}
    </div>
  );
}
