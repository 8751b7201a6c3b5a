//! A user's credential as calls on their behalf carry it to the core: the
//! gRPC metadata `authorization: Bearer <token>`, built once per session or
//! REST request and shared by its calls (the value is reference-counted).

use chat_proto::AUTHORIZATION_KEY;
use tonic::metadata::{Ascii, MetadataValue};

use crate::error::ApiError;

/// The metadata value of one token; empty when there is none yet.
#[derive(Clone, Default)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Bearer {
    /// The credential of `token`; `invalid_token` when it could not be a
    /// header value, which no token the server issues is.
    pub fn new(token: &str) -> Result<Self, ApiError> {
        format!("Bearer {token}")
            .parse()
            .map(|value| Self(Some(value)))
            .map_err(|_| {
                ApiError::unauthorized("invalid_token", "the token is not printable ASCII")
            })
    }

    /// Puts the credential on `request`; the core refuses a call on behalf
    /// of a user without one (`missing_token`).
    pub fn attach<T>(&self, request: &mut tonic::Request<T>) {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert(AUTHORIZATION_KEY, value.clone());
        }
    }
}

/// Never shows the token.
impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.0.is_some() { "set" } else { "none" };
        write!(f, "Bearer({state})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_travels_as_a_bearer_header_and_is_never_printed() {
        let bearer = Bearer::new("abc").expect("ascii");
        let mut request = tonic::Request::new(());
        bearer.attach(&mut request);
        let sent = request.metadata().get(AUTHORIZATION_KEY);
        assert_eq!(sent.and_then(|v| v.to_str().ok()), Some("Bearer abc"));
        assert_eq!(format!("{bearer:?}"), "Bearer(set)");
        assert!(Bearer::new("line\nbreak").is_err());

        let mut request = tonic::Request::new(());
        Bearer::default().attach(&mut request);
        assert!(request.metadata().get(AUTHORIZATION_KEY).is_none());
    }
}
