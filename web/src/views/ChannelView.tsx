// An open channel: header, messages, who is typing, the composer, members.
import { useEffect, useState } from 'preact/hooks';
import type { Id } from '../protocol';
import { closeChannel, openChannel, setMuted } from '../state/chat';
import { navigate } from '../state/route';
import { channelTitle, channels, nameOf, settings, typing } from '../state/store';
import { Composer, focusComposer } from './Composer';
import { Members } from './Members';
import { MessageList } from './MessageList';

function Typing({ channelId }: { channelId: Id }) {
  const who = [...(typing.value.get(channelId)?.keys() ?? [])].map(nameOf);
  const text = who.length === 0 ? '' : who.length === 1 ? `${who[0]} is typing…`
    : who.length < 4 ? `${who.join(', ')} are typing…` : 'Several people are typing…';
  return <div class="typing" aria-live="polite" data-testid="typing">{text}</div>;
}

/** The main column for a channel. */
export function ChannelView({ channelId, messageId }: { channelId: Id; messageId?: Id }) {
  const entry = channels.value.get(channelId);
  const [showMembers, setShowMembers] = useState(false);
  useEffect(() => {
    if (entry) void openChannel(channelId, messageId);
  }, [channelId, messageId, !!entry]);
  useEffect(() => () => closeChannel(channelId), [channelId]);
  // Opening a channel puts the keyboard in its message box (a jump to a
  // message leaves focus where it was; on a touch screen it would pop up
  // the on-screen keyboard).
  useEffect(() => {
    if (entry && !messageId && matchMedia('(pointer: fine)').matches) focusComposer();
  }, [channelId, !!entry]);
  if (!entry) return <main class="main empty" id="main"><p>This channel is not available.</p></main>;
  const title = channelTitle(entry.channel);
  const muted = settings.value.muted_channel_ids.includes(channelId);
  return (
    <main class="main channel-view" id="main" aria-label={title}>
      <header class="channel-head">
        <button type="button" class="back" onClick={() => navigate({ name: 'home' })} aria-label="Back to channels">←</button>
        <h1>{title}</h1>
        <div class="row">
          <button type="button" onClick={() => void setMuted(channelId, !muted)}>{muted ? 'Unmute' : 'Mute'}</button>
          <button type="button" aria-expanded={showMembers} onClick={() => setShowMembers(!showMembers)}>
            Members ({entry.channel.member_ids.length})
          </button>
        </div>
      </header>
      <div class="channel-body">
        <div class="channel-main">
          <MessageList channelId={channelId} />
          <Typing channelId={channelId} />
          <Composer channelId={channelId} label={`Message ${title}`} />
        </div>
        {showMembers && <Members channel={entry.channel} />}
      </div>
    </main>
  );
}
