//! One task per connection runs the protocol state machine, carrying its
//! outputs to the link, the core and the registry.

use std::sync::Arc;

use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::{End, Inbound, Link};
use crate::Edge;
use crate::core_client::Bearer;
use crate::core_client::session::{Caller, Calls};
use crate::error::CloseReason;
use crate::protocol::{Call, Delivery, Output, Session};
use crate::registry::{Entry, Kick};

/// Deliveries written before the link is flushed.
const WRITE_BATCH: usize = 64;

/// Runs one connection, over any [`Link`].
pub struct Driver<L: Link> {
    edge: Arc<Edge>,
    link: L,
    session: Session,
    user: Option<u64>,
    /// The token of the session's `hello`, for calls on its user's behalf.
    bearer: Bearer,
    tx: flume::Sender<Delivery>,
    rx: flume::Receiver<Delivery>,
    kick: Arc<Kick>,
    calls: Calls,
}

impl<L: Link> Driver<L> {
    /// Serves the connection until it closes. Not an `async fn`: its
    /// arguments would stay in the task beside the driver they move into,
    /// a second copy of the link in every connection's memory.
    pub fn run(
        edge: Arc<Edge>,
        link: L,
        permit: OwnedSemaphorePermit,
    ) -> impl Future<Output = ()> + Send {
        let id = edge.next_session_id();
        let (tx, rx) = flume::bounded(edge.config.outbound_queue);
        let mut driver = Driver {
            session: Session::new(id, edge.session_config.clone(), Instant::now().into_std()),
            edge,
            link,
            user: None,
            bearer: Bearer::default(),
            tx,
            rx,
            kick: Arc::new(Kick::default()),
            calls: Calls::default(),
        };
        async move {
            let _permit = permit;
            metrics::gauge!(L::METRICS.connections).increment(1.0);
            let end = driver.serve().await;
            // Boxed: the goodbye runs once, and its futures would otherwise
            // make every idle connection's task larger by their size.
            Box::pin(driver.finish(end)).await;
            metrics::gauge!(L::METRICS.connections).decrement(1.0);
        }
    }

    /// Withdraws the session and says the goodbye the end calls for.
    async fn finish(self, end: End) {
        let id = self.session.id();
        if let Some(user) = self.user {
            let clean = match end {
                End::Closed => true,
                // A logout, or silence past the idle timeout: the client
                // is gone for good, so no grace period.
                End::Close(reason) => {
                    reason == CloseReason::UNAUTHORIZED || reason == CloseReason::IDLE_TIMEOUT
                }
                End::Gone => false,
            };
            let silent = self.session.last_heard().elapsed();
            let last_heard_ms = crate::clock::wall_ms().saturating_sub(silent.as_millis() as i64);
            let registry = &self.edge.registry;
            registry.unregister(user, id, clean, last_heard_ms).await;
        }
        let reason = match end {
            End::Close(reason) => reason.reason,
            End::Closed | End::Gone => "client gone",
        };
        self.link.finish(end).await;
        tracing::debug!(session = id, reason, "session ended");
        metrics::counter!(L::METRICS.closed, "reason" => reason).increment(1);
    }

    async fn serve(&mut self) -> End {
        loop {
            if let Some(end) = self.carry_outputs().await {
                return end;
            }
            let deadline = self.session.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(Instant::from_std(at)).await,
                    None => std::future::pending().await,
                }
            };
            let reading = self.session.wants_read();
            tokio::select! {
                biased;
                _ = self.edge.shutdown.cancelled() => return End::Close(CloseReason::SHUTDOWN),
                reason = self.kick.kicked() => return End::Close(reason),
                // Boxed, and only when polled (a disabled branch never is):
                // the call machinery's future would otherwise sit in every
                // idle connection's task, about 540 bytes of it.
                result = async { Box::pin(self.calls.next(&self.edge.core)).await },
                    if self.calls.busy() => {
                    self.edge.registry.follow(self.user.unwrap_or_default(), &result);
                    self.session.handle_call_result(result);
                }
                Ok(delivery) = self.rx.recv_async(), if self.session.wants_deliveries() => {
                    self.session.handle_delivery(delivery);
                }
                incoming = self.link.recv(), if reading => {
                    if let Some(end) = self.handle_incoming(incoming) {
                        return end;
                    }
                }
                _ = sleep => self.session.handle_timeout(Instant::now().into_std()),
            }
        }
    }

    fn handle_incoming(&mut self, incoming: Inbound<L::Text>) -> Option<End> {
        let now = Instant::now().into_std();
        match incoming {
            Inbound::Text(text) => {
                metrics::counter!(L::METRICS.frames_in).increment(1);
                self.session.handle_text(text.as_ref(), now);
            }
            Inbound::Binary => {
                metrics::counter!(L::METRICS.frames_in).increment(1);
                self.session.handle_binary(now);
            }
            Inbound::Activity => self.session.handle_activity(now),
            Inbound::Closed => return Some(End::Closed),
            Inbound::Gone => return Some(End::Gone),
            Inbound::Refused(reason) => return Some(End::Close(reason)),
        }
        None
    }

    /// Carries out everything the session asked for; `Some` when it closed.
    async fn carry_outputs(&mut self) -> Option<End> {
        let mut written = 0usize;
        loop {
            let Some(output) = self.session.poll_output() else {
                // Take queued deliveries now rather than one per loop turn.
                if written < WRITE_BATCH
                    && self.session.wants_deliveries()
                    && let Ok(delivery) = self.rx.try_recv()
                {
                    self.session.handle_delivery(delivery);
                    continue;
                }
                break;
            };
            match output {
                Output::Text(text) => {
                    written += 1;
                    if let Err(end) = self.write(Some(&text)).await {
                        return Some(end);
                    }
                }
                Output::Call(call) => self.start_call(*call),
                Output::Register { user_id, token_id } => {
                    let entry = Entry {
                        session_id: self.session.id(),
                        token_id,
                        tx: self.tx.clone(),
                        kick: self.kick.clone(),
                        ended: Arc::default(),
                    };
                    self.user = Some(user_id);
                    // Boxed, as it runs once per connection.
                    let register = Box::pin(self.edge.registry.register(user_id, entry));
                    if let Err(e) = register.await {
                        tracing::warn!(error = %e, "could not register session");
                        return Some(End::Close(CloseReason::SHUTDOWN));
                    }
                }
                Output::Close(reason) => {
                    metrics::counter!(L::METRICS.frames_out).increment(written as u64);
                    return Some(self.write(None).await.err().unwrap_or(End::Close(reason)));
                }
            }
        }
        if written > 0 {
            metrics::counter!(L::METRICS.frames_out).increment(written as u64);
            return self.write(None).await.err();
        }
        None
    }

    /// Feeds `text` to the link, or flushes it when `None`. A client that
    /// stops reading blocks this, so a kick or shutdown interrupts it.
    async fn write(&mut self, text: Option<&Arc<str>>) -> Result<(), End> {
        let link = &mut self.link;
        let io = async move {
            match text {
                Some(text) => link.feed(text).await,
                None => link.flush().await,
            }
        };
        tokio::select! {
            biased;
            result = io => result.map_err(|_| End::Gone),
            reason = self.kick.kicked() => Err(End::Close(reason)),
            _ = self.edge.shutdown.cancelled() => Err(End::Close(CloseReason::SHUTDOWN)),
        }
    }

    fn start_call(&mut self, call: Call) {
        if let Call::Authenticate { token } = &call {
            // A token that cannot be a header value is none the core
            // issued: its authentication fails, and no call follows.
            self.bearer = Bearer::new(token).unwrap_or_default();
        }
        let caller = Caller {
            edge_id: self.edge.config.edge_id,
            session_id: self.session.id(),
            user_id: self.user.unwrap_or_default(),
            bearer: self.bearer.clone(),
        };
        self.calls
            .start(&self.edge.core, &self.edge.caches(), caller, call);
    }
}
