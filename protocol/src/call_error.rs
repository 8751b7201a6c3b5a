//! A call to the core that failed, as the session reports it to the client.

/// A failed call: the stable code and the human message of its error frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CallError {
    /// Stable machine-readable code, e.g. `not_a_member`.
    pub code: String,
    /// Human explanation.
    pub message: String,
}

impl CallError {
    /// A failure with this code and message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}
