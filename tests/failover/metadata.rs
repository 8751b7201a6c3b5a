//! The edges' metadata caches across cores: clients on two edges keep
//! reading a channel's members, a profile and an autocomplete answer while
//! another client changes them through one edge. Every edge's answer
//! changes within the change event's delivery and never goes back.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::cores::three_cores_two_edges;
use crate::support::{Account, Api, Server};

/// Longest a change event may take to reach an edge here (debug builds on
/// two CPUs); answers are read every 20 ms until then.
const DELIVERY: Duration = Duration::from_secs(5);

/// Reads `path` as `who` at every edge until `changed` holds at each, then
/// reads it again a few times at each: it must still hold (never back).
async fn everywhere_until(
    apis: &[Api],
    who: &Account,
    path: &str,
    changed: impl Fn(&Value) -> bool,
) {
    for api in apis {
        let deadline = tokio::time::Instant::now() + DELIVERY;
        loop {
            let answer = api.get(path, &who.token).await.expect(200);
            if changed(&answer) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{path} at an edge never changed: {answer}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    for _ in 0..5 {
        for api in apis {
            let answer = api.get(path, &who.token).await.expect(200);
            assert!(changed(&answer), "{path} went back: {answer}");
        }
    }
}

fn member_ids(list: &Value) -> Vec<String> {
    list["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["user"]["id"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// The edge's `chat_edge_cache_hits_total` for `kind`.
async fn hits(edge: &Server, kind: &str) -> f64 {
    let page = edge.metrics().await;
    let prefix = format!("chat_edge_cache_hits_total{{kind=\"{kind}\"}} ");
    page.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn every_edges_cached_answers_follow_each_change_and_never_go_back() {
    let Some((cores, _members)) = three_cores_two_edges().await else {
        return;
    };
    let apis = [Api::new(&cores.edges[0]), Api::new(&cores.edges[1])];
    let ann = apis[0].signup("ann").await;
    let bob = apis[0].signup("bob").await;
    let cat = apis[0].signup("cat").await;
    let group = apis[0].group(&ann, "team", &[&bob]).await;
    let members = format!("/api/v1/channels/{group}/members");
    let profile = format!("/api/v1/users/{}", ann.id);
    let search = "/api/v1/users?prefix=an";

    // Warm at both edges: the second read at edge 1 is a hit.
    for api in &apis {
        api.get(&members, &bob.token).await.expect(200);
        api.get(&profile, &bob.token).await.expect(200);
        api.get(search, &bob.token).await.expect(200);
    }
    let before = hits(&cores.edges[1], "channel").await;
    apis[1].get(&members, &bob.token).await.expect(200);
    assert!(
        hits(&cores.edges[1], "channel").await > before,
        "a warm read is a hit"
    );

    // Each change, made through edge 0, reaches both edges' answers.
    apis[0]
        .patch(
            &format!("/api/v1/channels/{group}"),
            &ann.token,
            json!({"name": "crew"}),
        )
        .await
        .expect(200);
    everywhere_until(&apis, &bob, &members, |l| l["name"] == "crew").await;
    apis[0]
        .put(
            &format!("/api/v1/channels/{group}/members/{}", cat.id),
            &ann.token,
            json!({}),
        )
        .await
        .expect(200);
    everywhere_until(&apis, &bob, &members, |l| member_ids(l).contains(&cat.id)).await;
    apis[0]
        .delete(
            &format!("/api/v1/channels/{group}/members/{}", bob.id),
            &ann.token,
        )
        .await
        .expect(200);
    everywhere_until(&apis, &cat, &members, |l| !member_ids(l).contains(&bob.id)).await;
    for api in &apis {
        api.get(&members, &bob.token)
            .await
            .expect_error(404, "channel_not_found");
    }
    apis[0]
        .patch(
            "/api/v1/users/me",
            &ann.token,
            json!({"display_name": "Ann A."}),
        )
        .await
        .expect(200);
    everywhere_until(&apis, &bob, &profile, |u| u["display_name"] == "Ann A.").await;
    everywhere_until(&apis, &bob, search, |l| {
        l["users"][0]["display_name"] == "Ann A."
    })
    .await;
    let anna = apis[0].signup("anna").await;
    everywhere_until(&apis, &bob, search, |l| {
        l["users"]
            .as_array()
            .is_some_and(|u| u.iter().any(|u| u["id"] == anna.id.as_str()))
    })
    .await;
}
