//! The core acts only for the holder of a live token. A raw gRPC client
//! (the generated `ChatCoreClient`, as anyone who reaches the core's port
//! could write) talks to the core service served by tonic on a loopback
//! TCP port, and tries to act for a user whose token it does not hold.

mod support;

use chat_proto::v1 as pb;
use support::{Client, code, login, refused, send, signup, start, with};
use tonic::Code;

#[tokio::test]
async fn a_call_acts_only_for_the_user_of_its_live_token() {
    let (mut core, _dir) = start().await;
    let (ann, ann_token) = signup(&mut core, "ann").await;
    let (bob, bob_token) = signup(&mut core, "bob").await;
    let open = pb::OpenDirectRequest {
        actor_id: ann,
        peer_id: bob,
    };
    let channel = core
        .open_direct(with(open, Some(&ann_token)))
        .await
        .expect("ann opens the channel")
        .into_inner()
        .id;

    // Ann's token, Bob's name: refused, nothing is stored as Bob.
    let forged = core.send_message(with(send(bob, channel, "f"), Some(&ann_token)));
    refused(forged.await, Code::PermissionDenied, "actor_mismatch");
    let ready = core.get_user_state(with(pb::UserRequest { actor_id: bob }, Some(&ann_token)));
    refused(ready.await, Code::PermissionDenied, "actor_mismatch");

    // No token at all.
    let bare = core.send_message(with(send(ann, channel, "n"), None));
    refused(bare.await, Code::Unauthenticated, "missing_token");
    let unknown = core.send_message(with(send(ann, channel, "u"), Some("no-such-token")));
    refused(unknown.await, Code::Unauthenticated, "invalid_token");

    // A second device's token works (and is cached), then is revoked: the
    // very next call with it is refused.
    let phone = login(&mut core, "ann").await;
    let ready = pb::UserRequest { actor_id: ann };
    core.get_user_state(with(ready, Some(&phone)))
        .await
        .expect("the phone's token works");
    core.logout(pb::TokenRequest {
        token: phone.clone(),
    })
    .await
    .expect("logout");
    let revoked = core.send_message(with(send(ann, channel, "r"), Some(&phone)));
    refused(revoked.await, Code::Unauthenticated, "invalid_token");

    // The right token for the right user.
    let sent = core
        .send_message(with(send(ann, channel, "ok"), Some(&ann_token)))
        .await
        .expect("ann sends as ann")
        .into_inner();
    assert_eq!(sent.message.expect("message").sender_id, ann);
    let history = pb::HistoryRequest {
        actor_id: bob,
        channel_id: channel,
        limit: 10,
        anchor: None,
    };
    let page = core
        .history(with(history, Some(&bob_token)))
        .await
        .expect("bob reads")
        .into_inner();
    let senders: Vec<_> = page.messages.iter().map(|m| m.sender_id).collect();
    assert_eq!(senders, [ann], "only the honest send was stored");
}

#[tokio::test]
async fn the_send_stream_checks_every_send() {
    let (mut core, _dir) = start().await;
    let (ann, ann_token) = signup(&mut core, "ann").await;
    let (bob, _) = signup(&mut core, "bob").await;
    let open = pb::OpenDirectRequest {
        actor_id: ann,
        peer_id: bob,
    };
    let channel = core
        .open_direct(with(open, Some(&ann_token)))
        .await
        .expect("open")
        .into_inner()
        .id;

    let sends = futures::stream::iter([send(ann, channel, "a"), send(bob, channel, "b")]);
    let stream = core
        .send_stream(with(sends, Some(&ann_token)))
        .await
        .expect("stream opens");
    let outcomes: Vec<_> = futures::StreamExt::collect::<Vec<_>>(stream.into_inner()).await;
    let results: Vec<_> = outcomes
        .into_iter()
        .map(|o| o.expect("outcome").result.expect("result"))
        .collect();
    assert!(matches!(results[0], pb::send_outcome::Result::Sent(_)));
    match &results[1] {
        pb::send_outcome::Result::Error(e) => {
            assert_eq!(e.grpc_code, Code::PermissionDenied as i32);
            assert_eq!(e.code, "actor_mismatch");
        }
        other => panic!("bob's send went through: {other:?}"),
    }

    let sends = futures::stream::iter([send(ann, channel, "c")]);
    let bare = core.send_stream(with(sends, None)).await;
    refused(bare.map(drop), Code::Unauthenticated, "missing_token");
}

/// Calls every user-scoped RPC with a request acting for `actor`.
macro_rules! every_user_call {
    ($core:expr, $token:expr, $actor:expr, $channel:expr) => {{
        let (actor, channel, token): (u64, u64, Option<&str>) = ($actor, $channel, $token);
        let session = Some(pb::SessionRef {
            edge_id: 1,
            session_id: 1,
            user_id: actor,
        });
        let member = pb::MemberRequest {
            actor_id: actor,
            channel_id: channel,
            user_id: actor,
        };
        let message = pb::MessageRef {
            actor_id: actor,
            channel_id: channel,
            message_id: 1,
        };
        let ch = pb::ChannelRequest {
            actor_id: actor,
            channel_id: channel,
        };
        let user = pb::UserRequest { actor_id: actor };
        let core: &mut Client = $core;
        macro_rules! call {
            ($rpc:ident, $req:expr) => {
                (
                    stringify!($rpc),
                    core.$rpc(with($req, token)).await.map(drop),
                )
            };
        }
        vec![
            call!(
                revoke_token,
                pb::RevokeTokenRequest {
                    actor_id: actor,
                    token_id: 1
                }
            ),
            call!(revoke_all_tokens, user.clone()),
            call!(
                change_password,
                pb::ChangePasswordRequest {
                    actor_id: actor,
                    ..Default::default()
                }
            ),
            call!(
                open_direct,
                pb::OpenDirectRequest {
                    actor_id: actor,
                    peer_id: 1
                }
            ),
            call!(
                create_group,
                pb::CreateGroupRequest {
                    actor_id: actor,
                    name: "g".into(),
                    member_ids: vec![]
                }
            ),
            call!(get_channel, ch.clone()),
            call!(list_channels, pb::ListChannelsRequest { actor_id: actor }),
            call!(add_member, member.clone()),
            call!(remove_member, member.clone()),
            call!(transfer_ownership, member.clone()),
            call!(
                rename_channel,
                pb::RenameChannelRequest {
                    actor_id: actor,
                    channel_id: channel,
                    name: "n".into()
                }
            ),
            call!(
                set_member_role,
                pb::MemberRoleRequest {
                    actor_id: actor,
                    channel_id: channel,
                    user_id: actor,
                    role: pb::MemberRole::Admin as i32
                }
            ),
            call!(delete_channel, ch.clone()),
            call!(send_message, send(actor, channel, "x")),
            call!(
                history,
                pb::HistoryRequest {
                    actor_id: actor,
                    channel_id: channel,
                    limit: 1,
                    anchor: None
                }
            ),
            call!(get_user_state, user.clone()),
            call!(
                get_channels,
                pb::GetChannelsRequest {
                    actor_id: actor,
                    channel_ids: vec![channel]
                }
            ),
            call!(
                mark_read,
                pb::MarkReadRequest {
                    actor_id: actor,
                    channel_id: channel,
                    message_id: 1
                }
            ),
            call!(
                edit_message,
                pb::EditMessageRequest {
                    actor_id: actor,
                    channel_id: channel,
                    message_id: 1,
                    text: "t".into()
                }
            ),
            call!(delete_message, message.clone()),
            call!(message_versions, message.clone()),
            call!(
                changes,
                pb::ChangesRequest {
                    actor_id: actor,
                    channel_id: channel,
                    after_version: 0,
                    limit: 1
                }
            ),
            call!(typing, ch.clone()),
            call!(
                watch_presence,
                pb::WatchRequest {
                    session: session.clone(),
                    channel_id: channel
                }
            ),
            call!(
                unwatch_presence,
                pb::WatchRequest {
                    session: session.clone(),
                    channel_id: channel
                }
            ),
            call!(
                update_profile,
                pb::UpdateProfileRequest {
                    actor_id: actor,
                    ..Default::default()
                }
            ),
            call!(get_settings, user.clone()),
            call!(
                update_settings,
                pb::UpdateSettingsRequest {
                    actor_id: actor,
                    ..Default::default()
                }
            ),
            call!(list_relationships, user.clone()),
            call!(
                change_relationship,
                pb::RelationshipRequest {
                    actor_id: actor,
                    user_id: 1,
                    action: pb::RelationshipAction::Request as i32
                }
            ),
        ]
    }};
}

#[tokio::test]
async fn every_call_on_behalf_of_a_user_checks_the_principal() {
    let (mut core, _dir) = start().await;
    let (ann, ann_token) = signup(&mut core, "ann").await;
    let (bob, _) = signup(&mut core, "bob").await;
    let open = pb::OpenDirectRequest {
        actor_id: ann,
        peer_id: bob,
    };
    let channel = core
        .open_direct(with(open, Some(&ann_token)))
        .await
        .expect("open")
        .into_inner()
        .id;

    let forged = every_user_call!(&mut core, Some(ann_token.as_str()), bob, channel);
    assert_eq!(forged.len(), 30);
    for (rpc, result) in forged {
        let status = result.expect_err(rpc);
        assert_eq!(status.code(), Code::PermissionDenied, "{rpc}: {status:?}");
        assert_eq!(code(&status), "actor_mismatch", "{rpc}");
    }
    let bare = every_user_call!(&mut core, None, ann, channel);
    for (rpc, result) in bare {
        let status = result.expect_err(rpc);
        assert_eq!(status.code(), Code::Unauthenticated, "{rpc}: {status:?}");
        assert_eq!(code(&status), "missing_token", "{rpc}");
    }
    let lookup = pb::GetUserRequest {
        key: Some(pb::get_user_request::Key::Id(bob)),
    };
    refused(
        core.get_user(with(lookup.clone(), None)).await,
        Code::Unauthenticated,
        "missing_token",
    );
    let found = core.get_user(with(lookup, Some(&ann_token))).await;
    assert_eq!(found.expect("any signed-in user").into_inner().id, bob);

    // Bob's account was untouched by Ann's forged calls.
    let bob_token = login(&mut core, "bob").await;
    let settings = core
        .get_settings(with(pb::UserRequest { actor_id: bob }, Some(&bob_token)))
        .await
        .expect("bob's own token works");
    assert!(!settings.into_inner().invisible);
}

#[tokio::test]
async fn edge_bookkeeping_needs_no_user_token() {
    let (mut core, _dir) = start().await;
    let (ann, _) = signup(&mut core, "ann").await;
    let session = pb::SessionRef {
        edge_id: 1,
        session_id: 1,
        user_id: ann,
    };
    core.session_opened(session)
        .await
        .expect("edge bookkeeping");
    core.update_interest(pb::InterestRequest {
        edge_id: 1,
        add_users: vec![ann],
        remove_users: vec![],
    })
    .await
    .expect("edge bookkeeping");
}
