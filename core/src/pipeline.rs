//! The ordered write path: assigns ids, writes durably in batches (group
//! commit), then acknowledges and publishes, one batch at a time. Because a
//! single task does all three in order, ids in a channel increase in the
//! order messages become durable and are delivered.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chat_proto::v1::{MessageCreated, event};
use tokio::sync::{mpsc, oneshot};

use crate::convert;
use crate::error::CoreError;
use crate::hub::Hub;
use crate::ids::IdGenerator;
use crate::members::MemberCache;
use crate::ownership::Ownership;
use crate::push::PushQueue;
use crate::push::queue::Outgoing;
use crate::store::{
    Appended, ChannelFloors, Fence, HookEvent, HookKind, Id, Mention, NewMessage, QueuedPush,
    Store, StoreError,
};

/// A message that passed validation and membership checks.
#[derive(Debug)]
pub struct Pending {
    /// Target channel.
    pub channel_id: Id,
    /// Author.
    pub sender_id: Id,
    /// Idempotency key.
    pub client_msg_id: String,
    /// Body.
    pub text: String,
    /// The members it mentions.
    pub mentions: Vec<Mention>,
    /// Edge session that sent it.
    pub origin_session: u64,
}

struct Job {
    pending: Pending,
    reply: oneshot::Sender<Result<Appended, CoreError>>,
}

/// The handle to the write path.
#[derive(Clone)]
pub struct Appender {
    tx: mpsc::Sender<Job>,
}

/// What the write path needs.
pub struct Parts<S> {
    /// Durable storage.
    pub store: Arc<S>,
    /// Id source shared with the rest of the core.
    pub ids: Arc<Mutex<IdGenerator>>,
    /// Event routing.
    pub hub: Arc<Hub>,
    /// Who receives a channel's messages.
    pub members: Arc<MemberCache<S>>,
    /// Which channels this node writes, and with which fence.
    pub ownership: Arc<dyn Ownership>,
    /// Most messages per transaction.
    pub batch_max: usize,
    /// Where notifications for members with no live session go.
    pub push: PushQueue,
}

impl Appender {
    /// Starts the write path; it ends when every `Appender` is dropped, after
    /// writing what was queued.
    pub fn start<S: Store>(parts: Parts<S>, queue: usize) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(queue);
        let task = tokio::spawn(run(parts, rx));
        (Self { tx }, task)
    }

    /// Queues a message; the future resolves once it is durable (or refused).
    /// Messages queued one after another get ids in that order.
    pub fn enqueue(
        &self,
        pending: Pending,
    ) -> Result<impl Future<Output = Result<Appended, CoreError>> + Send + use<>, CoreError> {
        let (reply, done) = oneshot::channel();
        self.tx
            .try_send(Job { pending, reply })
            .map_err(|_| CoreError::Overloaded)?;
        Ok(async move { done.await.map_err(|_| CoreError::Overloaded)? })
    }
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

async fn run<S: Store>(parts: Parts<S>, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(parts.batch_max);
    let mut floors = ChannelFloors::default();
    while rx.recv_many(&mut jobs, parts.batch_max).await > 0 {
        write_batch(&parts, &mut floors, std::mem::take(&mut jobs)).await;
    }
}

/// Answers the jobs for channels this node does not own with `not_owner`,
/// and writes the others in one batch per fence (one, unless ownership
/// changed while the batch gathered).
async fn write_batch<S: Store>(parts: &Parts<S>, floors: &mut ChannelFloors, jobs: Vec<Job>) {
    let mut groups: Vec<(Fence, Vec<Job>)> = Vec::new();
    for job in jobs {
        match parts.ownership.fence(job.pending.channel_id) {
            Err(not_owner) => {
                let _ = job.reply.send(Err(not_owner.into()));
            }
            Ok(fence) => match groups.iter_mut().find(|(f, _)| *f == fence) {
                Some((_, group)) => group.push(job),
                None => groups.push((fence, vec![job])),
            },
        }
    }
    for (fence, group) in groups {
        write_fenced(parts, floors, fence, group).await;
    }
}

/// Issues each message an id above its channel's floor, writes the batch
/// with `fence` and answers every job.
async fn write_fenced<S: Store>(
    parts: &Parts<S>,
    floors: &mut ChannelFloors,
    fence: Fence,
    jobs: Vec<Job>,
) {
    let channels: Vec<Id> = jobs.iter().map(|job| job.pending.channel_id).collect();
    if let Err(e) = floors.load(&*parts.store, fence, &channels).await {
        tracing::error!(error = %e, batch = jobs.len(), "channel id floors not read");
        return fail(jobs, &e);
    }
    let now = now_ms();
    let batch: Vec<NewMessage> = {
        let mut ids = parts.ids.lock().unwrap_or_else(|p| p.into_inner());
        jobs.iter()
            .map(|job| NewMessage {
                id: floors.issue(&mut ids, now, job.pending.channel_id),
                channel_id: job.pending.channel_id,
                sender_id: job.pending.sender_id,
                client_msg_id: job.pending.client_msg_id.clone(),
                text: job.pending.text.clone(),
                created_at_ms: now as i64,
                edited_at_ms: 0,
                deleted: false,
                version_id: 0,
                mentions: job.pending.mentions.clone(),
                deleted_by: 0,
            })
            .collect()
    };
    let started = Instant::now();
    let result = parts.store.append(fence, batch).await;
    metrics::histogram!("chat_storage_append_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("chat_storage_append_batch_size").record(jobs.len() as f64);
    let outcomes = match result {
        Ok(outcomes) => outcomes,
        Err(e) => {
            tracing::error!(error = %e, batch = jobs.len(), "message batch not written");
            return fail(jobs, &e);
        }
    };
    let mut out = Outgoing::default();
    for (job, outcome) in jobs.into_iter().zip(outcomes) {
        if let Appended::Inserted(message) = &outcome {
            metrics::counter!("chat_messages_stored_total").increment(1);
            publish(parts, message, job.pending.origin_session, &mut out.pushes).await;
            // Its channel's bots with webhooks (found as it is queued).
            out.hooks.push(HookEvent {
                event_id: message.id,
                channel_id: message.channel_id,
                sender_id: message.sender_id,
                kind: HookKind::Message,
                to: 0,
                body: String::new(),
            });
        }
        // The sender may have gone; the message is stored all the same.
        let _ = job.reply.send(Ok(outcome));
    }
    // Strictly after the batch is durable, and after its acks.
    parts.push.offer(out).await;
}

/// Answers every job of a batch that was not written with the error.
fn fail(jobs: Vec<Job>, e: &StoreError) {
    for job in jobs {
        let _ = job.reply.send(Err(CoreError::Storage(e.clone())));
    }
}

/// Publishes `message` to the edges, and adds to `pushes` its members with
/// no live session anywhere.
async fn publish<S: Store>(
    parts: &Parts<S>,
    message: &NewMessage,
    origin_session: u64,
    pushes: &mut Vec<QueuedPush>,
) {
    match parts.members.get(message.channel_id).await {
        Ok(members) => {
            let kind = event::Kind::Message(MessageCreated {
                message: Some(convert::message(message)),
                origin_session,
            });
            parts.hub.publish(&members, kind).await;
            let away = parts.hub.unserved(&members);
            pushes.extend(
                away.into_iter()
                    .filter(|user| *user != message.sender_id)
                    .map(|user| QueuedPush {
                        user_id: user,
                        channel_id: message.channel_id,
                        message_id: message.id,
                        sender_id: message.sender_id,
                        mentioned: message.mentions.iter().any(|m| m.user_id == user),
                    }),
            );
        }
        Err(e) => {
            // Stored but not pushed: the watching edges' sessions must page.
            tracing::error!(error = %e, "members unknown; message stored, edges told of a gap");
            let gap = event::Kind::Gap(chat_proto::v1::ChannelGap {
                channel_id: message.channel_id,
                after_message_id: message.id.saturating_sub(1),
                reason: "unavailable".to_owned(),
            });
            parts.hub.publish(&[], gap).await;
        }
    }
}
