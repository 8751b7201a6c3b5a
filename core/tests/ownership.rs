//! The core serves only the channels its [`Ownership`] gives it: a send,
//! an edit or a read of a channel another node owns is refused with
//! `not_owner`, naming that node, and writes nothing; once the channel is back, the
//! same send (same `client_msg_id`) goes through once.

mod support;

use std::sync::{Arc, Mutex};

use chat_core::ownership::{NotOwner, Ownership};
use chat_core::store::Fence;
use chat_proto::OWNER_KEY;
use chat_proto::v1 as pb;
use support::{refused, send, signup, start_owning, with};
use tonic::Code;

/// Owns every channel, until told another node took them all.
#[derive(Default)]
struct Switch {
    lost_to: Mutex<Option<u64>>,
}

impl Ownership for Switch {
    fn fence(&self, channel: u64) -> Result<Fence, NotOwner> {
        match *self.lost_to.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(owner) => Err(NotOwner {
                channel,
                owner: Some(owner),
            }),
            None => Ok(Fence::single_node(1)),
        }
    }

    fn shared(&self) -> bool {
        true
    }
}

#[tokio::test]
async fn a_channel_this_core_does_not_own_is_not_written() {
    let switch = Arc::new(Switch::default());
    let (mut core, _dir) = start_owning(switch.clone()).await;
    let (ann, token) = signup(&mut core, "ann").await;
    let (bob, _) = signup(&mut core, "bob").await;
    let open = pb::OpenDirectRequest {
        actor_id: ann,
        peer_id: bob,
    };
    let channel = core
        .open_direct(with(open, Some(&token)))
        .await
        .expect("open")
        .into_inner()
        .id;
    let first = core
        .send_message(with(send(ann, channel, "a"), Some(&token)))
        .await
        .expect("owned: written")
        .into_inner();
    let first_id = first.message.expect("message").id;

    *switch.lost_to.lock().expect("lock") = Some(9);
    let status = core
        .send_message(with(send(ann, channel, "b"), Some(&token)))
        .await
        .expect_err("another node owns it");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let owner = status
        .metadata()
        .get(OWNER_KEY)
        .and_then(|v| v.to_str().ok());
    assert_eq!(owner, Some("9"), "names the owner: {status:?}");
    let edit = pb::EditMessageRequest {
        actor_id: ann,
        channel_id: channel,
        message_id: first_id,
        text: "changed".into(),
    };
    refused(
        core.edit_message(with(edit, Some(&token))).await,
        Code::Unavailable,
        "not_owner",
    );
    let history = |token: &str| {
        with(
            pb::HistoryRequest {
                actor_id: ann,
                channel_id: channel,
                limit: 10,
                anchor: None,
            },
            Some(token),
        )
    };
    // Reads of the channel are the owner's too: its member list is the one
    // that follows every change.
    refused(
        core.history(history(&token)).await,
        Code::Unavailable,
        "not_owner",
    );

    *switch.lost_to.lock().expect("lock") = None;
    let again = core
        .send_message(with(send(ann, channel, "b"), Some(&token)))
        .await
        .expect("owned again: the retry is written")
        .into_inner();
    assert!(!again.duplicate, "the refused send had stored nothing");
    let page = core
        .history(history(&token))
        .await
        .expect("history")
        .into_inner();
    let texts: Vec<_> = page.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        ["hi", "hi"],
        "the first send, unedited, and the retry once"
    );
}
