//! Sanitizer: finds secrets and personal data in text and in JSON values.
//!
//! Detectors come from `detectors.json`, the same table the TypeScript fallback reads. A keyword
//! prefilter (one Aho-Corasick pass, ASCII case-insensitive) decides which detectors run; each
//! runs its regex over the UTF-8 bytes with Unicode off, which is the subset on which the Rust
//! regex crate and ECMAScript RegExp agree. Matches then pass a validator (Luhn, IBAN mod 97,
//! entropy, ...), and overlapping findings are resolved in one fixed order. Spans are UTF-8 byte
//! offsets.

mod prefilter;
mod validate;

use prefilter::{Anchor, KeywordFinder, LineMarks};
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
    anchor: Option<Anchor>,
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
    keywords: KeywordFinder,
    /// Detectors without keywords, with their anchors.
    anchored: Vec<(usize, Anchor)>,
    anchors: Vec<Anchor>,
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
        let mut anchored = Vec::new();
        for (i, spec) in table.detectors.into_iter().enumerate() {
            let regex = RegexBuilder::new(&spec.pattern)
                .unicode(false)
                .case_insensitive(spec.case_insensitive)
                .dfa_size_limit(32 << 20)
                .size_limit(64 << 20)
                .build()
                .map_err(|e| format!("detector {}: {e}", spec.id))?;
            match (spec.keywords.is_empty(), spec.anchor) {
                (true, Some(anchor)) => anchored.push((i, anchor)),
                (false, None) => {}
                _ => {
                    return Err(format!(
                        "detector {}: needs either keywords or an anchor",
                        spec.id
                    ))
                }
            }
            for k in &spec.keywords {
                keywords.push((k.clone(), i));
            }
            detectors.push(Detector { spec, regex });
        }
        let keywords = KeywordFinder::new(&keywords)?;
        let mut anchors: Vec<Anchor> = anchored.iter().map(|a| a.1).collect();
        anchors.dedup();
        Ok(Sanitizer {
            detectors,
            keywords,
            anchored,
            anchors,
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

    /// Time of the keyword pass, the anchor pass and the detector runs, for tuning.
    pub fn prefilter_profile(&self, text: &str) -> [std::time::Duration; 3] {
        let bytes = text.as_bytes();
        let t = std::time::Instant::now();
        let mut hits = 0usize;
        self.keywords
            .for_each(bytes, |_, owners| hits += owners.len());
        let keywords = t.elapsed();
        let t = std::time::Instant::now();
        prefilter::for_each_anchor(bytes, &self.anchors, |_, _| hits += 1);
        let anchors = t.elapsed();
        std::hint::black_box(hits);
        let ranges = self.candidate_lines(bytes);
        let t = std::time::Instant::now();
        std::hint::black_box(self.run_ranges(bytes, ranges));
        [keywords, anchors, t.elapsed()]
    }

    /// Per detector: time spent searching its candidate lines, bytes searched, findings.
    pub fn line_profile(&self, text: &str) -> Vec<(String, std::time::Duration, usize, usize)> {
        let bytes = text.as_bytes();
        let ranges = self.candidate_lines(bytes);
        (0..self.detectors.len())
            .map(|i| {
                let mine: Vec<_> = ranges.iter().copied().filter(|r| r.0 == i).collect();
                let searched = mine.iter().map(|r| r.2 - r.1).sum();
                let t = std::time::Instant::now();
                let n = self.run_ranges(bytes, mine).len();
                (self.detectors[i].spec.id.clone(), t.elapsed(), searched, n)
            })
            .collect()
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
    /// multi-line ones, matches never cross a line break and always contain a keyword (or their
    /// detector's anchor), so only the lines that can hold a match are searched.
    pub fn scan_text(&self, text: &str) -> Vec<Finding> {
        let bytes = text.as_bytes();
        let ranges = self.candidate_lines(bytes);
        if ranges.is_empty() {
            return Vec::new();
        }
        resolve_overlaps(self.run_ranges(bytes, ranges))
    }

    /// Same findings as `scan_text`, by running every detector over the whole text without
    /// the prefilter: the reference the prefilter is tested against.
    pub fn scan_text_exhaustive(&self, text: &str) -> Vec<Finding> {
        let mut found = Vec::new();
        for (i, det) in self.detectors.iter().enumerate() {
            self.run_detector(i, det, text.as_bytes(), &mut found);
        }
        resolve_overlaps(found)
    }

    /// `(detector, start, end)` of every line (or, for multi-line detectors, the whole text) a
    /// detector must search, as found by the prefilter; unsorted, possibly repeated.
    fn candidate_lines(&self, bytes: &[u8]) -> Vec<(usize, usize, usize)> {
        // One flat list keeps short strings (most JSON values) down to a couple of allocations.
        let mut ranges: Vec<(usize, usize, usize)> = Vec::new();
        if self.detectors.len() <= 128 && memchr::memchr(b'\n', bytes).is_none() {
            // One line (most JSON strings): every hit selects the whole text for its detector.
            let mut seen = 0u128;
            let mut add = |owner: usize| {
                if seen & (1 << owner) == 0 {
                    seen |= 1 << owner;
                    ranges.push((owner, 0, bytes.len()));
                }
            };
            self.keywords
                .for_each(bytes, |_, owners| owners.iter().for_each(|&o| add(o)));
            prefilter::for_each_anchor(bytes, &self.anchors, |anchor, _| {
                for &(owner, _) in self.anchored.iter().filter(|d| d.1 == anchor) {
                    add(owner);
                }
            });
            return ranges;
        }
        let mut marks: Vec<LineMarks> = (0..self.detectors.len())
            .map(|_| LineMarks::new(bytes))
            .collect();
        let mut whole = vec![false; self.detectors.len()];
        self.keywords.for_each(bytes, |at, owners| {
            for &owner in owners {
                if self.detectors[owner].spec.multiline {
                    if !whole[owner] {
                        whole[owner] = true;
                        ranges.push((owner, 0, bytes.len()));
                    }
                } else if let Some((a, b)) = marks[owner].mark(at) {
                    ranges.push((owner, a, b));
                }
            }
        });
        prefilter::for_each_anchor(bytes, &self.anchors, |anchor, at| {
            for &(owner, _) in self.anchored.iter().filter(|d| d.1 == anchor) {
                if let Some((a, b)) = marks[owner].mark(at) {
                    ranges.push((owner, a, b));
                }
            }
        });
        ranges
    }

    /// Runs each detector over its candidate lines (merged when close), unresolved findings.
    fn run_ranges(
        &self,
        bytes: &[u8],
        mut ranges: Vec<(usize, usize, usize)>,
    ) -> Vec<(usize, Finding)> {
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
        found
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
mod prefilter_tests {
    use super::*;

    #[test]
    fn shapes_keep_the_matches() {
        let text = "x\npay 4111 1111 1111 1111 now\niban DE89 3704 0044 0532 0130 00\nok";
        let ids: Vec<String> = scan_text(text).into_iter().map(|f| f.detector).collect();
        assert!(ids.contains(&"payment_card_number".to_string()), "{ids:?}");
        assert!(ids.contains(&"iban".to_string()), "{ids:?}");
    }

    #[test]
    fn table_needs_keywords_or_an_anchor() {
        let t =
            r#"{"detectors":[{"id":"x","class":"c","keywords":[],"pattern":"a","confidence":1}]}"#;
        assert!(Sanitizer::from_table(t).is_err());
    }
}
