//! `GET /api/v1/discover`: the edges a client may connect to, best first
//! for its region, so it can pick one and move to the next when one fails.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiResult;
use super::extract::ApiQuery;
use crate::Edge;
use crate::error::{ApiError, ErrorBody};
use crate::peers::EdgeOffer;

/// The longest region name.
pub const MAX_REGION_CHARS: usize = 64;

/// Whose region to rank for.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiscoverParams {
    /// The client's region (1 to 64 letters, digits, `-` or `_`); without
    /// it the edges are ranked by load alone.
    pub region: Option<String>,
}

/// The edges that take connections now.
#[derive(Debug, Serialize, ToSchema)]
pub struct EdgeList {
    /// Best first: those in the client's region, then the less loaded.
    /// Full edges are left out.
    pub edges: Vec<EdgeOffer>,
}

/// The live edges that take connections, those in `region` first, then
/// the less loaded; open to anyone, before signing in.
#[utoipa::path(get, path = "/api/v1/discover", tag = "discovery",
    params(DiscoverParams),
    responses(
        (status = 200, description = "The edges, best first", body = EdgeList),
        (status = 400, description = "`invalid_region`", body = ErrorBody)))]
pub async fn discover(
    State(edge): State<Arc<Edge>>,
    ApiQuery(params): ApiQuery<DiscoverParams>,
) -> ApiResult<Json<EdgeList>> {
    let region = params.region.unwrap_or_default();
    check_region(&region)?;
    Ok(Json(EdgeList {
        edges: edge.offer(&region),
    }))
}

fn check_region(region: &str) -> Result<(), ApiError> {
    let fine = region.chars().count() <= MAX_REGION_CHARS
        && region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if fine {
        return Ok(());
    }
    Err(ApiError::new(
        400,
        "invalid_region",
        format!("region must be at most {MAX_REGION_CHARS} letters, digits, '-' or '_'"),
    ))
}
