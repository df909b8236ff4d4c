//! RFC 8785 canonical form of text produced by ECMAScript `JSON.stringify`, without building a
//! value tree. JCS serialises numbers with `Number::toString` and strings with the escapes of
//! `JSON.stringify`, so in such text every number and string token is already canonical: only the
//! object members need sorting (by the UTF-16 code units of their decoded keys). Tokens are copied
//! verbatim; members are reordered in the output buffer when an object is not already sorted.
//!
//! Precondition: the text is the output of `JSON.stringify` (no duplicate keys, numbers in
//! ECMAScript form). The addon only calls this with such text; `canonical::canonicalize_str` is
//! the general entry for JSON from elsewhere. Lone surrogates (`\ud800`) are kept as escaped, as
//! the TypeScript canonicalizer does.

use crate::canonical::{sha256_hex, CanonicalError};
use std::cmp::Ordering;

fn err(msg: &str, at: usize) -> CanonicalError {
    CanonicalError(format!("invalid JSON at byte {at}: {msg}"))
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    depth: usize,
}

/// One object member: its key token (with quotes) in the input and its `"key":value` span in
/// the output.
struct Member {
    key: (usize, usize),
    out: (usize, usize),
}

const MAX_DEPTH: usize = 10_000;

impl<'a> Parser<'a> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), CanonicalError> {
        self.skip_ws();
        if self.bytes.get(self.at) == Some(&b) {
            self.at += 1;
            Ok(())
        } else {
            Err(err(&format!("expected '{}'", b as char), self.at))
        }
    }

    /// The span of a string token, quotes included.
    fn string(&mut self) -> Result<(usize, usize), CanonicalError> {
        let start = self.at;
        self.at += 1;
        loop {
            match memchr::memchr2(b'"', b'\\', &self.bytes[self.at..]) {
                None => return Err(err("unterminated string", start)),
                Some(i) => {
                    self.at += i;
                    if self.bytes[self.at] == b'"' {
                        self.at += 1;
                        return Ok((start, self.at));
                    }
                    self.at += 2;
                }
            }
        }
    }

    fn value(&mut self, out: &mut String) -> Result<(), CanonicalError> {
        self.skip_ws();
        let Some(&b) = self.bytes.get(self.at) else {
            return Err(err("unexpected end", self.at));
        };
        match b {
            b'{' => self.object(out),
            b'[' => {
                self.enter()?;
                self.at += 1;
                out.push('[');
                self.skip_ws();
                if self.bytes.get(self.at) == Some(&b']') {
                    self.at += 1;
                } else {
                    loop {
                        self.value(out)?;
                        self.skip_ws();
                        match self.bytes.get(self.at) {
                            Some(b',') => {
                                self.at += 1;
                                out.push(',');
                            }
                            Some(b']') => {
                                self.at += 1;
                                break;
                            }
                            _ => return Err(err("expected ',' or ']'", self.at)),
                        }
                    }
                }
                out.push(']');
                self.depth -= 1;
                Ok(())
            }
            b'"' => {
                let (s, e) = self.string()?;
                out.push_str(&self.text[s..e]);
                Ok(())
            }
            _ => {
                let start = self.at;
                while let Some(c) = self.bytes.get(self.at) {
                    if matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.at += 1;
                }
                let token = &self.text[start..self.at];
                let ok = matches!(token, "true" | "false" | "null")
                    || (!token.is_empty()
                        && token
                            .bytes()
                            .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e')));
                if !ok {
                    return Err(err("unexpected token", start));
                }
                out.push_str(token);
                Ok(())
            }
        }
    }

    fn enter(&mut self) -> Result<(), CanonicalError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err("nested too deeply", self.at));
        }
        Ok(())
    }

    fn object(&mut self, out: &mut String) -> Result<(), CanonicalError> {
        self.enter()?;
        self.at += 1;
        let base = out.len();
        out.push('{');
        let mut members: Vec<Member> = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.at) == Some(&b'}') {
            self.at += 1;
        } else {
            loop {
                self.skip_ws();
                if self.bytes.get(self.at) != Some(&b'"') {
                    return Err(err("expected a key", self.at));
                }
                if !members.is_empty() {
                    out.push(',');
                }
                let member_start = out.len();
                let key = self.string()?;
                out.push_str(&self.text[key.0..key.1]);
                self.expect(b':')?;
                out.push(':');
                self.value(out)?;
                members.push(Member {
                    key,
                    out: (member_start, out.len()),
                });
                self.skip_ws();
                match self.bytes.get(self.at) {
                    Some(b',') => self.at += 1,
                    Some(b'}') => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(err("expected ',' or '}'", self.at)),
                }
            }
        }
        if members.len() > 1 {
            self.sort_members(out, base, &mut members);
        }
        out.push('}');
        self.depth -= 1;
        Ok(())
    }

    /// Rewrites the members after `base` in key order, unless they already are.
    fn sort_members(&self, out: &mut String, base: usize, members: &mut [Member]) {
        let raw = |m: &Member| &self.bytes[m.key.0 + 1..m.key.1 - 1];
        let plain = members
            .iter()
            .all(|m| raw(m).iter().all(|&c| c < 0x80 && c != b'\\'));
        let order: Vec<usize> = if plain {
            if members.windows(2).all(|w| raw(&w[0]) < raw(&w[1])) {
                return;
            }
            let mut idx: Vec<usize> = (0..members.len()).collect();
            idx.sort_by(|&a, &b| raw(&members[a]).cmp(raw(&members[b])));
            idx
        } else {
            let keys: Vec<Vec<u16>> = members.iter().map(|m| utf16_key(raw(m))).collect();
            if keys.windows(2).all(|w| w[0].cmp(&w[1]) == Ordering::Less) {
                return;
            }
            let mut idx: Vec<usize> = (0..members.len()).collect();
            idx.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
            idx
        };
        let body = out[base + 1..].to_string();
        out.truncate(base + 1);
        for (n, &i) in order.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            let (s, e) = members[i].out;
            out.push_str(&body[s - base - 1..e - base - 1]);
        }
    }
}

/// UTF-16 code units of a JSON string body (escapes decoded; lone surrogates kept as units).
fn utf16_key(raw: &[u8]) -> Vec<u16> {
    let text = String::from_utf8_lossy(raw);
    let mut out = Vec::with_capacity(raw.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u16; 2];
            out.extend_from_slice(c.encode_utf16(&mut buf));
            continue;
        }
        let unit = match chars.next() {
            Some('b') => 0x08,
            Some('f') => 0x0c,
            Some('n') => 0x0a,
            Some('r') => 0x0d,
            Some('t') => 0x09,
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                u16::from_str_radix(&hex, 16).unwrap_or(0xfffd)
            }
            Some(other) => other as u16,
            None => break,
        };
        out.push(unit);
    }
    out
}

/// Canonical JSON text of `JSON.stringify` output.
pub fn canonicalize_stringified(text: &str) -> Result<String, CanonicalError> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        at: 0,
        depth: 0,
    };
    let mut out = String::with_capacity(text.len());
    p.value(&mut out)?;
    p.skip_ws();
    if p.at != text.len() {
        return Err(err("trailing characters", p.at));
    }
    Ok(out)
}

/// sha256 of the canonical JSON of `JSON.stringify` output.
pub fn digest_stringified(text: &str) -> Result<String, CanonicalError> {
    Ok(sha256_hex(canonicalize_stringified(text)?.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::canonicalize_str;

    #[test]
    fn agrees_with_the_value_canonicalizer_on_stringified_text() {
        for text in [
            r#"{"b":1,"a":[true,null,{"d":"x","c":-0.5}],"":1e+21}"#,
            r#"{"é":1,"é2":2,"z":3,"😀":4,"ﬁ":5,"a\"b":6,"a\\":7,"\u001f":8}"#,
            r#"[[],{},"\n\u001f",1.5e-7,123456789012345680000]"#,
            r#"{"10":1,"9":2,"a":{"y":1,"x":{"q":0,"p":[{"b":0,"a":1}]}}}"#,
        ] {
            assert_eq!(
                canonicalize_stringified(text).unwrap(),
                canonicalize_str(text).unwrap(),
                "{text}"
            );
        }
    }

    #[test]
    fn keeps_lone_surrogates_and_refuses_broken_text() {
        assert_eq!(
            canonicalize_stringified(r#"{"b":"\ud800","a":1}"#).unwrap(),
            r#"{"a":1,"b":"\ud800"}"#
        );
        for bad in [r#"{"a":1"#, r#"[1,]"#, r#"{"a" 1}"#, "nul", r#""x"#, "1 2"] {
            assert!(canonicalize_stringified(bad).is_err(), "{bad}");
        }
    }
}
