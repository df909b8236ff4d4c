//! Building blocks shared by the contracts, mirroring `contracts/common.ts`: the version literal,
//! checked strings (lengths counted in UTF-16 code units, like JavaScript), safe integers (which
//! accept `1.0` for `1` and refuse anything beyond 2^53 − 1, as zod does) and the principal.

use std::sync::OnceLock;

use regex::Regex;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Largest integer JavaScript represents exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// Deepest nesting of arrays/objects a document may have (the document itself is depth 1).
pub const MAX_DOCUMENT_DEPTH: usize = 64;

/// Length of a string as JavaScript counts it (UTF-16 code units).
pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Checks length bounds and an optional anchored pattern; `what` names the expectation.
pub fn check_string(
    s: &str,
    min: usize,
    max: usize,
    pattern: Option<&Regex>,
    what: &str,
) -> Result<(), String> {
    let len = utf16_len(s);
    if len < min || len > max {
        return Err(format!(
            "expected {what} of {min}..={max} UTF-16 units, got {len}"
        ));
    }
    if let Some(re) = pattern {
        if !re.is_match(s) {
            return Err(format!("expected {what}, got {s:?}"));
        }
    }
    Ok(())
}

/// Compiles a pattern once per call site.
pub fn cached_regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("contract patterns are valid"))
}

/// Defines a string newtype validated on deserialization.
macro_rules! checked_string {
    ($(#[$meta:meta])* $name:ident, $min:expr, $max:expr, $pattern:expr, $what:expr) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
                let pattern: Option<&str> = $pattern;
                let re = pattern.map(|p| $crate::contracts::common::cached_regex(&RE, p));
                $crate::contracts::common::check_string(&s, $min, $max, re, $what)?;
                Ok(Self(s))
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl $name {
            /// The validated string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}
pub(crate) use checked_string;

/// Declares a contract struct in which a member written `pub name?: T` is a zod `.optional()`
/// member: an `Option<T>` that may be absent, is left out when `None`, and refuses `null`
/// (`present`). Attributes and doc comments (struct and members) and other members pass through
/// unchanged and in order. Members must be `pub`.
macro_rules! contract_struct {
    // An optional member.
    (@munch $head:tt [$($done:tt)*]
        $(#[$fmeta:meta])* pub $field:ident ?: $ty:ty $(, $($rest:tt)*)?) => {
        $crate::contracts::common::contract_struct!(@munch $head [
            $($done)*
            $(#[$fmeta])*
            #[serde(
                default,
                skip_serializing_if = "Option::is_none",
                deserialize_with = "crate::contracts::common::present"
            )]
            pub $field: Option<$ty>,
        ] $($($rest)*)?);
    };
    // A required member.
    (@munch $head:tt [$($done:tt)*]
        $(#[$fmeta:meta])* pub $field:ident : $ty:ty $(, $($rest:tt)*)?) => {
        $crate::contracts::common::contract_struct!(@munch $head [
            $($done)*
            $(#[$fmeta])*
            pub $field: $ty,
        ] $($($rest)*)?);
    };
    (@munch [$($head:tt)*] [$($done:tt)*]) => {
        $($head)* { $($done)* }
    };
    ($(#[$meta:meta])* pub struct $name:ident $(<$param:ident>)? { $($body:tt)* }) => {
        $crate::contracts::common::contract_struct!(
            @munch [$(#[$meta])* pub struct $name $(<$param>)?] [] $($body)*
        );
    };
}
pub(crate) use contract_struct;

checked_string!(
    /// Opaque non-empty identifier (request, session, principal…), at most 256 units.
    Id, 1, 256, None, "a non-empty id");
checked_string!(
    /// Qualified tool name such as `workspace__read`.
    ToolName, 1, 128, Some(r"^[A-Za-z0-9_./-]{1,128}$"), "a tool name");
checked_string!(
    /// Lower-case SHA-256 hex digest.
    Sha256Hex, 64, 64, Some(r"^[0-9a-f]{64}$"), "a lower-case SHA-256 hex digest");
checked_string!(
    /// RFC 3339 date-time with upper-case `T`/`Z`.
    Timestamp, 0, usize::MAX,
    Some(r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"),
    "an RFC 3339 date-time");
checked_string!(
    /// UPPER_SNAKE reason code from `contracts/reason-codes.json`.
    ReasonCode, 0, 64, Some(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$"), "an UPPER_SNAKE reason code");
checked_string!(
    /// Data class found by the sanitizer, e.g. `payment_card`.
    DataClass, 0, usize::MAX, Some(r"^[a-z][a-z0-9_]{0,63}$"), "a lower_snake data class");
checked_string!(
    /// Model provider id.
    ProviderId, 0, usize::MAX, Some(r"^[a-z0-9][a-z0-9_-]{0,63}$"), "a provider id");
checked_string!(
    /// Non-empty string of at most 128 units.
    Name128, 1, 128, None, "a non-empty string");
checked_string!(
    /// Non-empty string of at most 256 units.
    Name256, 1, 256, None, "a non-empty string");
checked_string!(
    /// Non-empty string of at most 2048 units.
    Name2048, 1, 2048, None, "a non-empty string");
checked_string!(
    /// Non-empty string of at most 4096 units.
    Text4096, 1, 4096, None, "a non-empty string");
checked_string!(
    /// Possibly empty string of at most 4096 units.
    Message, 0, 4096, None, "a string");

/// The `"v": 1` member. Accepts any JSON number equal to 1 (`1`, `1.0`, `1e0`), like zod.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct V1;

impl Serialize for V1 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(1)
    }
}

impl<'de> Deserialize<'de> for V1 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V1Visitor;
        impl Visitor<'_> for V1Visitor {
            type Value = V1;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("the contract version 1")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<V1, E> {
                if n == 1 {
                    Ok(V1)
                } else {
                    Err(E::custom(format!("unsupported contract version {n}")))
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<V1, E> {
                if n == 1 {
                    Ok(V1)
                } else {
                    Err(E::custom(format!("unsupported contract version {n}")))
                }
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<V1, E> {
                if n == 1.0 {
                    Ok(V1)
                } else {
                    Err(E::custom(format!("unsupported contract version {n}")))
                }
            }
        }
        d.deserialize_any(V1Visitor)
    }
}

/// A safe integer in `MIN..=MAX`. Integral floats (`3.0`, `1e2`, `-0`) are accepted, as in zod.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SafeInt<const MIN: i64, const MAX: i64>(pub i64);

impl<'de, const MIN: i64, const MAX: i64> Deserialize<'de> for SafeInt<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IntVisitor<const MIN: i64, const MAX: i64>;
        impl<const MIN: i64, const MAX: i64> IntVisitor<MIN, MAX> {
            fn within<E: de::Error>(n: i128) -> Result<SafeInt<MIN, MAX>, E> {
                if n < i128::from(MIN) || n > i128::from(MAX) {
                    return Err(E::custom(format!(
                        "expected an integer in {MIN}..={MAX}, got {n}"
                    )));
                }
                Ok(SafeInt(n as i64))
            }
        }
        impl<const MIN: i64, const MAX: i64> Visitor<'_> for IntVisitor<MIN, MAX> {
            type Value = SafeInt<MIN, MAX>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "an integer in {MIN}..={MAX}")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Self::within(i128::from(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Self::within(i128::from(n))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
                // Beyond 2^53 every f64 is integral, so the range check decides; MAX ≤ 2^53 − 1.
                if !n.is_finite() || n.fract() != 0.0 || n.abs() > MAX_SAFE_INTEGER as f64 {
                    return Err(E::custom(format!(
                        "expected an integer in {MIN}..={MAX}, got {n}"
                    )));
                }
                Self::within(n as i128)
            }
        }
        d.deserialize_any(IntVisitor::<MIN, MAX>)
    }
}

/// A finite duration in milliseconds, `0..=86_400_000`.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Millis(pub f64);

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = f64::deserialize(d)?;
        if !(0.0..=86_400_000.0).contains(&n) {
            return Err(de::Error::custom(format!(
                "expected milliseconds in 0..=86400000, got {n}"
            )));
        }
        Ok(Millis(n))
    }
}

/// For optional members: present means a value of `T`; `null` is refused (zod's `.optional()`).
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// How the principal was established.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalVia {
    Stdio,
    ApiKey,
    Jwt,
    Anonymous,
}

/// The caller as established by authentication.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Principal {
    pub id: Id,
    pub roles: Vec<Name128>,
    pub authenticated: bool,
    pub via: PrincipalVia,
}

/// One reason attached to a decision or result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub code: ReasonCode,
    pub message: Message,
}

/// A JSON object with arbitrary members.
pub type JsonObject = serde_json::Map<String, serde_json::Value>;
