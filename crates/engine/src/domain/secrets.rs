//! The secrets of a job: which values are secret, the one rule for a masked value saved back,
//! and the shortest secret allowed (decisions/0011).

use super::job::{EnvVar, JobKind, JobSpec, SECRET_MASK};
use super::validate::ValidationErrors;

/// Secrets shorter than this are refused: masking every "ab" in a log would mangle it, and a
/// value that short is no secret anyway.
pub const SECRET_MIN_CHARS: usize = 4;

/// Where a secret sits in a job: an environment variable or an HTTP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretPlace {
    Env,
    Header,
}

impl SecretPlace {
    /// The field path prefix of this place's list (`kind.env`, `kind.headers`).
    pub fn field(self) -> &'static str {
        match self {
            SecretPlace::Env => "kind.env",
            SecretPlace::Header => "kind.headers",
        }
    }

    /// A short word for keychain entry names.
    pub fn slug(self) -> &'static str {
        match self {
            SecretPlace::Env => "env",
            SecretPlace::Header => "header",
        }
    }
}

/// The name/value list of a job kind, with its place.
pub fn vars(kind: &JobKind) -> (SecretPlace, &[EnvVar]) {
    match kind {
        JobKind::Command(c) => (SecretPlace::Env, &c.env),
        JobKind::Http(h) => (SecretPlace::Header, &h.headers),
    }
}

/// [`vars`], to change values.
pub fn vars_mut(kind: &mut JobKind) -> (SecretPlace, &mut Vec<EnvVar>) {
    match kind {
        JobKind::Command(c) => (SecretPlace::Env, &mut c.env),
        JobKind::Http(h) => (SecretPlace::Header, &mut h.headers),
    }
}

/// Every value marked secret, as stored (empty values left out).
pub fn secret_values(kind: &JobKind) -> Vec<&str> {
    let (_, list) = vars(kind);
    list.iter()
        .filter(|v| v.secret && !v.value.is_empty())
        .map(|v| v.value.as_str())
        .collect()
}

/// Whether a value is the mask shown in place of a secret.
pub fn is_mask(value: &str) -> bool {
    value == SECRET_MASK
}

/// The one rule for masked secrets: a job is shown with its secrets masked, and a value that
/// comes back as the mask (an edit of another field, a file exported without
/// `--include-secrets`) keeps the value stored for the secret of the same name in `previous`.
/// A mask with nothing stored behind it is refused: it would be stored as the value.
pub fn keep_masked_secrets(
    spec: &mut JobSpec,
    previous: Option<&JobSpec>,
) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let (place, list) = vars_mut(&mut spec.kind);
    for (i, var) in list.iter_mut().enumerate() {
        if !(var.secret && is_mask(&var.value)) {
            continue;
        }
        let stored = previous.and_then(|p| {
            let (stored_place, stored) = vars(&p.kind);
            (stored_place == place)
                .then(|| stored.iter().find(|o| o.secret && o.name == var.name))
                .flatten()
        });
        match stored {
            Some(old) => var.value = old.value.clone(),
            None => errors.push(
                format!("{}[{i}].value", place.field()),
                format!(
                    "is the mask of secret {:?}, not its value, and no stored value is there to keep: write the real value (a file exported without --include-secrets holds masks; import it over the same job to keep its stored values)",
                    var.name
                ),
            ),
        }
    }
    errors.into_result()
}

/// Field errors for secrets that are too short (see [`SECRET_MIN_CHARS`]). A mask or an empty
/// value is left to the other rules.
pub(crate) fn validate_secret_lengths(kind: &JobKind, errors: &mut ValidationErrors) {
    let (place, list) = vars(kind);
    for (i, var) in list.iter().enumerate() {
        let chars = var.value.chars().count();
        if var.secret && !is_mask(&var.value) && chars < SECRET_MIN_CHARS {
            let what = match place {
                SecretPlace::Env => "variable",
                SecretPlace::Header => "header",
            };
            errors.push(
                format!("{}[{i}].value", place.field()),
                format!(
                    "is {chars} character{} long: a secret {what} needs at least {SECRET_MIN_CHARS} characters (shorter values would be masked all over the logs); unmark it as secret if it is not one",
                    if chars == 1 { "" } else { "s" }
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CommandSpec, Program};

    fn spec(env: Vec<EnvVar>) -> JobSpec {
        JobSpec {
            name: "j".into(),
            description: String::new(),
            tags: vec![],
            enabled: true,
            kind: JobKind::Command(CommandSpec {
                program: Program::Exec {
                    program: "true".into(),
                    args: vec![],
                },
                working_dir: None,
                env,
            }),
            trigger: crate::domain::Trigger::Manual,
            policies: Default::default(),
        }
    }

    #[test]
    fn a_mask_keeps_the_stored_value_and_a_mask_without_one_is_refused() {
        let stored = spec(vec![EnvVar::secret("TOKEN", "real-value")]);
        let mut edited = spec(vec![
            EnvVar::secret("TOKEN", SECRET_MASK),
            EnvVar::new("PLAIN", SECRET_MASK),
        ]);
        keep_masked_secrets(&mut edited, Some(&stored)).unwrap();
        let (_, list) = vars(&edited.kind);
        assert_eq!(list[0].value, "real-value");
        assert_eq!(
            list[1].value, SECRET_MASK,
            "a value not marked secret is kept as typed"
        );

        let mut new = spec(vec![EnvVar::secret("OTHER", SECRET_MASK)]);
        let errors = keep_masked_secrets(&mut new, Some(&stored)).unwrap_err();
        assert_eq!(errors.fields(), ["kind.env[0].value"]);
        assert!(
            errors.0[0]
                .message
                .starts_with("is the mask of secret \"OTHER\"")
        );
    }

    #[test]
    fn short_secrets_are_refused() {
        let mut errors = ValidationErrors::default();
        let s = spec(vec![
            EnvVar::secret("A", "abc"),
            EnvVar::secret("B", "abcd"),
            EnvVar::new("C", "x"),
        ]);
        validate_secret_lengths(&s.kind, &mut errors);
        assert_eq!(errors.fields(), ["kind.env[0].value"]);
        assert!(errors.0[0].message.contains("at least 4 characters"));
    }
}
