//! The OpenAPI document, and the one place that adds the responses every
//! operation shares.
//!
//! # What a handler documents, and what it gets for free
//!
//! A handler's `#[utoipa::path(..)]` lists its success responses and the
//! errors that are its own: `404 channel_not_found`, `403 not_channel_owner`,
//! `409 username_taken`, `429 overloaded` on send, and so on, each with
//! `body = ErrorBody` and a description naming the codes. It does **not**
//! list the errors that follow from the shape of the operation. Those are
//! added to every operation of the finished document by
//! [`SharedResponses`], from this table:
//!
//! | The operation has                          | Status | Codes |
//! | ------------------------------------------ | ------ | ----- |
//! | `security(("bearer" = []))`                | 401    | `missing_token`, `invalid_token` |
//! |                                            | 429    | `rate_limited` (the per-user REST limit) |
//! | `request_body = ..` (an `ApiJson` body)    | 400    | `malformed_json`, `invalid_body` |
//! |                                            | 413    | `body_too_large` |
//! |                                            | 415    | `unsupported_media_type` |
//! | a path parameter (an `ApiPath`)            | 400    | `invalid_path` |
//! | a query parameter (an `ApiQuery`)          | 400    | `invalid_query` |
//! | anything                                   | 500    | `internal` |
//! |                                            | 503    | `storage_unavailable`, `unavailable` |
//!
//! When a handler lists the same status (say its own 400 codes), the shared
//! codes are appended to its description. Every added response has the
//! [`ErrorBody`] schema as `application/json`.
//!
//! # Adding an endpoint
//!
//! Register it in `api()` in `http/mod.rs` with `routes!(..)`, and say in
//! its `#[utoipa::path]` what its extractors take: `security(("bearer" =
//! []))` when it takes [`Auth`](super::extract::Auth), `request_body = T`
//! for `ApiJson<T>`, `params(..)` for `ApiPath` and `ApiQuery`. The shared
//! responses then follow. Ids take the [`Id`] schema (`("channel_id" = Id,
//! Path, ..)`, `#[schema(value_type = Id)]`), so generated ids reach the
//! handler. List in `responses(..)` what the handler itself can return: the
//! `CoreError`s of the core calls it makes, with their statuses from
//! `edge/src/error.rs`. An operation that ends the caller's token (logging
//! out everywhere, changing the password) also goes in
//! `TOKEN_ENDING_OPERATIONS` in `scripts/schemathesis.sh`.
//!
//! `tests/api_contract.rs` fails for an operation without the shared
//! responses, and `scripts/schemathesis.sh` fails for any status the server
//! sends that the document leaves out (an `Auth` extractor without
//! `security`, a `CoreError` not listed, say).

use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;
use crate::wire::Id;

/// The name of the bearer-token security scheme in the document.
pub const BEARER: &str = "bearer";

/// The document's info, tags and security scheme; the paths are added by
/// the router (`utoipa_axum`), the shared responses after them.
#[derive(OpenApi)]
#[openapi(
    info(title = "chat", description = "REST API of the chat server. Real-time traffic uses the WebSocket at /ws (see docs/protocol.md)."),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody, Id)),
    tags((name = "accounts"), (name = "channels"), (name = "messages"), (name = "relationships"), (name = "discovery"), (name = "push"), (name = "bots"))
)]
pub(super) struct ApiDoc;

/// Declares the `bearer` security scheme that operations refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    }
}

/// One row of the table in the module doc.
struct Shared {
    status: &'static str,
    applies: fn(&Operation) -> bool,
    codes: &'static str,
}

const SHARED: &[Shared] = &[
    Shared {
        status: "400",
        applies: has_body,
        codes: "`malformed_json`: the body is not JSON; \
                `invalid_body`: JSON of the wrong shape (a missing, unknown or mistyped field)",
    },
    Shared {
        status: "400",
        applies: has_path_params,
        codes: "`invalid_path`: a path parameter is not of its type (an id that is not a decimal u64, text that is not UTF-8)",
    },
    Shared {
        status: "400",
        applies: has_query_params,
        codes: "`invalid_query`: a query parameter is not of its type",
    },
    Shared {
        status: "401",
        applies: needs_token,
        codes: "`missing_token`: no `Authorization: Bearer` header; \
                `invalid_token`: the token is unknown, expired or ended",
    },
    Shared {
        status: "429",
        applies: needs_token,
        codes: "`rate_limited`: the user made more than `edge.rest_per_sec` calls a second; \
                see `Retry-After`",
    },
    Shared {
        status: "413",
        applies: has_body,
        codes: "`body_too_large`: the body is over `edge.max_body_bytes`",
    },
    Shared {
        status: "415",
        applies: has_body,
        codes: "`unsupported_media_type`: the body is not sent as `Content-Type: application/json`",
    },
    Shared {
        status: "500",
        applies: always,
        codes: "`internal`: a bug; the server log has the details",
    },
    Shared {
        status: "503",
        applies: always,
        codes: "`storage_unavailable`: nothing was written; \
                `unavailable`: the core cannot be reached. Retry later",
    },
];

fn has_body(op: &Operation) -> bool {
    op.request_body.is_some()
}

fn has_params(op: &Operation, kind: ParameterIn) -> bool {
    op.parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == kind)
}

fn has_path_params(op: &Operation) -> bool {
    has_params(op, ParameterIn::Path)
}

fn has_query_params(op: &Operation) -> bool {
    has_params(op, ParameterIn::Query)
}

fn needs_token(op: &Operation) -> bool {
    let anonymous = SecurityRequirement::default();
    op.security
        .iter()
        .flatten()
        .any(|requirement| *requirement != anonymous)
}

fn always(_: &Operation) -> bool {
    true
}

/// Adds the responses of the module doc's table to every operation.
///
/// Applied to the finished document (see `api()` in `http/mod.rs`): in the
/// `modifiers(..)` of [`ApiDoc`] it would run before the router adds the
/// paths, and see none.
pub struct SharedResponses;

impl Modify for SharedResponses {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for item in doc.paths.paths.values_mut() {
            for op in operations(item) {
                let applying: Vec<&Shared> = SHARED.iter().filter(|s| (s.applies)(op)).collect();
                for shared in applying {
                    add_error(op, shared.status, shared.codes);
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

/// Adds `codes` to the operation's `status` response, creating it with the
/// error body when the handler did not list it.
fn add_error(op: &mut Operation, status: &str, codes: &str) {
    let entry = op
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| RefOr::T(Response::new("")));
    let RefOr::T(response) = entry else { return };
    if response.description.is_empty() {
        response.description = codes.to_owned();
    } else {
        response.description = format!("{}; {codes}", response.description);
    }
    response
        .content
        .entry("application/json".to_owned())
        .or_insert_with(|| Content::new(Some(Ref::from_schema_name("ErrorBody"))));
}

#[cfg(test)]
mod tests {
    use utoipa::openapi::path::{OperationBuilder, ParameterBuilder};
    use utoipa::openapi::request_body::RequestBodyBuilder;

    use super::*;

    fn statuses(op: &Operation) -> Vec<&str> {
        op.responses.responses.keys().map(String::as_str).collect()
    }

    fn modified(op: Operation) -> Operation {
        let mut item = PathItem::default();
        item.post = Some(op);
        let mut doc = ApiDoc::openapi();
        doc.paths.paths.insert("/x/{id}".into(), item);
        SharedResponses.modify(&mut doc);
        let mut item = doc.paths.paths.remove("/x/{id}").expect("path kept");
        item.post.take().expect("operation kept")
    }

    #[test]
    fn an_anonymous_operation_without_input_gets_only_500_and_503() {
        let op = modified(OperationBuilder::new().build());
        assert_eq!(statuses(&op), ["500", "503"]);
    }

    #[test]
    fn shape_decides_the_shared_responses() {
        let op = OperationBuilder::new()
            .security(SecurityRequirement::new(BEARER, Vec::<String>::new()))
            .request_body(Some(RequestBodyBuilder::new().build()))
            .parameter(
                ParameterBuilder::new()
                    .name("id")
                    .parameter_in(ParameterIn::Path),
            )
            .parameter(
                ParameterBuilder::new()
                    .name("q")
                    .parameter_in(ParameterIn::Query),
            )
            .build();
        let op = modified(op);
        assert_eq!(
            statuses(&op),
            ["400", "401", "413", "415", "429", "500", "503"]
        );
        let RefOr::T(bad) = &op.responses.responses["400"] else {
            panic!("400 is inline")
        };
        for code in [
            "malformed_json",
            "invalid_body",
            "invalid_path",
            "invalid_query",
        ] {
            assert!(bad.description.contains(code), "{}", bad.description);
        }
        assert!(bad.content.contains_key("application/json"));
    }

    #[test]
    fn a_handlers_own_codes_come_first_and_stay() {
        let op = OperationBuilder::new()
            .parameter(
                ParameterBuilder::new()
                    .name("id")
                    .parameter_in(ParameterIn::Path),
            )
            .response("400", Response::new("`invalid_limit`"))
            .build();
        let op = modified(op);
        let RefOr::T(bad) = &op.responses.responses["400"] else {
            panic!("400 is inline")
        };
        assert!(
            bad.description
                .starts_with("`invalid_limit`; `invalid_path`")
        );
    }
}
