//! A session's calls to the core, independent of the transport the session
//! runs on: each [`Call`] the state machine asks for becomes a future of
//! its [`CallResult`].

use std::convert::Infallible;
use std::sync::Arc;

use chat_proto::v1::{
    ChangesRequest, ChannelRequest, EditMessageRequest, HistoryRequest, MarkReadRequest,
    MessageRef, SendMessageRequest, SessionRef, WatchRequest, history_request,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;

use super::send_pipe::SendPipe;
use super::{Bearer, CoreClient};
use crate::cache::MetaCache;
use crate::error::ApiError;
use crate::principals::Principals;
use crate::protocol::{Call, CallResult, SendCall};

/// The edge's caches a session's calls read before asking the core.
#[derive(Clone)]
pub struct Caches {
    /// Profiles and channels.
    pub metadata: Arc<MetaCache>,
    /// Who each token belongs to.
    pub principals: Arc<Principals>,
}

/// Who makes a session's calls.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The edge the session is on.
    pub edge_id: u64,
    /// The session.
    pub session_id: u64,
    /// Its user, 0 before it authenticated.
    pub user_id: u64,
    /// The token it authenticated with, for the calls on its user's behalf.
    pub bearer: Bearer,
}

impl Caller {
    fn session(&self) -> SessionRef {
        SessionRef {
            edge_id: self.edge_id,
            session_id: self.session_id,
            user_id: self.user_id,
        }
    }
}

/// A session's calls in flight: sends on its ordered send stream, the
/// rest as concurrent unary calls.
#[derive(Default)]
pub struct Calls {
    unary: FuturesUnordered<BoxFuture<'static, CallResult>>,
    sends: SendPipe,
}

impl Calls {
    /// Starts `call` on behalf of `caller`.
    pub fn start(&mut self, core: &CoreClient, caches: &Caches, caller: Caller, call: Call) {
        match call.into_unary() {
            Ok(unary) => self.unary.push(start(core, caches, &caller, unary)),
            Err(SendCall {
                channel_id,
                client_msg_id,
                text,
            }) => self.sends.send(
                core,
                &caller.bearer,
                SendMessageRequest {
                    actor_id: caller.user_id,
                    channel_id,
                    text,
                    client_msg_id,
                    origin_session: caller.session_id,
                },
            ),
        }
    }

    /// True while some call awaits its result.
    pub fn busy(&self) -> bool {
        !self.unary.is_empty() || self.sends.busy()
    }

    /// The next result; pending while none is due.
    pub async fn next(&mut self, core: &CoreClient) -> CallResult {
        let sending = self.sends.busy();
        tokio::select! {
            Some(result) = self.unary.next(), if !self.unary.is_empty() => result,
            result = self.sends.next(core), if sending => result,
            else => std::future::pending().await,
        }
    }
}

/// The future of unary `call` on behalf of `caller`; a send cannot be one
/// (`Call<Infallible>`), as sends go on the send stream.
fn start(
    core: &CoreClient,
    caches: &Caches,
    caller: &Caller,
    call: Call<Infallible>,
) -> BoxFuture<'static, CallResult> {
    let core = core.clone();
    let bearer = caller.bearer.clone();
    let actor_id = caller.user_id;
    match call {
        Call::Ready => {
            let cache = caches.metadata.clone();
            Box::pin(async move {
                CallResult::Ready(
                    crate::ready::load(&core, &cache, &bearer, actor_id)
                        .await
                        .map_err(Into::into),
                )
            })
        }
        Call::MarkRead {
            channel_id,
            message_id,
        } => {
            let req = MarkReadRequest {
                actor_id,
                channel_id,
                message_id,
            };
            done(channel_id, Some(message_id), async move {
                core.as_user(&bearer).mark_read(req).await.map(drop)
            })
        }
        Call::Typing { channel_id } => {
            let req = ChannelRequest {
                actor_id,
                channel_id,
            };
            done(channel_id, None, async move {
                core.as_user(&bearer).typing(req).await.map(drop)
            })
        }
        Call::Edit {
            channel_id,
            message_id,
            text,
        } => {
            let req = EditMessageRequest {
                actor_id,
                channel_id,
                message_id,
                text,
            };
            done(channel_id, Some(message_id), async move {
                core.as_user(&bearer).edit_message(req).await.map(drop)
            })
        }
        Call::Delete {
            channel_id,
            message_id,
        } => {
            let req = MessageRef {
                actor_id,
                channel_id,
                message_id,
            };
            done(channel_id, Some(message_id), async move {
                core.as_user(&bearer).delete_message(req).await.map(drop)
            })
        }
        Call::Watch { channel_id } => {
            let req = WatchRequest {
                session: Some(caller.session()),
                channel_id,
            };
            Box::pin(async move {
                let result = core
                    .as_user(&bearer)
                    .watch_presence(req)
                    .await
                    .map(|r| r.presence.into_iter().map(Into::into).collect());
                CallResult::Watched {
                    channel_id,
                    result: result.map_err(Into::into),
                }
            })
        }
        Call::Unwatch { channel_id } => {
            let req = WatchRequest {
                session: Some(caller.session()),
                channel_id,
            };
            Box::pin(async move {
                let result = core.as_user(&bearer).unwatch_presence(req).await.map(drop);
                CallResult::Unwatched {
                    channel_id,
                    result: result.map_err(Into::into),
                }
            })
        }
        Call::Authenticate { token } => {
            let caches = caches.clone();
            Box::pin(async move {
                CallResult::Authenticated(
                    crate::ready::authenticate(&core, &caches, &token)
                        .await
                        .map_err(Into::into),
                )
            })
        }
        Call::Changes {
            channel_id,
            after,
            limit,
        } => {
            let req = ChangesRequest {
                actor_id,
                channel_id,
                after_version: after,
                limit,
            };
            Box::pin(async move {
                let result = core.as_user(&bearer).changes(req).await.map(|page| {
                    let messages = page.messages.into_iter().map(Into::into).collect();
                    (messages, page.has_more_after)
                });
                CallResult::Changes {
                    channel_id,
                    result: result.map_err(Into::into),
                }
            })
        }
        Call::History {
            channel_id,
            after,
            limit,
        } => {
            let req = HistoryRequest {
                actor_id,
                channel_id,
                limit,
                anchor: Some(history_request::Anchor::After(after)),
            };
            Box::pin(async move {
                let result = core.as_user(&bearer).history(req).await.map(|page| {
                    let messages = page.messages.into_iter().map(Into::into).collect();
                    (messages, page.has_more_after)
                });
                CallResult::History {
                    channel_id,
                    result: result.map_err(Into::into),
                }
            })
        }
    }
}

/// A call whose success needs no frame.
fn done(
    channel_id: u64,
    message_id: Option<u64>,
    call: impl Future<Output = Result<(), ApiError>> + Send + 'static,
) -> BoxFuture<'static, CallResult> {
    Box::pin(async move {
        CallResult::Done {
            channel_id,
            message_id,
            result: call.await.map_err(Into::into),
        }
    })
}
