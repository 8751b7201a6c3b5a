//! Password hashing, session tokens and the rules for usernames and passwords.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::CoreError;

/// Shortest allowed username, in characters.
pub const USERNAME_MIN: usize = 3;
/// Longest allowed username, in characters.
pub const USERNAME_MAX: usize = 32;
/// Shortest allowed password, in characters.
pub const PASSWORD_MIN: usize = 8;
/// Longest allowed password, in bytes (bounds the hashing work).
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// Whether a username may hold `c`.
pub fn username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Checks a username: 3 to 32 of `a-z A-Z 0-9 _ . -`, starting with a letter or digit.
pub fn validate_username(name: &str) -> Result<(), CoreError> {
    let len = name.chars().count();
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&len)
        || !name.chars().all(username_char)
        || !starts_well
    {
        return Err(CoreError::invalid(
            "invalid_username",
            format!(
                "username must be {USERNAME_MIN} to {USERNAME_MAX} characters of letters, digits, \
                 '_', '.' or '-', starting with a letter or digit"
            ),
        ));
    }
    Ok(())
}

/// Checks a password's length.
pub fn validate_password(password: &str) -> Result<(), CoreError> {
    if password.chars().count() < PASSWORD_MIN || password.len() > PASSWORD_MAX_BYTES {
        return Err(CoreError::invalid(
            "invalid_password",
            format!(
                "password must be at least {PASSWORD_MIN} characters and at most {PASSWORD_MAX_BYTES} bytes"
            ),
        ));
    }
    Ok(())
}

/// Argon2id work factors for new password hashes. A stored hash keeps the
/// factors it was made with, so changing them never locks anyone out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    /// Memory per hash, KiB (at least 8).
    pub memory_kib: u32,
    /// Passes over the memory (at least 1).
    pub iterations: u32,
}

impl Default for PasswordCost {
    /// The OWASP recommendation the argon2 crate defaults to: 19 MiB, 2 passes.
    fn default() -> Self {
        Self {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
        }
    }
}

fn hasher(cost: PasswordCost) -> Result<Argon2<'static>, CoreError> {
    let params = Params::new(cost.memory_kib, cost.iterations, 1, None)
        .map_err(|e| CoreError::invalid("invalid_password_cost", e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with Argon2id; CPU-heavy, call off the runtime.
pub fn hash_password(password: &str, cost: PasswordCost) -> Result<String, CoreError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher(cost)?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::invalid("invalid_password", e.to_string()))
}

/// Checks a password against a stored hash; CPU-heavy, call off the runtime.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that a wrong
/// username takes as long as a wrong password.
pub fn decoy_hash(cost: PasswordCost) -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password", cost).unwrap_or_default())
}

/// A new random session token (256 bits, base64url).
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rules() {
        for ok in ["ann", "Ann_1", "a.b-c", "x23456789012345678901234567890yz"] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ab",
            "_ann",
            "ann smith",
            "ännn",
            "x234567890123456789012345678901yz",
        ] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_verify_only_when_right() {
        let hash = hash_password("correct horse", PasswordCost::default()).expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_hash_stably() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
