//! Secrets in config: either `{ env = "NAME" }` (read from the environment at load time) or an
//! inline string for local, uncommitted files. Printing never shows the value.
//!
//! A module of its own so the sources, reply accounts and chat channels that hold one need
//! nothing else of `config`. It must not read anything but the one variable a secret names,
//! and only while config is parsed.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::de::{self, MapAccess, Visitor};

/// A token, password or secret URL. `Debug` and `Serialize` redact it.
#[derive(Clone)]
pub struct Secret {
    value: SecretString,
    origin: Origin,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Origin {
    Env(String),
    Inline,
}

impl Secret {
    /// A secret given directly (tests and generated demo configs).
    pub fn inline(value: impl Into<String>) -> Secret {
        Secret {
            value: SecretString::from(value.into()),
            origin: Origin::Inline,
        }
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        self.value.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::Env(name) => write!(f, "Secret(env {name}, redacted)"),
            Origin::Inline => f.write_str("Secret(redacted)"),
        }
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match &self.origin {
            Origin::Env(name) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("env", name)?;
                map.end()
            }
            Origin::Inline => serializer.serialize_str("<redacted>"),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SecretVisitor)
    }
}

struct SecretVisitor;

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a string or { env = "VARIABLE" }"#)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Secret, E> {
        if value.is_empty() {
            return Err(E::custom("secret is empty"));
        }
        Ok(Secret::inline(value))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Secret, A::Error> {
        let mut name: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != "env" {
                return Err(de::Error::unknown_field(&key, &["env"]));
            }
            name = Some(map.next_value()?);
        }
        let name = name.ok_or_else(|| de::Error::missing_field("env"))?;
        #[allow(
            clippy::disallowed_methods,
            reason = "a secret named in config is read while config is parsed"
        )]
        let value =
            std::env::var(&name).map_err(|_| de::Error::custom(format!("environment variable {name} is not set")))?;
        if value.is_empty() {
            return Err(de::Error::custom(format!("environment variable {name} is empty")));
        }
        Ok(Secret {
            value: SecretString::from(value),
            origin: Origin::Env(name),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, serde::Serialize)]
    struct Holder {
        token: Secret,
    }

    #[test]
    fn inline_secrets_are_redacted_in_debug_and_serialisation() {
        let holder: Holder = toml::from_str(r#"token = "hunter2""#).unwrap();

        assert_eq!(holder.token.expose(), "hunter2");
        assert!(!format!("{holder:?}").contains("hunter2"));
        assert!(!toml::to_string(&holder).unwrap().contains("hunter2"));
    }

    #[test]
    fn env_secrets_name_the_missing_variable() {
        let err = toml::from_str::<Holder>(r#"token = { env = "EARSHOT_TEST_SURELY_UNSET_VAR" }"#).unwrap_err();

        assert!(
            err.to_string().contains("EARSHOT_TEST_SURELY_UNSET_VAR is not set"),
            "{err}"
        );
    }
}
