//! Password hashing with Argon2id at (at least) OWASP's minimum cost: m = 19 MiB, t = 2, p = 1.
//!
//! Hashing is deliberately slow and synchronous; callers run it off the async executor. The
//! salt comes from the caller's random source so tests can control it.

use argon2::password_hash::{
    Output, ParamsString, PasswordHash as PhcHash, PasswordHasher as _, PasswordVerifier,
    SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version as ArgonVersion};
use base64::Engine;
use sha2::{Digest, Sha256};

/// A PHC-format Argon2id hash. Never serialized as is: see [`serialize_masked`].
///
/// A value read back from API JSON (a Message's `customer`) holds only the masked form; it
/// serializes the same way but never verifies a password.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

/// Masked values read back from JSON start with this, which no PHC string does.
const MASK_PREFIX: &str = "****";

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(****)")
    }
}

impl PasswordHash {
    /// Wraps a PHC string read back from storage.
    pub fn from_phc(phc: String) -> Self {
        PasswordHash(phc)
    }

    /// The PHC string, for storage only.
    pub fn as_phc(&self) -> &str {
        &self.0
    }

    /// A hash known only by its masked form (read back from API JSON).
    pub fn from_masked(masked: String) -> Self {
        PasswordHash(masked)
    }

    /// Whether this holds only the masked form, not a real hash.
    pub fn is_masked_only(&self) -> bool {
        self.0.starts_with(MASK_PREFIX)
    }

    /// What the API shows instead of the password: `****` and a short fingerprint of the hash,
    /// like commercetools' `"****aGg="`. It changes whenever the password changes.
    pub fn masked(&self) -> String {
        if self.is_masked_only() {
            return self.0.clone();
        }
        let digest = Sha256::digest(self.0.as_bytes());
        let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        format!("****{}=", &b64[..3])
    }
}

/// Serde helper: serializes a stored hash as its masked form.
pub fn serialize_masked<S: serde::Serializer>(
    hash: &Option<PasswordHash>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match hash {
        Some(h) => s.serialize_str(&h.masked()),
        None => s.serialize_none(),
    }
}

/// Serde helper: reads a masked `password` back (never a real hash: JSON never carries one).
pub fn deserialize_masked<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<PasswordHash>, D::Error> {
    use serde::Deserialize;
    Ok(Option::<String>::deserialize(d)?.map(|m| {
        if m.starts_with(MASK_PREFIX) {
            PasswordHash(m)
        } else {
            PasswordHash(format!("{MASK_PREFIX}{m}"))
        }
    }))
}

/// Hashes and verifies passwords with fixed Argon2id parameters.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    dummy: PasswordHash,
}

/// Why hashing failed (only with impossible parameters or salts).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

impl PasswordHasher {
    /// OWASP's minimum for Argon2id: 19 MiB memory, 2 iterations, 1 lane.
    pub fn owasp() -> Result<Self, HashError> {
        Self::with_params(19 * 1024, 2, 1)
    }

    /// Custom cost; `m_kib` must be at least 8 × `p`.
    pub fn with_params(m_kib: u32, t: u32, p: u32) -> Result<Self, HashError> {
        let params = Params::new(m_kib, t, p, None).map_err(|e| HashError(e.to_string()))?;
        let argon = Argon2::new(Algorithm::Argon2id, ArgonVersion::V0x13, params.clone());
        // A fixed salt is fine here: the dummy hash only exists to burn the same time as a
        // real verification when the email is unknown.
        let salt = SaltString::encode_b64(b"clientele-dummy-salt")
            .map_err(|e| HashError(e.to_string()))?;
        let dummy = argon
            .hash_password(b"clientele-dummy-password", &salt)
            .map_err(|e| HashError(e.to_string()))?
            .to_string();
        Ok(PasswordHasher {
            params,
            dummy: PasswordHash(dummy),
        })
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(
            Algorithm::Argon2id,
            ArgonVersion::V0x13,
            self.params.clone(),
        )
    }

    /// Hashes `password` with a 16-byte `salt` supplied by the caller's random source.
    pub fn hash(&self, password: &str, salt: [u8; 16]) -> Result<PasswordHash, HashError> {
        let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
        let phc = self
            .argon()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| HashError(e.to_string()))?
            .to_string();
        Ok(PasswordHash(phc))
    }

    /// [`PasswordHasher::hash`] computed in `memory` instead of a fresh allocation: a worker
    /// that keeps its `HashMemory` skips allocating and faulting in 19 MiB per hash. The PHC
    /// string is byte-identical to `hash`'s.
    pub fn hash_in(
        &self,
        password: &str,
        salt: [u8; 16],
        memory: &mut HashMemory,
    ) -> Result<PasswordHash, HashError> {
        let err = |e: &dyn std::fmt::Display| HashError(e.to_string());
        let salt_b64 = SaltString::encode_b64(&salt).map_err(|e| err(&e))?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.argon()
            .hash_password_into_with_memory(
                password.as_bytes(),
                &salt,
                &mut out,
                memory.blocks(self.params.block_count()),
            )
            .map_err(|e| err(&e))?;
        let phc = PhcHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(ArgonVersion::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(|e| err(&e))?,
            salt: Some(salt_b64.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| err(&e))?),
        };
        Ok(PasswordHash(phc.to_string()))
    }

    /// [`PasswordHasher::verify`] computed in `memory` (see [`PasswordHasher::hash_in`]).
    pub fn verify_in(
        &self,
        password: &str,
        hash: Option<&PasswordHash>,
        memory: &mut HashMemory,
    ) -> bool {
        let hash = hash.filter(|h| !h.is_masked_only());
        let target = hash.unwrap_or(&self.dummy);
        let ok = PhcHash::new(&target.0)
            .ok()
            .and_then(|parsed| recompute_matches(&parsed, password, memory))
            .unwrap_or(false);
        // A hash of a higher cost (imported from elsewhere) grew the memory past this
        // hasher's own cost: free it, so one odd hash cannot pin that much memory per worker.
        memory.bound(self.params.block_count());
        ok && hash.is_some()
    }

    /// Whether `password` matches `hash`. With `None` (unknown account or no password) it
    /// verifies against a dummy hash so the answer takes as long, then returns false.
    pub fn verify(&self, password: &str, hash: Option<&PasswordHash>) -> bool {
        let hash = hash.filter(|h| !h.is_masked_only());
        let target = hash.unwrap_or(&self.dummy);
        let ok = PhcHash::new(&target.0)
            .map(|parsed| {
                self.argon()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && hash.is_some()
    }
}

/// The memory an Argon2 computation works in, kept by a hashing worker between hashes.
#[derive(Default)]
pub struct HashMemory(Vec<Block>);

impl HashMemory {
    /// At least `count` blocks; Argon2 overwrites every block it reads, so old contents are
    /// harmless.
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() < count {
            self.0.resize(count, Block::default());
        }
        &mut self.0[..count]
    }

    /// Frees the memory when it holds more than `count` blocks (the next hash allocates what
    /// it needs again); keeps it otherwise.
    fn bound(&mut self, count: usize) {
        if self.0.len() > count {
            self.0 = Vec::new();
        }
    }
}

/// Recomputes an Argon2 PHC hash with its own parameters in `memory`; whether it matches
/// (compared in constant time by `Output`). `None` for a hash that is not Argon2's.
fn recompute_matches(
    parsed: &PhcHash<'_>,
    password: &str,
    memory: &mut HashMemory,
) -> Option<bool> {
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = ArgonVersion::try_from(parsed.version.unwrap_or(0x13)).ok()?;
    let expected = parsed.hash?;
    // The PHC string's own parameters, all of them: cost, `keyid`, `data` (associated data,
    // which enters the computation) and the output length of the stored hash.
    let params = Params::try_from(parsed).ok()?;
    let mut salt = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
    let mut out = vec![0u8; expected.len()];
    let count = params.block_count();
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory.blocks(count))
        .ok()?;
    Some(Output::new(&out).ok()? == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::with_params(1024, 1, 1).unwrap()
    }

    #[test]
    fn hashing_in_reused_memory_gives_the_same_phc_and_verifies() {
        let h = cheap();
        let mut memory = HashMemory::default();
        for (pw, salt) in [("secret123", [7; 16]), ("other", [9; 16])] {
            let reused = h.hash_in(pw, salt, &mut memory).unwrap();
            assert_eq!(reused, h.hash(pw, salt).unwrap());
            assert!(h.verify_in(pw, Some(&reused), &mut memory));
            assert!(!h.verify_in("wrong", Some(&reused), &mut memory));
        }
        assert!(!h.verify_in("clientele-dummy-password", None, &mut memory));
        // A hash of another cost still verifies with its own parameters.
        let other = PasswordHasher::with_params(2048, 2, 1).unwrap();
        let theirs = other.hash("pw", [5; 16]).unwrap();
        assert!(h.verify_in("pw", Some(&theirs), &mut memory));
        assert!(!h.verify_in("px", Some(&theirs), &mut memory));
    }

    /// A PHC string made elsewhere with associated data (`data=`), a key id, a 64-byte output
    /// and another cost verifies with exactly those parameters.
    #[test]
    fn hashes_with_other_parameters_verify_with_their_own() {
        use argon2::{AssociatedData, KeyId, ParamsBuilder};
        let params = ParamsBuilder::new()
            .m_cost(2048)
            .t_cost(3)
            .p_cost(2)
            .data(AssociatedData::new(b"tenant-7").unwrap())
            .keyid(KeyId::new(b"k1").unwrap())
            .output_len(64)
            .build()
            .unwrap();
        let argon = Argon2::new(Algorithm::Argon2id, ArgonVersion::V0x13, params);
        let salt = SaltString::encode_b64(&[4; 16]).unwrap();
        let phc = argon
            .hash_password(b"their secret", &salt)
            .unwrap()
            .to_string();
        assert!(phc.contains(",keyid=") && phc.contains(",data="), "{phc}");
        let theirs = PasswordHash::from_phc(phc);
        let h = cheap();
        let mut memory = HashMemory::default();
        assert!(h.verify_in("their secret", Some(&theirs), &mut memory));
        assert!(!h.verify_in("their secreT", Some(&theirs), &mut memory));
        assert!(h.verify("their secret", Some(&theirs)));
        assert!(!h.verify("their secreT", Some(&theirs)));
    }

    /// Memory grown by a costlier hash is freed after it; memory of the own cost is kept.
    #[test]
    fn memory_is_bounded_by_the_configured_cost() {
        let h = cheap(); // 1024 KiB = 1024 blocks
        let mut memory = HashMemory::default();
        let own = h.hash_in("pw", [1; 16], &mut memory).unwrap();
        assert!(h.verify_in("pw", Some(&own), &mut memory));
        assert_eq!(memory.0.len(), 1024);
        let costly = PasswordHasher::with_params(8 * 1024, 1, 1)
            .unwrap()
            .hash("pw", [2; 16])
            .unwrap();
        assert!(h.verify_in("pw", Some(&costly), &mut memory));
        assert_eq!(memory.0.len(), 0, "an 8 MiB block stayed pinned");
        assert!(h.verify_in("pw", Some(&own), &mut memory));
        assert_eq!(memory.0.len(), 1024);
    }

    #[test]
    fn hash_verifies_only_the_right_password() {
        let h = cheap();
        let hash = h.hash("secret123", [7; 16]).unwrap();
        assert!(hash.as_phc().starts_with("$argon2id$"));
        assert!(h.verify("secret123", Some(&hash)));
        assert!(!h.verify("secret124", Some(&hash)));
    }

    #[test]
    fn unknown_account_never_verifies() {
        let h = cheap();
        assert!(!h.verify("clientele-dummy-password", None));
    }

    #[test]
    fn owasp_parameters_are_in_the_hash() {
        let h = PasswordHasher::owasp().unwrap();
        let hash = h.hash("pw", [1; 16]).unwrap();
        assert!(
            hash.as_phc().contains("m=19456,t=2,p=1"),
            "{}",
            hash.as_phc()
        );
    }

    #[test]
    fn masked_only_values_round_trip_and_never_verify() {
        let h = cheap();
        let real = h.hash("pw", [3; 16]).unwrap();
        let back = PasswordHash::from_masked(real.masked());
        assert!(back.is_masked_only());
        assert_eq!(back.masked(), real.masked());
        assert!(!h.verify("pw", Some(&back)));
    }

    #[test]
    fn masked_form_hides_the_hash_and_changes_with_it() {
        let h = cheap();
        let a = h.hash("a", [1; 16]).unwrap();
        let b = h.hash("b", [1; 16]).unwrap();
        assert!(a.masked().starts_with("****"));
        assert_eq!(a.masked().len(), 8);
        assert_ne!(a.masked(), b.masked());
        assert!(!format!("{a:?}").contains("argon"));
    }
}
