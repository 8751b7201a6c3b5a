//! The core service: the one implementation of the `ChatCore` gRPC trait.

mod accounts;
mod acting;
mod bots;
mod channels;
mod commands;
mod edge_feed;
mod groups;
mod grpc;
mod mentions;
mod messages;
mod presence;
mod push;
mod reads;
mod required;
mod send_stream;
mod social;
mod tokens;

use std::sync::{Arc, Mutex, Weak};

use tokio::sync::{Mutex as AsyncMutex, Notify};
use tokio_util::sync::CancellationToken;

use crate::blocks::BlockCache;
use crate::bot_limit::BotLimiter;
use crate::config::CoreConfig;
use crate::error::CoreError;
use crate::hub::Hub;
use crate::ids::IdGenerator;
use crate::login_guard::LoginGuard;
use crate::members::{MemberCache, Members};
use crate::ownership::{Ownership, SoleOwner};
use crate::pipeline::{self, Appender, Parts};
use crate::presence::Presence;
use crate::principals::PrincipalCache;
use crate::push::queue::Wakes;
use crate::push::{PushQueue, VapidKey, worker::Worker};
use crate::store::{Fence, Id, Store};
use crate::webhooks::worker::HookWorker;

/// Channels whose member lists the core keeps in memory.
const MEMBER_CACHE_CHANNELS: u64 = 100_000;

/// Users whose kind (bot or person) is kept in memory.
const BOT_KINDS_CACHED: u64 = 100_000;

/// Accounts, channels and the message write path over one [`Store`].
pub struct CoreService<S> {
    /// This service, for streams that outlive the call that opened them.
    me: Weak<Self>,
    store: Arc<S>,
    config: CoreConfig,
    ids: Arc<Mutex<IdGenerator>>,
    hub: Arc<Hub>,
    members: Arc<MemberCache<S>>,
    appender: Mutex<Option<Appender>>,
    writer: AsyncMutex<Option<tokio::task::JoinHandle<()>>>,
    /// Serialises membership changes so the cache follows storage.
    membership: AsyncMutex<()>,
    /// Serialises edits and deletes so their events follow storage order.
    edits: AsyncMutex<()>,
    /// Serialises relationship and settings changes.
    social: AsyncMutex<()>,
    /// Who is online and who watches whom.
    presence: Arc<Mutex<Presence>>,
    /// Block checks for 1:1 sends.
    blocks: BlockCache<S>,
    /// Failed logins per account and client address.
    guard: LoginGuard,
    /// Who the tokens of recent calls belong to.
    principals: PrincipalCache,
    /// Which channels this node writes.
    ownership: Arc<dyn Ownership>,
    /// The key that signs Web Push requests.
    vapid: Arc<VapidKey>,
    /// Wakes the push worker (rows queued, a read to clear).
    push_wake: Arc<Notify>,
    /// Wakes the webhook worker (a command queued).
    hook_wake: Arc<Notify>,
    /// How fast each bot may send.
    bot_limiter: BotLimiter,
    /// Whether a user is a bot (which never changes), by id.
    bot_kinds: moka::future::Cache<Id, bool>,
    /// The push outbox writer and worker, until shutdown.
    push_tasks: AsyncMutex<Option<PushTasks>>,
}

/// The push tasks of a running core.
struct PushTasks {
    writer: tokio::task::JoinHandle<()>,
    worker: tokio::task::JoinHandle<()>,
    hooks: tokio::task::JoinHandle<()>,
    stop: CancellationToken,
}

impl<S: Store> CoreService<S> {
    /// Starts the core over `store`, owning every channel.
    pub async fn start(store: S, config: CoreConfig) -> Result<Arc<Self>, CoreError> {
        let sole = Arc::new(SoleOwner::new(config.node_id));
        Self::start_owning(store, config, sole).await
    }

    /// Starts the core over `store`, writing the channels `ownership` gives it.
    pub async fn start_owning(
        store: S,
        config: CoreConfig,
        ownership: Arc<dyn Ownership>,
    ) -> Result<Arc<Self>, CoreError> {
        let store = Arc::new(store);
        let vapid = Arc::new(crate::push::vapid::load(&config.push, &*store).await?);
        let providers = crate::push::providers(&config.push, vapid.clone())?;
        // Message ids are floored per channel by the write path.
        let floor = store.id_floor().await?;
        let ids = Arc::new(Mutex::new(IdGenerator::new(config.node_id, floor)));
        let hub = Arc::new(Hub::new(config.edge_queue));
        let members = Arc::new(MemberCache::new(store.clone(), MEMBER_CACHE_CHANNELS));
        let wakes = Wakes::default();
        let (push, push_writer) = PushQueue::start(store.clone(), &config.push, wakes.clone());
        let allow_private = config.webhook_allow_private_addresses;
        let hook_worker = HookWorker {
            store: store.clone(),
            ownership: ownership.clone(),
            client: crate::webhooks::client(&config.push, allow_private)?,
            config: config.push.clone(),
            allow_private,
            wake: wakes.hooks.clone(),
        };
        let stop = CancellationToken::new();
        let worker = Worker {
            store: store.clone(),
            ownership: ownership.clone(),
            providers,
            config: config.push.clone(),
            ids: ids.clone(),
            wake: wakes.push.clone(),
        };
        let push_tasks = PushTasks {
            writer: push_writer,
            worker: tokio::spawn(worker.run(stop.clone())),
            hooks: tokio::spawn(hook_worker.run(stop.clone())),
            stop,
        };
        let (appender, writer) = Appender::start(
            Parts {
                store: store.clone(),
                ids: ids.clone(),
                hub: hub.clone(),
                members: members.clone(),
                ownership: ownership.clone(),
                batch_max: config.append_batch_max,
                push,
            },
            config.append_queue,
        );
        let window = std::time::Duration::from_millis(config.login_failure_window_ms);
        Ok(Arc::new_cyclic(|me| Self {
            me: me.clone(),
            guard: LoginGuard::new(config.account_guard(), config.address_guard(), window),
            principals: PrincipalCache::new(
                config.principal_cache_size,
                std::time::Duration::from_millis(config.principal_cache_ttl_ms),
            ),
            // Blocks change at whichever node serves the user, sends are
            // checked at the channel's owner: shared, pairs are read fresh.
            blocks: BlockCache::new(store.clone(), MEMBER_CACHE_CHANNELS, !ownership.shared()),
            ownership,
            store,
            ids,
            hub,
            members,
            appender: Mutex::new(Some(appender)),
            writer: AsyncMutex::new(Some(writer)),
            membership: AsyncMutex::new(()),
            edits: AsyncMutex::new(()),
            social: AsyncMutex::new(()),
            presence: Arc::new(Mutex::new(Presence::new(config.presence_grace_ms))),
            vapid,
            push_wake: wakes.push,
            hook_wake: wakes.hooks,
            bot_limiter: BotLimiter::new(config.bot_messages_per_second, config.bot_messages_burst),
            bot_kinds: moka::future::Cache::new(BOT_KINDS_CACHED),
            push_tasks: AsyncMutex::new(Some(push_tasks)),
            config,
        }))
    }

    /// Stops taking messages, writes what is queued and flushes storage.
    pub async fn shutdown(&self) -> Result<(), CoreError> {
        self.appender
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(writer) = self.writer.lock().await.take() {
            let _ = writer.await;
        }
        // The write path ended and let go of the outbox writer's queue: the
        // writer ends once it wrote what was queued; a delivery in flight
        // finishes, the rest waits in the outbox for the next start.
        if let Some(push) = self.push_tasks.lock().await.take() {
            let _ = push.writer.await;
            push.stop.cancel();
            let _ = push.worker.await;
            let _ = push.hooks.await;
        }
        self.store.flush().await?;
        Ok(())
    }

    /// Ends every edge's event stream, so a graceful shutdown need not
    /// wait for them; the edges reconnect to the next core.
    pub fn end_edge_streams(&self) {
        self.hub.end_all();
    }

    /// How many edges hold a live event stream from this core.
    pub fn edge_streams(&self) -> usize {
        self.hub.live_edges()
    }

    fn next_id(&self) -> Id {
        self.ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next(pipeline::now_ms())
    }

    /// A fresh id above `floor` too (a channel's last id, for a version).
    fn next_id_above(&self, floor: Id) -> Id {
        self.ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next_above(pipeline::now_ms(), floor)
    }

    /// The fence to write `channel` with, if this node owns it.
    fn fence(&self, channel: Id) -> Result<Fence, CoreError> {
        Ok(self.ownership.fence(channel)?)
    }

    /// Call when this node's ownership changed (a new membership view):
    /// member lists are cached only for owned channels, whose changes all
    /// pass through the owner, so the lists of channels it may have gained
    /// are read afresh.
    pub fn ownership_changed(&self) {
        self.members.clear();
        // A user's presence lives at their home (the owner of their id): a
        // core forgets the users it is no longer the home of, so that should
        // it be again it starts from what the edges announce then, not from
        // a stale past.
        let online = self.presence().keep_homed(|user| self.homes(user));
        metrics::gauge!("chat_presence_online_users").set(online as f64);
    }

    /// Whether this core is `user`'s home: the owner of their id, which
    /// holds their sessions, presence and invisibility.
    fn homes(&self, user: Id) -> bool {
        self.ownership.fence(user).is_ok()
    }

    /// Calls about `user`'s presence are answered by their home alone;
    /// elsewhere `not_owner`, naming the home.
    fn home_of(&self, user: Id) -> Result<(), CoreError> {
        self.fence(user).map(drop)
    }

    /// The members of `channel`, from the cache where this node owns it
    /// (or alone writes), else from storage: another node changes it.
    async fn members_anywhere(&self, channel: Id) -> Result<Arc<Members>, CoreError> {
        if self.ownership.shared() && self.ownership.fence(channel).is_err() {
            return self.members.read(channel).await;
        }
        self.members.get(channel).await
    }

    /// [`Self::members_for`] at the channel's owner: a channel call made at
    /// another node is answered `not_owner`, naming the owner.
    async fn members_at_owner(&self, actor: Id, channel: Id) -> Result<Arc<Members>, CoreError> {
        self.fence(channel)?;
        self.members_for(actor, channel).await
    }

    fn appender(&self) -> Result<Appender, CoreError> {
        self.appender
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(CoreError::Overloaded)
    }

    /// The members of `channel` if `actor` is one of them. Anyone else is
    /// told the channel does not exist, whether it does or not.
    async fn members_for(&self, actor: Id, channel: Id) -> Result<Arc<Members>, CoreError> {
        let members = self.members.get(channel).await?;
        if members.contains(actor) {
            return Ok(members);
        }
        Err(CoreError::ChannelNotFound)
    }
}

fn now_ms() -> i64 {
    pipeline::now_ms() as i64
}
