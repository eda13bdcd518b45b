//! Who may use the queue: roles, password hashing (argon2) and opaque tokens.
//!
//! Invariant: no IO. Passwords are only ever stored as argon2 PHC strings; session cookies
//! and API tokens are random, shown once, and stored as their sha256 hex digest.

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::{Output, PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use sha2::{Digest, Sha256};

/// What a user may do. Agents work tasks they claim; leads also assign, reopen and export;
/// admins can do everything. `ingest` is for API tokens only: such a token may push posts to
/// `POST /api/ingest/{source_id}` and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Lead,
    Admin,
    Ingest,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Agent, Role::Lead, Role::Admin, Role::Ingest];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Lead => "lead",
            Role::Admin => "admin",
            Role::Ingest => "ingest",
        }
    }

    /// Ingest and admin tokens may push posts.
    pub fn may_ingest(self) -> bool {
        matches!(self, Role::Ingest | Role::Admin)
    }

    /// Whether a person (a user, not a token) may have this role.
    pub fn is_for_users(self) -> bool {
        !matches!(self, Role::Ingest)
    }

    /// Leads and admins supervise: assign to others, reopen, export, act on any task.
    pub fn supervises(self) -> bool {
        matches!(self, Role::Lead | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not agent, lead or admin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?} (expected agent, lead, admin or, for tokens, ingest)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == value)
            .ok_or_else(|| UnknownRole(value.to_owned()))
    }
}

/// Password hashing failed (only on a broken RNG or absurd input).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Shortest password `user add` accepts.
pub const MIN_PASSWORD_LEN: usize = 10;

/// An argon2id PHC string with default parameters and a random salt.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| HashError(error.to_string()))
}

/// Whether `password` matches the stored PHC string; a malformed hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Most argon2 memory a stored hash may ask for (256 MiB); a hash asking for more never
/// matches, so a tampered row cannot make a login allocate without bound.
const MAX_VERIFY_BLOCKS: usize = 256 * 1024;

/// [`verify_password`] with the argon2 working memory (`m` KiB, 19 MiB by default) taken
/// from `blocks`, which grows once to the size the hash needs and is then reused. The login
/// checks call it on a small fixed pool of threads, each with its own buffer, so a flood of
/// logins reuses two buffers instead of leaving freed ones in the allocator's per-thread
/// arenas.
pub fn verify_password_reusing(password: &str, stored: &str, blocks: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(expected), Some(salt)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.hash,
        parsed.salt,
    ) else {
        return false;
    };
    let version = match parsed.version {
        Some(version) => Version::try_from(version),
        None => Ok(Version::default()),
    };
    let Ok(version) = version else {
        return false;
    };
    let mut salt_buffer = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buffer) else {
        return false;
    };
    let needed = params.block_count();
    if needed > MAX_VERIFY_BLOCKS {
        return false;
    }
    if blocks.len() < needed {
        blocks.resize(needed, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        &mut out,
        &mut blocks[..needed],
    );
    // `Output`'s equality is constant-time.
    hashed.is_ok() && Output::new(&out).is_ok_and(|out| out == expected)
}

/// A new random token (256 bits from the OS RNG through two v4 UUIDs), as 64 hex chars.
pub fn new_token() -> String {
    let a = uuid::Uuid::new_v4();
    let b = uuid::Uuid::new_v4();
    format!("{}{}", a.simple(), b.simple())
}

/// What the database keeps of a token: its sha256, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time comparison for CSRF tokens.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterx", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn the_reusing_check_agrees_with_the_library_and_keeps_its_buffer() {
        let hash = hash_password("correct horse battery").unwrap();
        let mut blocks = Vec::new();
        assert!(verify_password_reusing("correct horse battery", &hash, &mut blocks));
        let grown = blocks.len();
        assert_eq!(grown, 19 * 1024, "argon2id defaults: 19 MiB of 1 KiB blocks");
        assert!(!verify_password_reusing("correct horse batterx", &hash, &mut blocks));
        assert!(verify_password_reusing("correct horse battery", &hash, &mut blocks));
        assert_eq!(blocks.len(), grown, "the buffer is reused, not grown again");
        assert!(!verify_password_reusing("anything", "not a hash", &mut blocks));
        let greedy = hash.replace("m=19456", "m=4194304");
        assert!(!verify_password_reusing("correct horse battery", &greedy, &mut blocks));
        assert_eq!(
            blocks.len(),
            grown,
            "a hash asking for 4 GiB is refused before allocating"
        );
    }

    #[test]
    fn tokens_are_random_hex_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert!(same_secret(&a, &a.clone()) && !same_secret(&a, &b) && !same_secret(&a, "x"));
    }

    #[test]
    fn roles_parse_and_only_leads_and_admins_supervise() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!(!Role::Agent.supervises() && Role::Lead.supervises() && Role::Admin.supervises());
        assert!(!Role::Ingest.supervises() && !Role::Ingest.is_for_users());
        assert!(Role::Ingest.may_ingest() && Role::Admin.may_ingest() && !Role::Lead.may_ingest());
        assert!("root".parse::<Role>().is_err());
    }
}
