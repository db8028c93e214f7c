//! Opaque secrets (access tokens, client secrets): generated from the injected random source,
//! stored only as SHA-256 hashes, compared in constant time.

use crate::clock::Random;
use base64::Engine;
use sha2::{Digest, Sha256};

/// A new URL-safe secret carrying 256 random bits.
pub fn new_secret(random: &dyn Random) -> String {
    let mut bytes = [0u8; 32];
    random.fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The hex SHA-256 of a secret: what the store keeps. Secrets are high-entropy random values,
/// so a fast hash is enough; only customer passwords need Argon2.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SecureRandom;

    #[test]
    fn secrets_are_long_and_distinct() {
        let a = new_secret(&SecureRandom);
        let b = new_secret(&SecureRandom);
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
    }

    #[test]
    fn hashes_are_stable_hex() {
        assert_eq!(hash_secret("x"), hash_secret("x"));
        assert_eq!(hash_secret("x").len(), 64);
        assert!(constant_time_eq(&hash_secret("x"), &hash_secret("x")));
        assert!(!constant_time_eq(&hash_secret("x"), &hash_secret("y")));
    }
}
