//! Redaction: rewrites the strings of a JSON value so that sanitizer findings of chosen data
//! classes no longer appear in it.
//!
//! Actions: `mask` replaces a finding with `[REDACTED:<class>]`; `hash` with
//! `[<class>:<16 hex>]`, the first 64 bits of sha256 of the span (HMAC-SHA256 when a key is
//! given, so short values such as card numbers cannot be brute-forced from the log); `drop`
//! removes every string holding a finding (an object member disappears, an array element or the
//! top-level value becomes null, so the paths of the other values stay valid); `reversible`
//! replaces each distinct finding with a numbered placeholder `[<CLASS>_<n>]` and returns the
//! mapping placeholder → original, which `restore` applies later. The TypeScript fallback does
//! exactly the same; the parity vectors in `conformance/native/` compare both.

use crate::canonical::sha256_hex;
use crate::sanitizer::{Finding, Sanitizer};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// What to do with a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RedactAction {
    Mask,
    Hash,
    Drop,
    Reversible,
}

/// Options of a redaction.
#[derive(Debug, Clone, Deserialize)]
pub struct RedactOptions {
    pub action: RedactAction,
    /// Data classes to redact; absent or empty means every class.
    #[serde(default)]
    pub classes: Option<Vec<String>>,
    /// Key for the `hash` action (HMAC-SHA256); plain sha256 without one.
    #[serde(default)]
    pub key: Option<String>,
}

/// The redacted value, the findings acted on (with paths) and, for `reversible`, the mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Redaction {
    pub value: Value,
    pub findings: Vec<Finding>,
    pub mapping: Option<Map<String, Value>>,
}

/// HMAC-SHA256 (RFC 2104) of a message.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

struct Redactor<'a> {
    sanitizer: &'a Sanitizer,
    opts: &'a RedactOptions,
    findings: Vec<Finding>,
    mapping: Map<String, Value>,
    /// (class, original) → placeholder, in order of first appearance.
    seen: Vec<(String, String, String)>,
    counters: Vec<(String, usize)>,
}

impl Redactor<'_> {
    fn wanted(&self, class: &str) -> bool {
        match &self.opts.classes {
            Some(list) if !list.is_empty() => list.iter().any(|c| c == class),
            _ => true,
        }
    }

    fn placeholder(&mut self, class: &str, original: &str) -> String {
        if let Some((_, _, p)) = self
            .seen
            .iter()
            .find(|(c, o, _)| c == class && o == original)
        {
            return p.clone();
        }
        let n = match self.counters.iter_mut().find(|(c, _)| c == class) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.counters.push((class.to_string(), 1));
                1
            }
        };
        let p = format!("[{}_{n}]", class.to_ascii_uppercase());
        self.seen
            .push((class.to_string(), original.to_string(), p.clone()));
        self.mapping
            .insert(p.clone(), Value::String(original.to_string()));
        p
    }

    fn replacement(&mut self, class: &str, span: &str) -> String {
        match self.opts.action {
            RedactAction::Mask => format!("[REDACTED:{class}]"),
            RedactAction::Hash => {
                let hex = match &self.opts.key {
                    Some(key) => hex::encode(hmac_sha256(key.as_bytes(), span.as_bytes())),
                    None => sha256_hex(span.as_bytes()),
                };
                format!("[{class}:{}]", &hex[..16])
            }
            RedactAction::Reversible => self.placeholder(class, span),
            RedactAction::Drop => String::new(),
        }
    }

    /// Redacts a string in place; false when it must be dropped.
    fn string(&mut self, s: &mut String, path: &str) -> bool {
        let found: Vec<Finding> = self
            .sanitizer
            .scan_text(s)
            .into_iter()
            .filter(|f| self.wanted(&f.class))
            .collect();
        if found.is_empty() {
            return true;
        }
        let mut out = String::with_capacity(s.len());
        let mut at = 0;
        for mut f in found {
            out.push_str(&s[at..f.start]);
            let r = self.replacement(&f.class, &s[f.start..f.end]);
            out.push_str(&r);
            at = f.end;
            f.path = Some(path.to_string());
            self.findings.push(f);
        }
        out.push_str(&s[at..]);
        *s = out;
        self.opts.action != RedactAction::Drop
    }

    /// Redacts a value in place; false when it must be dropped.
    fn walk(&mut self, value: &mut Value, path: &mut String) -> bool {
        match value {
            Value::String(s) => self.string(s, path),
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let len = path.len();
                    path.push('[');
                    path.push_str(&i.to_string());
                    path.push(']');
                    if !self.walk(item, path) {
                        *item = Value::Null;
                    }
                    path.truncate(len);
                }
                true
            }
            Value::Object(map) => {
                map.retain(|k, v| {
                    let len = path.len();
                    crate::sanitizer::push_member(path, k);
                    let keep = self.walk(v, path);
                    path.truncate(len);
                    keep
                });
                true
            }
            _ => true,
        }
    }
}

/// Redacts a value with the shipped detector table.
pub fn redact_value(value: &Value, opts: &RedactOptions) -> Redaction {
    redact_owned(Sanitizer::shared(), value.clone(), opts)
}

/// Redacts a value it owns (no copy) with a given sanitizer.
pub fn redact_owned(sanitizer: &Sanitizer, mut value: Value, opts: &RedactOptions) -> Redaction {
    let mut r = Redactor {
        sanitizer,
        opts,
        findings: Vec::new(),
        mapping: Map::new(),
        seen: Vec::new(),
        counters: Vec::new(),
    };
    let mut path = String::from("$");
    if !r.walk(&mut value, &mut path) {
        value = Value::Null;
    }
    let mapping = (opts.action == RedactAction::Reversible).then_some(r.mapping);
    Redaction {
        value,
        findings: r.findings,
        mapping,
    }
}

/// Puts the originals back into every string of a value redacted with `reversible`.
pub fn restore(value: &Value, mapping: &Map<String, Value>) -> Value {
    match value {
        Value::String(s) => Value::String(restore_text(s, mapping)),
        Value::Array(items) => Value::Array(items.iter().map(|v| restore(v, mapping)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), restore(v, mapping)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Puts the originals back into a text: every `[CLASS_n]` placeholder of the mapping, left to
/// right, is replaced once; text that is not a known placeholder stays as it is.
pub fn restore_text(text: &str, mapping: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        let known = tail.find(']').and_then(|close| {
            let key = &tail[..=close];
            mapping
                .get(key)
                .and_then(Value::as_str)
                .map(|orig| (orig, close))
        });
        match known {
            Some((orig, close)) => {
                out.push_str(orig);
                rest = &tail[close + 1..];
            }
            None => {
                out.push('[');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(action: RedactAction) -> RedactOptions {
        RedactOptions {
            action,
            classes: None,
            key: None,
        }
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn masks_only_the_chosen_classes() {
        let v = json!({"note": "mail bob@example.org from 10.1.2.3"});
        let mut o = opts(RedactAction::Mask);
        o.classes = Some(vec!["email".into()]);
        let r = redact_value(&v, &o);
        assert_eq!(
            r.value,
            json!({"note": "mail [REDACTED:email] from 10.1.2.3"})
        );
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].path.as_deref(), Some("$.note"));
        assert!(r.mapping.is_none());
    }

    #[test]
    fn drop_removes_members_and_nulls_elements() {
        let v = json!({"a": "x bob@example.org", "b": ["ok", "eve@example.org"], "c": 1});
        let r = redact_value(&v, &opts(RedactAction::Drop));
        assert_eq!(r.value, json!({"b": ["ok", null], "c": 1}));
    }

    #[test]
    fn reversible_round_trips() {
        let v = json!(["bob@example.org and eve@example.org", {"k": "bob@example.org"}]);
        let r = redact_value(&v, &opts(RedactAction::Reversible));
        assert_eq!(
            r.value,
            json!(["[EMAIL_1] and [EMAIL_2]", {"k": "[EMAIL_1]"}])
        );
        let mapping = r.mapping.unwrap();
        assert_eq!(restore(&r.value, &mapping), v);
        assert_eq!(
            restore_text("[x] [EMAIL_2]]", &mapping),
            "[x] eve@example.org]"
        );
    }

    #[test]
    fn hash_is_keyed_when_a_key_is_given() {
        let v = json!("bob@example.org");
        let plain = redact_value(&v, &opts(RedactAction::Hash)).value;
        let mut o = opts(RedactAction::Hash);
        o.key = Some("k".into());
        let keyed = redact_value(&v, &o).value;
        let expected = format!("[email:{}]", &sha256_hex(b"bob@example.org")[..16]);
        assert_eq!(plain, json!(expected));
        assert_ne!(plain, keyed);
    }
}
