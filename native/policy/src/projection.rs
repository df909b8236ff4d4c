//! The bundle's input projection: which parts of the input its policy can read, declared in the
//! bundle `.manifest` as `metadata.portcullis.input_projection` (`{keep, by_action}`), compiled
//! once and applied to input JSON text before it is written into the module's memory.
//!
//! Semantics (shared with the TypeScript projection in `policies/`): the tree for an input is
//! `keep` deep-merged with `by_action[input.action]`; a `true` tree keeps the value as it is, an
//! object tree keeps only the named members of a JSON object (in the input's own order, each
//! projected by its subtree) and leaves any other value unchanged. The projection works on the
//! text, not on a value tree: kept values are copied token for token (numbers, escapes and
//! member names exactly as written, so integers above 2^53 and key order survive), only the
//! whitespace between tokens is dropped, and the whole document is validated as JSON on the way
//! (invalid text is an error, which fails closed like the module's own parser would; so is a
//! second top-level `action`, which would make the tree ambiguous). The output
//! is never longer than the input and is produced in place, in linear memory.

use crate::engine::PolicyError;
use serde_json::Value;

/// Deepest nesting of arrays and objects accepted in an input.
pub const MAX_DEPTH: usize = 10_000;

/// A compiled projection tree: keep everything, or keep the named members of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tree {
    All,
    Fields(Vec<(String, Tree)>),
}

impl Tree {
    fn compile(v: &Value, at: &str) -> Result<Tree, PolicyError> {
        match v {
            Value::Bool(true) => Ok(Tree::All),
            Value::Object(m) => m
                .iter()
                .map(|(k, sub)| Ok((k.clone(), Tree::compile(sub, &format!("{at}.{k}"))?)))
                .collect::<Result<_, _>>()
                .map(Tree::Fields),
            _ => Err(decl_err(format!("{at} must be true or an object"))),
        }
    }

    fn merge(&self, other: &Tree) -> Tree {
        match (self, other) {
            (Tree::Fields(a), Tree::Fields(b)) => {
                let mut out = a.clone();
                for (k, t) in b {
                    match out.iter_mut().find(|(n, _)| n == k) {
                        Some((_, mine)) => *mine = mine.merge(t),
                        None => out.push((k.clone(), t.clone())),
                    }
                }
                Tree::Fields(out)
            }
            _ => Tree::All,
        }
    }

    fn member(&self, name: &[u8]) -> Option<&Tree> {
        match self {
            Tree::All => Some(self),
            Tree::Fields(f) => f.iter().find(|(n, _)| n.as_bytes() == name).map(|(_, t)| t),
        }
    }
}

/// A compiled input projection. Cheap to apply: no allocation apart from decoding an escaped
/// member name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    keep: Tree,
    /// `(action, keep merged with by_action[action])`.
    by_action: Vec<(String, Tree)>,
}

fn decl_err(m: impl std::fmt::Display) -> PolicyError {
    PolicyError::Load(format!("input projection: {m}"))
}

fn input_err(m: &str, at: usize) -> PolicyError {
    PolicyError::Eval(format!("input is not valid JSON: {m} at byte {at}"))
}

impl Projection {
    /// Compiles a declaration `{"keep": tree, "by_action": {action: tree}}` given as JSON text.
    pub fn from_declaration(json: &[u8]) -> Result<Self, PolicyError> {
        let v: Value = serde_json::from_slice(json).map_err(decl_err)?;
        Self::from_value(&v)
    }

    /// Compiles the declaration carried by a bundle `.manifest`; `None` when it declares none.
    pub fn from_manifest(manifest: &Value) -> Result<Option<Self>, PolicyError> {
        match manifest.pointer("/metadata/portcullis/input_projection") {
            None | Some(Value::Null) => Ok(None),
            Some(v) => Self::from_value(v).map(Some),
        }
    }

    fn from_value(v: &Value) -> Result<Self, PolicyError> {
        let obj = v
            .as_object()
            .ok_or_else(|| decl_err("the declaration must be an object"))?;
        if let Some(k) = obj.keys().find(|k| *k != "keep" && *k != "by_action") {
            return Err(decl_err(format!("unknown member {k}")));
        }
        let keep = Tree::compile(
            obj.get("keep").ok_or_else(|| decl_err("keep is missing"))?,
            "keep",
        )?;
        let by_action = match obj.get("by_action") {
            None => Vec::new(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(action, t)| {
                    let tree = Tree::compile(t, &format!("by_action.{action}"))?;
                    Ok((action.clone(), keep.merge(&tree)))
                })
                .collect::<Result<_, PolicyError>>()?,
            Some(_) => return Err(decl_err("by_action must be an object")),
        };
        Ok(Projection { keep, by_action })
    }

    /// Projects `input` (JSON text) into a new buffer.
    pub fn project(&self, input: &[u8]) -> Result<Vec<u8>, PolicyError> {
        let mut out = input.to_vec();
        let n = self.project_in_place(&mut out)?;
        out.truncate(n);
        Ok(out)
    }

    /// Projects the JSON text filling `buf` in place (the output never gets ahead of the input
    /// it came from) and returns the length of the projected text at the start of `buf`.
    pub fn project_in_place(&self, buf: &mut [u8]) -> Result<usize, PolicyError> {
        let mut s = Scanner {
            end: buf.len(),
            buf,
            pos: 0,
            len: 0,
            dry: false,
            depth: 0,
            shallow: 0,
            deep: Vec::new(),
        };
        s.ws();
        let start = s.pos;
        if s.peek() != Some(b'{') {
            s.copy_value()?;
        } else {
            let tree = if self.by_action.is_empty() {
                &self.keep
            } else {
                // The tree depends on `action`, which may come after members it selects: find it
                // with a validating scan of the top level that writes nothing, then project.
                s.dry = true;
                let action = s.top_level_action()?;
                s.dry = false;
                s.pos = start;
                action
                    .and_then(|a| self.by_action.iter().find(|(n, _)| *n == a))
                    .map_or(&self.keep, |(_, t)| t)
            };
            s.project(tree, true)?;
        }
        s.ws();
        if s.pos != s.end {
            return Err(input_err("trailing characters", s.pos));
        }
        Ok(s.len)
    }
}

/// Reads JSON text from `buf[pos..end]` and writes the projection to `buf[..len]`; `len <= pos`
/// always holds (every byte written stands for at least one byte read), so writing never
/// clobbers unread input.
struct Scanner<'a> {
    buf: &'a mut [u8],
    end: usize,
    pos: usize,
    len: usize,
    /// Validate only, write nothing (the pre-scan for `action`, which must leave the text intact).
    dry: bool,
    /// Open containers of the value being copied, one bit each (1 = object), so copying never
    /// recurses; the first 64 levels live in `shallow`, deeper ones in `deep` (allocated only
    /// for deeply nested input).
    depth: usize,
    shallow: u64,
    deep: Vec<bool>,
}

impl Scanner<'_> {
    fn push(&mut self, obj: bool) {
        if self.depth < 64 {
            self.shallow = (self.shallow & !(1 << self.depth)) | (u64::from(obj) << self.depth);
        } else {
            self.deep.truncate(self.depth - 64);
            self.deep.push(obj);
        }
        self.depth += 1;
    }

    /// Whether the innermost open container is an object; `None` at the top.
    fn top(&self) -> Option<bool> {
        match self.depth {
            0 => None,
            d if d <= 64 => Some(self.shallow & (1 << (d - 1)) != 0),
            d => self.deep.get(d - 65).copied(),
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        if self.pos < self.end {
            Some(self.buf[self.pos])
        } else {
            None
        }
    }

    fn at(&self, pos: usize) -> Option<u8> {
        (pos < self.end).then(|| self.buf[pos])
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Writes one structural byte that has already been read.
    #[inline]
    fn emit_byte(&mut self, b: u8) {
        if !self.dry {
            self.buf[self.len] = b;
            self.len += 1;
        }
    }

    /// Copies the input span `from..to` (already read) to the output.
    #[inline]
    fn emit_span(&mut self, from: usize, to: usize) {
        if !self.dry {
            self.buf.copy_within(from..to, self.len);
            self.len += to - from;
        }
    }

    #[inline]
    fn expect(&mut self, b: u8) -> Result<(), PolicyError> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(input_err(&format!("expected '{}'", b as char), self.pos))
        }
    }

    /// Validates the string token at `pos`; returns its span (quotes included) and whether it
    /// holds escapes.
    fn string(&mut self) -> Result<(usize, usize, bool), PolicyError> {
        let start = self.pos;
        self.expect(b'"')?;
        let mut escaped = false;
        loop {
            // Plain bytes in one tight loop; only quotes, escapes and control bytes stop it.
            let rest = &self.buf[self.pos..self.end];
            let plain = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(rest.len());
            self.pos += plain;
            let Some(b) = self.peek() else {
                return Err(input_err("unterminated string", start));
            };
            self.pos += 1;
            match b {
                b'"' => return Ok((start, self.pos, escaped)),
                b'\\' => {
                    escaped = true;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1
                        }
                        Some(b'u') => {
                            let hex = (self.pos + 5 <= self.end)
                                .then(|| &self.buf[self.pos + 1..self.pos + 5]);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Err(input_err("bad \\u escape", self.pos));
                            }
                            self.pos += 5;
                        }
                        _ => return Err(input_err("bad escape", self.pos)),
                    }
                }
                0..=0x1f => return Err(input_err("control character in string", self.pos - 1)),
                _ => {}
            }
        }
    }

    fn digits(&mut self) -> usize {
        let from = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - from
    }

    fn number(&mut self) -> Result<(), PolicyError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(input_err("bad number", start)),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(input_err("bad number", start));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(input_err("bad number", start));
            }
        }
        Ok(())
    }

    /// Validates one scalar token and copies it.
    fn copy_scalar(&mut self) -> Result<(), PolicyError> {
        let start = self.pos;
        match self.peek() {
            Some(b'"') => {
                self.string()?;
            }
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b't') if self.buf[self.pos..self.end].starts_with(b"true") => self.pos += 4,
            Some(b'f') if self.buf[self.pos..self.end].starts_with(b"false") => self.pos += 5,
            Some(b'n') if self.buf[self.pos..self.end].starts_with(b"null") => self.pos += 4,
            None => return Err(input_err("unexpected end", start)),
            _ => return Err(input_err("unexpected character", start)),
        }
        self.emit_span(start, self.pos);
        Ok(())
    }

    /// Validates and copies the value at `pos` (whitespace between tokens dropped), iteratively.
    fn copy_value(&mut self) -> Result<(), PolicyError> {
        self.depth = 0;
        // After an open bracket or a comma inside one, a value (or a close) is due.
        loop {
            self.ws();
            match self.peek() {
                Some(b'{') | Some(b'[') => {
                    let obj = self.peek() == Some(b'{');
                    if self.depth >= MAX_DEPTH {
                        return Err(input_err("nesting too deep", self.pos));
                    }
                    self.push(obj);
                    self.pos += 1;
                    self.emit_byte(if obj { b'{' } else { b'[' });
                    self.ws();
                    let close = if obj { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        self.depth -= 1;
                        self.emit_byte(close);
                    } else {
                        if obj {
                            self.member_name()?;
                        }
                        continue;
                    }
                }
                _ => self.copy_scalar()?,
            }
            // A value is complete: close containers or move to the next element.
            loop {
                let Some(obj) = self.top() else {
                    return Ok(());
                };
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        self.emit_byte(b',');
                        if obj {
                            self.ws();
                            self.member_name()?;
                        }
                        break;
                    }
                    Some(b'}') if obj => {}
                    Some(b']') if !obj => {}
                    _ => return Err(input_err("expected ',' or a close", self.pos)),
                }
                let close = self.buf[self.pos];
                self.pos += 1;
                self.emit_byte(close);
                self.depth -= 1;
            }
        }
    }

    /// Copies `"name":` of an object member.
    fn member_name(&mut self) -> Result<(), PolicyError> {
        let (a, b, _) = self.string()?;
        self.emit_span(a, b);
        self.ws();
        self.expect(b':')?;
        self.emit_byte(b':');
        Ok(())
    }

    /// Skips (validating) the value at `pos` without copying it.
    fn skip_value(&mut self) -> Result<(), PolicyError> {
        // One validator for both: a dry copy writes nothing.
        let dry = std::mem::replace(&mut self.dry, true);
        let r = self.copy_value();
        self.dry = dry;
        r
    }

    /// The decoded value of the first top-level `action` member when it is a string. Stops
    /// there (`project` validates the rest and refuses a second `action`).
    fn top_level_action(&mut self) -> Result<Option<String>, PolicyError> {
        let mut action = None;
        self.expect(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(None);
        }
        loop {
            self.ws();
            let (a, b, esc) = self.string()?;
            self.ws();
            self.expect(b':')?;
            self.ws();
            let is_action = name_is(&self.buf[a..b], esc, "action");
            let vstart = self.pos;
            self.skip_value()?;
            if is_action {
                action = match self.at(vstart) {
                    Some(b'"') => Some(decode_string(&self.buf[vstart..self.pos])),
                    _ => None,
                };
                break;
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(input_err("expected ',' or '}'", self.pos)),
            }
        }
        Ok(action)
    }

    /// Projects the value at `pos` by `tree` (already validated by `top_level_action` at the top
    /// level; nested objects are validated here).
    fn project(&mut self, tree: &Tree, top: bool) -> Result<(), PolicyError> {
        self.ws();
        let fields = match tree {
            Tree::Fields(_) if self.peek() == Some(b'{') => tree,
            _ => return self.copy_value(),
        };
        self.pos += 1;
        self.emit_byte(b'{');
        let mut first = true;
        let mut actions = 0;
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.emit_byte(b'}');
            return Ok(());
        }
        loop {
            self.ws();
            let (a, b, esc) = self.string()?;
            if top && name_is(&self.buf[a..b], esc, "action") {
                actions += 1;
                if actions > 1 {
                    return Err(input_err("more than one action member", a));
                }
            }
            self.ws();
            self.expect(b':')?;
            let sub = if esc {
                fields.member(decode_string(&self.buf[a..b]).as_bytes())
            } else {
                fields.member(&self.buf[a + 1..b - 1])
            };
            match sub {
                Some(sub) => {
                    if !first {
                        self.emit_byte(b',');
                    }
                    first = false;
                    self.emit_span(a, b);
                    self.emit_byte(b':');
                    self.project(sub, false)?;
                }
                None => {
                    self.ws();
                    self.skip_value()?;
                }
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.emit_byte(b'}');
                    return Ok(());
                }
                _ => return Err(input_err("expected ',' or '}'", self.pos)),
            }
        }
    }
}

fn name_is(token: &[u8], escaped: bool, want: &str) -> bool {
    if escaped {
        decode_string(token) == want
    } else {
        &token[1..token.len() - 1] == want.as_bytes()
    }
}

/// Decodes a validated string token (quotes included). Lone surrogates become U+FFFD, as
/// TextEncoder turns them when JavaScript writes the text.
fn decode_string(token: &[u8]) -> String {
    let inner = &token[1..token.len() - 1];
    let mut units: Vec<u16> = Vec::new();
    let mut out = String::new();
    let mut i = 0;
    let flush = |units: &mut Vec<u16>, out: &mut String| {
        out.extend(char::decode_utf16(units.drain(..)).map(|c| c.unwrap_or('\u{fffd}')));
    };
    while i < inner.len() {
        if inner[i] == b'\\' {
            let c = inner[i + 1];
            if c == b'u' {
                let hex = std::str::from_utf8(&inner[i + 2..i + 6]).unwrap_or("0");
                units.push(u16::from_str_radix(hex, 16).unwrap_or(0xfffd));
                i += 6;
                continue;
            }
            flush(&mut units, &mut out);
            out.push(match c {
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                other => other as char,
            });
            i += 2;
        } else {
            flush(&mut units, &mut out);
            let end = inner[i..]
                .iter()
                .position(|&b| b == b'\\')
                .map_or(inner.len(), |p| i + p);
            out.push_str(&String::from_utf8_lossy(&inner[i..end]));
            i = end;
        }
    }
    flush(&mut units, &mut out);
    out
}
