//! Secrets: masked in everything Sundial writes ([`Redactor`]), kept in the OS keychain where
//! one is reachable ([`Vault`]), and known to the application log's writer
//! ([`KnownSecrets`]). See decisions/0011.

pub mod keychain;
pub mod known;
pub mod redact;
pub mod vault;

pub use keychain::{Keychain, KeychainError, MemoryKeychain, OsKeychain};
pub use known::{KnownSecrets, RedactingWriter};
pub use redact::{Redactor, StreamRedactor};
pub use vault::{
    KEYCHAIN_REF_PREFIX, Moved, SecretLocation, SecretStorage, SecretStoreStatus, Vault,
    is_reference, unreadable_secrets,
};
