//! The HTTP surface: REST API, WebSocket upgrade, ops endpoints, the
//! OpenAPI document generated from the same handlers, and the web client.

mod accounts;
mod bots;
mod browse;
mod channels;
mod client;
mod commands;
mod discover;
mod edits;
pub mod extract;
mod fallback;
mod groups;
mod limits;
mod members;
mod messages;
mod openapi;
pub mod ops;
mod push;
mod sessions;
mod social;
pub mod user_limit;
mod web;
mod webhooks;
mod webtransport;

pub use user_limit::UserLimiter;

use std::sync::Arc;

use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Edge;
use crate::error::ApiError;

/// A handler's result.
pub type ApiResult<T> = Result<T, ApiError>;

/// A field the core always fills; its absence is a bug, reported as 500.
pub(crate) fn need<T>(value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::new(500, "internal", "incomplete reply from core"))
}

/// The JSON response for an error, with `Retry-After` when it says when.
pub fn error_response(err: ApiError) -> Response {
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Json(err.body())).into_response();
    if let Some(ms) = err.retry_after_ms {
        let secs = ms.div_ceil(1000).max(1);
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, secs.into());
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(self)
    }
}

/// The REST routes and their OpenAPI document, from one list. Every
/// operation gets the responses its shape implies from
/// [`openapi::SharedResponses`]; see that module for what a new endpoint
/// declares.
fn api() -> (axum::Router<Arc<Edge>>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(accounts::signup))
        .routes(routes!(accounts::login))
        .routes(routes!(accounts::logout))
        .routes(routes!(sessions::logout_all))
        .routes(routes!(sessions::refresh))
        .routes(routes!(sessions::list))
        .routes(routes!(sessions::end))
        .routes(routes!(sessions::change_password))
        .routes(routes!(accounts::me, social::update_profile))
        .routes(routes!(social::settings, social::update_settings))
        .routes(routes!(social::relationships))
        .routes(routes!(social::change_relationship))
        .routes(routes!(accounts::user_by_id))
        .routes(routes!(accounts::user_by_name))
        .routes(routes!(browse::search_users))
        .routes(routes!(channels::list, channels::create_group))
        .routes(routes!(channels::open_direct))
        .routes(routes!(channels::get, groups::rename, groups::delete))
        .routes(routes!(channels::add_member, channels::remove_member))
        .routes(routes!(members::list))
        .routes(routes!(groups::set_role))
        .routes(routes!(groups::transfer))
        .routes(routes!(messages::history, messages::send))
        .routes(routes!(edits::edit, edits::delete))
        .routes(routes!(edits::mark_read))
        .routes(routes!(browse::channel_reads))
        .routes(routes!(edits::versions))
        .routes(routes!(discover::discover))
        .routes(routes!(push::register, push::list))
        .routes(routes!(push::remove))
        .routes(routes!(push::config))
        .routes(routes!(bots::create, bots::list))
        .routes(routes!(bots::rotate, bots::revoke))
        .routes(routes!(webhooks::set, webhooks::get, webhooks::remove))
        .routes(routes!(commands::run))
        .routes(routes!(commands::ephemeral))
        .split_for_parts();
    openapi::SharedResponses.modify(&mut doc);
    (router, doc)
}

/// The OpenAPI document of the REST API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().1
}

/// Every route of the server.
pub fn router(edge: Arc<Edge>) -> axum::Router {
    let (api, doc) = api();
    // Serialised once: the document is fixed for the life of the process.
    let doc = axum::body::Bytes::from(doc.to_json().unwrap_or_default());
    let json = [(axum::http::header::CONTENT_TYPE, "application/json")];
    api.route(
        "/api/v1/openapi.json",
        get(move || async move { (json, doc.clone()) }),
    )
    .route("/ws", get(crate::ws::upgrade))
    .route("/webtransport/cert-hash", get(webtransport::cert_hash))
    .route("/healthz", get(ops::healthz))
    .route("/readyz", get(ops::readyz))
    .route("/metrics", get(ops::metrics))
    .merge(web::routes())
    .fallback_service(web::fallback_service())
    // After every route: it applies to the routes registered before it.
    .method_not_allowed_fallback(fallback::method_not_allowed)
    .layer(DefaultBodyLimit::max(edge.config.max_body_bytes))
    .layer(axum::middleware::from_fn_with_state(
        edge.clone(),
        webtransport::alt_svc,
    ))
    .layer(axum::middleware::from_fn_with_state(
        edge.config.max_body_bytes,
        limits::declared_length,
    ))
    .with_state(edge)
}
