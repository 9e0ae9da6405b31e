//! Identifiers: ULIDs, so they sort by creation time and are safe in file names.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use ulid::Ulid;

static GENERATOR: Mutex<Option<ulid::Generator>> = Mutex::new(None);

/// A new ULID that sorts after every one this process made before (monotonic within a
/// millisecond).
fn next_ulid() -> Ulid {
    let mut guard = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    let generator = guard.get_or_insert_with(ulid::Generator::new);
    generator.generate().unwrap_or_else(|_| Ulid::new())
}

macro_rules! ulid_id {
    ($name:ident, $what:literal) => {
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
        pub struct $name(Ulid);

        impl $name {
            pub fn new() -> Self {
                Self(next_ulid())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            /// Accepts exactly a 26-character ULID, so an id can never be a path like `../x`.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                if s.len() != 26 {
                    return Err(InvalidId {
                        what: $what,
                        value: s.chars().take(64).collect(),
                    });
                }
                Ulid::from_string(s).map(Self).map_err(|_| InvalidId {
                    what: $what,
                    value: s.chars().take(64).collect(),
                })
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.to_string()
            }
        }
    };
}

ulid_id!(JobId, "job id");
ulid_id!(RunId, "run id");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} {value:?} is not valid: expected a 26-character ULID such as 01HZX3K5V6Q8W2N4M7P9R0S1T2"
)]
pub struct InvalidId {
    pub what: &'static str,
    pub value: String,
}
