//! Sanitizer: finds secrets and personal data in text and in JSON values.
//!
//! Detectors come from `detectors.json`, the same table the TypeScript fallback reads. A keyword
//! prefilter (one Aho-Corasick pass, ASCII case-insensitive) decides which detectors run; each
//! runs its regex over the UTF-8 bytes with Unicode off, which is the subset on which the Rust
//! regex crate and ECMAScript RegExp agree. Matches then pass a validator (Luhn, IBAN mod 97,
//! entropy, ...), and overlapping findings are resolved in one fixed order. Spans are UTF-8 byte
//! offsets.

mod validate;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// One thing the sanitizer found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub class: String,
    pub detector: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub start: usize,
    pub end: usize,
    pub confidence: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DetectorSpec {
    id: String,
    class: String,
    keywords: Vec<String>,
    pattern: String,
    confidence: f64,
    #[serde(default)]
    group: bool,
    #[serde(default)]
    case_insensitive: bool,
    #[serde(default)]
    validate: Option<String>,
    #[serde(default)]
    min_entropy: Option<f64>,
    #[serde(default)]
    multiline: bool,
    #[serde(default)]
    requires: LineCounts,
}

/// Per-line counts of the bytes the personal-data patterns need.
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "camelCase")]
struct LineCounts {
    #[serde(default)]
    digits: u32,
    #[serde(default)]
    dots: u32,
    #[serde(default)]
    colons: u32,
    #[serde(default)]
    at: u32,
    #[serde(default)]
    upper: u32,
    /// Longest run of digits in which a single ' ' or '-' may separate two digits (cards);
    /// only checked, never counted, on lines that meet the counts above.
    #[serde(default)]
    digit_run: u32,
    /// The line must hold two upper-case letters followed by two digits (IBAN); checked like
    /// `digit_run`.
    #[serde(default)]
    upper_pair_digit_pair: bool,
}

impl LineCounts {
    fn satisfies(&self, need: &LineCounts) -> bool {
        self.digits >= need.digits
            && self.dots >= need.dots
            && self.colons >= need.colons
            && self.at >= need.at
            && self.upper >= need.upper
    }
}

/// The shape checks of `LineCounts` (`digit_run`, `upper_pair_digit_pair`): necessary
/// conditions for a match on the line, cheaper than running the detector's regex over it.
fn line_has_shape(line: &[u8], need: &LineCounts) -> bool {
    if need.digit_run > 0 && longest_digit_run(line) < need.digit_run {
        return false;
    }
    if need.upper_pair_digit_pair
        && !line.windows(4).any(|w| {
            w[0].is_ascii_uppercase()
                && w[1].is_ascii_uppercase()
                && w[2].is_ascii_digit()
                && w[3].is_ascii_digit()
        })
    {
        return false;
    }
    true
}

/// Longest run of digits where one ' ' or '-' may stand between two digits.
fn longest_digit_run(line: &[u8]) -> u32 {
    let (mut best, mut run, mut after_digit, mut after_sep) = (0, 0, false, false);
    for &b in line {
        if b.is_ascii_digit() {
            run = if after_digit || after_sep { run + 1 } else { 1 };
            best = best.max(run);
            (after_digit, after_sep) = (true, false);
        } else if after_digit && (b == b' ' || b == b'-') {
            (after_digit, after_sep) = (false, true);
        } else {
            (run, after_digit, after_sep) = (0, false, false);
        }
    }
    best
}

struct Line {
    start: usize,
    end: usize,
    counts: LineCounts,
}

/// Byte → packed counter increments: five 12-bit fields (digits, dots, colons, '@', upper case)
/// in one u64, so a line is counted in one table-driven pass. A field cannot overflow into its
/// neighbour because lines are counted in chunks of at most 4095 bytes.
const COUNT_TABLE: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_digit() {
            1
        } else if c == b'.' {
            1 << 12
        } else if c == b':' {
            1 << 24
        } else if c == b'@' {
            1 << 36
        } else if c.is_ascii_uppercase() {
            1 << 48
        } else {
            0
        };
        b += 1;
    }
    t
};

fn count_line(line: &[u8]) -> LineCounts {
    let mut counts = LineCounts::default();
    for chunk in line.chunks(4095) {
        let packed: u64 = chunk.iter().map(|&b| COUNT_TABLE[b as usize]).sum();
        let field = |shift: u32| ((packed >> shift) & 0xfff) as u32;
        counts.digits += field(0);
        counts.dots += field(12);
        counts.colons += field(24);
        counts.at += field(36);
        counts.upper += field(48);
    }
    counts
}

/// Splits a text into lines (without the line feed) and counts the bytes of interest.
fn index_lines(bytes: &[u8]) -> Vec<Line> {
    let mut lines = Vec::with_capacity(bytes.len() / 40 + 1);
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
    for end in ends {
        let counts = count_line(&bytes[start..end]);
        lines.push(Line { start, end, counts });
        start = end + 1;
    }
    lines
}

/// Adds a line to a list of byte ranges, merging with the previous range when close.
fn push_range(ranges: &mut Vec<(usize, usize)>, start: usize, end: usize) {
    if let Some(last) = ranges.last_mut() {
        if start <= last.1 + 64 && start >= last.0 {
            last.1 = last.1.max(end);
            return;
        }
    }
    ranges.push((start, end));
}

#[derive(Deserialize)]
struct DetectorTable {
    detectors: Vec<DetectorSpec>,
}

struct Detector {
    spec: DetectorSpec,
    regex: Regex,
}

/// The compiled detector table.
pub struct Sanitizer {
    detectors: Vec<Detector>,
    keywords: AhoCorasick,
    /// Detector indexes per keyword pattern id.
    keyword_owner: Vec<usize>,
    always: Vec<usize>,
}

/// The detector table as shipped (`detectors.json`).
pub const DETECTOR_TABLE: &str = include_str!("detectors.json");

impl Sanitizer {
    /// Compiles a detector table given as JSON text.
    pub fn from_table(table: &str) -> Result<Self, String> {
        let table: DetectorTable =
            serde_json::from_str(table).map_err(|e| format!("detector table: {e}"))?;
        let mut detectors = Vec::with_capacity(table.detectors.len());
        let mut keywords = Vec::new();
        let mut keyword_owner = Vec::new();
        let mut always = Vec::new();
        for (i, spec) in table.detectors.into_iter().enumerate() {
            let regex = RegexBuilder::new(&spec.pattern)
                .unicode(false)
                .case_insensitive(spec.case_insensitive)
                .dfa_size_limit(32 << 20)
                .size_limit(64 << 20)
                .build()
                .map_err(|e| format!("detector {}: {e}", spec.id))?;
            if spec.keywords.is_empty() {
                always.push(i);
            }
            for k in &spec.keywords {
                keywords.push(k.clone());
                keyword_owner.push(i);
            }
            detectors.push(Detector { spec, regex });
        }
        let keywords = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&keywords)
            .map_err(|e| format!("keyword automaton: {e}"))?;
        Ok(Sanitizer {
            detectors,
            keywords,
            keyword_owner,
            always,
        })
    }

    /// The shipped detector table, compiled once.
    pub fn shared() -> &'static Sanitizer {
        static SHARED: OnceLock<Sanitizer> = OnceLock::new();
        SHARED.get_or_init(|| {
            Sanitizer::from_table(DETECTOR_TABLE).expect("shipped detector table compiles")
        })
    }

    /// Time spent per detector on a text (for tuning; not used on the hot path).
    pub fn profile(&self, text: &str) -> Vec<(String, std::time::Duration, usize)> {
        let bytes = text.as_bytes();
        self.detectors
            .iter()
            .enumerate()
            .map(|(i, det)| {
                let t = std::time::Instant::now();
                let mut out = Vec::new();
                self.run_detector(i, det, bytes, &mut out);
                (det.spec.id.clone(), t.elapsed(), out.len())
            })
            .collect()
    }

    /// Time of the two prefilter passes (line index, keyword automaton), for tuning.
    pub fn prefilter_profile(
        &self,
        text: &str,
    ) -> (std::time::Duration, std::time::Duration, usize) {
        let t = std::time::Instant::now();
        let lines = index_lines(text.as_bytes());
        let a = t.elapsed();
        let t = std::time::Instant::now();
        let hits = self.keywords.find_overlapping_iter(text.as_bytes()).count();
        std::hint::black_box(&lines);
        (a, t.elapsed(), hits)
    }

    /// Detector ids in table order (the index a packed finding refers to).
    pub fn detector_ids(&self) -> Vec<&str> {
        self.detectors.iter().map(|d| d.spec.id.as_str()).collect()
    }

    /// Number of detectors.
    pub fn len(&self) -> usize {
        self.detectors.len()
    }

    /// True when the table is empty.
    pub fn is_empty(&self) -> bool {
        self.detectors.is_empty()
    }

    /// Findings in a text, ordered by start offset, without overlaps.
    ///
    /// Same result as running every detector over the whole text, but cheaper: apart from the
    /// multi-line ones, matches never cross a line break and always contain a keyword (or meet
    /// the per-line counts), so only the lines that can hold a match are searched.
    pub fn scan_text(&self, text: &str) -> Vec<Finding> {
        let bytes = text.as_bytes();
        let lines = index_lines(bytes);
        // (detector, start, end) of every line a detector must look at; one flat list keeps
        // short strings (most JSON values) down to a couple of allocations.
        let mut ranges: Vec<(usize, usize, usize)> = Vec::new();
        for &i in &self.always {
            let need = &self.detectors[i].spec.requires;
            let eligible = lines.iter().filter(|l| {
                l.counts.satisfies(need) && line_has_shape(&bytes[l.start..l.end], need)
            });
            for line in eligible {
                ranges.push((i, line.start, line.end));
            }
        }
        for m in self.keywords.find_overlapping_iter(bytes) {
            let owner = self.keyword_owner[m.pattern().as_usize()];
            if self.detectors[owner].spec.multiline {
                ranges.push((owner, 0, bytes.len()));
                continue;
            }
            let at = lines.partition_point(|l| l.end < m.start());
            if let Some(line) = lines.get(at) {
                ranges.push((owner, line.start, line.end));
            }
        }
        if ranges.is_empty() {
            return Vec::new();
        }
        ranges.sort_unstable();
        let mut found: Vec<(usize, Finding)> = Vec::new();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        let mut rest = ranges.as_slice();
        while let Some(&(i, _, _)) = rest.first() {
            let n = rest.iter().take_while(|r| r.0 == i).count();
            merged.clear();
            for &(_, a, b) in &rest[..n] {
                push_range(&mut merged, a, b);
            }
            for &(a, b) in &merged {
                self.run_detector_at(i, &self.detectors[i], bytes, a, b, &mut found);
            }
            rest = &rest[n..];
        }
        resolve_overlaps(found)
    }

    fn run_detector(
        &self,
        index: usize,
        det: &Detector,
        bytes: &[u8],
        out: &mut Vec<(usize, Finding)>,
    ) {
        self.run_detector_at(index, det, bytes, 0, bytes.len(), out);
    }

    /// Runs one detector over `bytes[from..to]`, which starts and ends at line boundaries (or
    /// the text's ends), so `\b` sees the same neighbours as in the whole text.
    fn run_detector_at(
        &self,
        index: usize,
        det: &Detector,
        bytes: &[u8],
        from: usize,
        to: usize,
        out: &mut Vec<(usize, Finding)>,
    ) {
        let spec = &det.spec;
        let hay = &bytes[from..to];
        if spec.group {
            for caps in det.regex.captures_iter(hay) {
                if let Some(g) = caps.get(1) {
                    self.accept(index, spec, bytes, from + g.start(), from + g.end(), out);
                }
            }
        } else {
            for m in det.regex.find_iter(hay) {
                self.accept(index, spec, bytes, from + m.start(), from + m.end(), out);
            }
        }
    }

    fn accept(
        &self,
        index: usize,
        spec: &DetectorSpec,
        bytes: &[u8],
        start: usize,
        end: usize,
        out: &mut Vec<(usize, Finding)>,
    ) {
        let span = &bytes[start..end];
        if let Some(min) = spec.min_entropy {
            if validate::shannon_entropy(span) < min {
                return;
            }
        }
        if let Some(kind) = &spec.validate {
            if !validate::check(kind, span) {
                return;
            }
        }
        out.push((
            index,
            Finding {
                class: spec.class.clone(),
                detector: spec.id.clone(),
                path: None,
                start,
                end,
                confidence: spec.confidence,
            },
        ));
    }

    /// Findings in every string of a JSON value, with JSONPath-like paths (`$.a[0]["b c"]`), in
    /// document order.
    pub fn scan_value(&self, value: &Value) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut path = String::from("$");
        self.walk(value, &mut path, &mut out);
        out
    }

    fn walk(&self, value: &Value, path: &mut String, out: &mut Vec<Finding>) {
        match value {
            Value::String(s) => {
                for mut f in self.scan_text(s) {
                    f.path = Some(path.clone());
                    out.push(f);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push('[');
                    path.push_str(&i.to_string());
                    path.push(']');
                    self.walk(item, path, out);
                    path.truncate(len);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    let len = path.len();
                    push_member(path, k);
                    self.walk(v, path, out);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }
}

/// Appends `.key` for identifier-like keys, else `["key"]` with JSON string escapes.
pub fn push_member(path: &mut String, key: &str) {
    let ident = key.bytes().enumerate().all(|(i, b)| {
        b == b'_' || b == b'$' || b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit())
    });
    if ident && !key.is_empty() {
        path.push('.');
        path.push_str(key);
    } else {
        path.push('[');
        crate::canonical::write_string(key, path);
        path.push(']');
    }
}

/// Resolves overlaps by precedence: detectors earlier in the table win (secrets before personal
/// data), then earlier and longer matches. The kept findings are returned by start offset.
fn resolve_overlaps(mut found: Vec<(usize, Finding)>) -> Vec<Finding> {
    found.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.start.cmp(&b.1.start))
            .then(b.1.end.cmp(&a.1.end))
    });
    let mut kept: BTreeMap<usize, Finding> = BTreeMap::new();
    for (_, f) in found {
        // Kept spans never overlap, so the one starting last before our end is the only candidate.
        let clash = kept
            .range(..f.end)
            .next_back()
            .is_some_and(|(_, k)| k.end > f.start);
        if !clash {
            kept.insert(f.start, f);
        }
    }
    kept.into_values().collect()
}

/// Scans a text with the shipped table.
pub fn scan_text(text: &str) -> Vec<Finding> {
    Sanitizer::shared().scan_text(text)
}

/// Scans every string of a JSON value with the shipped table.
pub fn scan_value(value: &Value) -> Vec<Finding> {
    Sanitizer::shared().scan_value(value)
}

#[cfg(test)]
mod shape_tests {
    use super::*;

    #[test]
    fn digit_runs_allow_one_separator_between_digits() {
        assert_eq!(longest_digit_run(b"4111 1111-1111 1111"), 16);
        assert_eq!(longest_digit_run(b"call +1 415-555-0132 now"), 11);
        assert_eq!(longest_digit_run(b"12  34"), 2);
        assert_eq!(longest_digit_run(b"12 -34 5"), 3);
        assert_eq!(longest_digit_run(b"- 1-2-"), 2);
        assert_eq!(longest_digit_run(b"no digits"), 0);
    }

    #[test]
    fn shape_checks_keep_the_matches() {
        let text = "x\npay 4111 1111 1111 1111 now\niban DE89 3704 0044 0532 0130 00\nok";
        let ids: Vec<String> = scan_text(text).into_iter().map(|f| f.detector).collect();
        assert!(ids.contains(&"payment_card_number".to_string()), "{ids:?}");
        assert!(ids.contains(&"iban".to_string()), "{ids:?}");
        let need = LineCounts {
            upper_pair_digit_pair: true,
            ..LineCounts::default()
        };
        assert!(!line_has_shape(b"Portcullis ABC 12 D3 99", &need));
        assert!(line_has_shape(b"GB29NWBK", &need));
    }
}
