//! The sanitizer's prefilter: which lines each detector has to search.
//!
//! Every single-line match contains one of its detector's keywords (ASCII case-insensitive) or,
//! for the personal-data detectors without keywords, its byte-shape anchor. So a detector only
//! runs on the lines that hold one, found here in two passes over the text:
//!
//! - keywords: the text is lower-cased into a reused buffer and searched for the lower-cased
//!   keywords of three or more bytes with one leftmost-first multi-pattern search (Teddy where
//!   the CPU has it, else an Aho-Corasick DFA); a keyword that starts inside another reported
//!   keyword is found by comparing the few keywords that could overlap it (computed once).
//!   Shorter keywords are searched one by one with `memmem`, as they would flood Teddy's
//!   fingerprints.
//! - anchors: '@' and ':' are found with `memchr`; digit runs with a 32-byte block scan, and
//!   each run is checked for the card, IBAN, phone and IPv4 shapes around it.
//!
//! Line bounds are looked up around each hit (`memrchr`/`memchr`), so no per-line index is built.

use aho_corasick::{packed, AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem;
use serde::Deserialize;
use std::cell::RefCell;

/// A byte shape that every match of an anchored detector contains (see `detectors.json`).
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(super) enum Anchor {
    /// An '@'.
    At,
    /// Thirteen or more digits where one ' ' or '-' may stand between two digits.
    CardDigits,
    /// Two upper-case letters followed by two digits.
    IbanPrefix,
    /// Three or more digits, ' ' or '-', three digits.
    PhoneGroups,
    /// Four runs of one to three digits joined by '.'.
    DottedQuad,
    /// "::" or a ':' between two hex digits.
    HexColon,
}

/// One distinct lower-cased keyword and the detectors it switches on.
struct Keyword {
    bytes: Vec<u8>,
    owners: Vec<usize>,
}

/// Searches the lower-cased text for the long keywords, leftmost-first and non-overlapping.
enum LongSearch {
    Teddy(packed::Searcher),
    Automaton(AhoCorasick),
}

/// The keyword half of the prefilter.
pub(super) struct KeywordFinder {
    words: Vec<Keyword>,
    /// Word index of each pattern of the long search.
    long: Vec<usize>,
    search: Option<LongSearch>,
    /// Per long pattern: (offset, word) of the keywords that may start inside its occurrence.
    overlaps: Vec<Vec<(usize, usize)>>,
    /// memmem finders of the short keywords, with their word index.
    short: Vec<(memmem::Finder<'static>, usize)>,
    /// Per word: (offset, word) of the keywords containing it, which are not searched for
    /// themselves but checked around each occurrence of the word they contain.
    containers: Vec<Vec<(usize, usize)>>,
}

/// Keywords shorter than this go through `memmem` instead of the multi-pattern search.
const MIN_LONG: usize = 3;

impl KeywordFinder {
    /// Builds the finder from `(keyword, detector)` pairs.
    pub(super) fn new(pairs: &[(String, usize)]) -> Result<Self, String> {
        let mut words: Vec<Keyword> = Vec::new();
        for (k, owner) in pairs {
            let bytes = k.to_ascii_lowercase().into_bytes();
            if bytes.is_empty() || bytes.contains(&b'\n') {
                return Err(format!(
                    "detector {owner}: keyword {k:?} is empty or has a line feed"
                ));
            }
            match words.iter_mut().find(|w| w.bytes == bytes) {
                Some(w) if !w.owners.contains(owner) => w.owners.push(*owner),
                Some(_) => {}
                None => words.push(Keyword {
                    bytes,
                    owners: vec![*owner],
                }),
            }
        }
        // A keyword that contains another one is found through it, which keeps Teddy's buckets
        // small: "sk-ant-" is checked wherever "sk" occurs.
        let inside = |outer: &[u8], inner: &[u8]| memmem::find(outer, inner);
        let mut containers = vec![Vec::new(); words.len()];
        let mut searched = Vec::new();
        for a in 0..words.len() {
            let within = (0..words.len())
                .filter(|&b| b != a && words[b].bytes.len() < words[a].bytes.len())
                .filter(|&b| {
                    !words.iter().enumerate().any(|(c, w)| {
                        c != b
                            && w.bytes.len() < words[b].bytes.len()
                            && inside(&words[b].bytes, &w.bytes).is_some()
                    })
                })
                .find_map(|b| inside(&words[a].bytes, &words[b].bytes).map(|at| (b, at)));
            match within {
                Some((b, at)) => containers[b].push((at, a)),
                None => searched.push(a),
            }
        }
        let long: Vec<usize> = searched
            .iter()
            .copied()
            .filter(|&i| words[i].bytes.len() >= MIN_LONG)
            .collect();
        let patterns: Vec<&[u8]> = long.iter().map(|&i| words[i].bytes.as_slice()).collect();
        let search = if patterns.is_empty() {
            None
        } else {
            let mut config = packed::Config::new();
            config
                .match_kind(packed::MatchKind::LeftmostFirst)
                .heuristic_pattern_limits(false);
            match config.builder().extend(&patterns).build() {
                Some(teddy) => Some(LongSearch::Teddy(teddy)),
                None => Some(LongSearch::Automaton(
                    AhoCorasick::builder()
                        .match_kind(MatchKind::LeftmostFirst)
                        .kind(Some(AhoCorasickKind::DFA))
                        .build(&patterns)
                        .map_err(|e| format!("keyword automaton: {e}"))?,
                )),
            }
        };
        let overlaps = long
            .iter()
            .map(|&k| {
                let kb = &words[k].bytes;
                let mut list = Vec::new();
                for &j in &long {
                    let jb = &words[j].bytes;
                    for offset in 0..kb.len() {
                        let n = (kb.len() - offset).min(jb.len());
                        if j != k && kb[offset..offset + n] == jb[..n] {
                            list.push((offset, j));
                        }
                    }
                }
                list
            })
            .collect();
        let short = searched
            .iter()
            .copied()
            .filter(|&i| words[i].bytes.len() < MIN_LONG)
            .map(|i| (memmem::Finder::new(&words[i].bytes).into_owned(), i))
            .collect();
        Ok(KeywordFinder {
            words,
            long,
            search,
            overlaps,
            short,
            containers,
        })
    }

    /// Calls `hit(position, detectors)` for every keyword occurrence in `text` (ASCII
    /// case-insensitive). Occurrences come in increasing order per keyword class (long ones,
    /// then each short keyword), which is all the callers rely on.
    pub(super) fn for_each(&self, text: &[u8], mut hit: impl FnMut(usize, &[usize])) {
        thread_local! {
            static LOWER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        LOWER.with(|cell| {
            let mut lower = cell.borrow_mut();
            lower.clear();
            lower.extend(text.iter().map(u8::to_ascii_lowercase));
            let lower = lower.as_slice();
            let mut emit = |word: usize, at: usize| {
                hit(at, &self.words[word].owners);
                for &(offset, outer) in &self.containers[word] {
                    if at >= offset && lower[at - offset..].starts_with(&self.words[outer].bytes) {
                        hit(at - offset, &self.words[outer].owners);
                    }
                }
            };
            let mut on_long = |pattern: usize, start: usize| {
                emit(self.long[pattern], start);
                for &(offset, j) in &self.overlaps[pattern] {
                    let at = start + offset;
                    if lower[at..].starts_with(&self.words[j].bytes) {
                        emit(j, at);
                    }
                }
            };
            match &self.search {
                Some(LongSearch::Teddy(s)) => {
                    for m in s.find_iter(lower) {
                        on_long(m.pattern().as_usize(), m.start());
                    }
                }
                Some(LongSearch::Automaton(ac)) => {
                    for m in ac.find_iter(lower) {
                        on_long(m.pattern().as_usize(), m.start());
                    }
                }
                None => {}
            }
            for (finder, word) in &self.short {
                for at in finder.find_iter(lower) {
                    emit(*word, at);
                }
            }
        });
        LOWER.with(|cell| {
            let mut lower = cell.borrow_mut();
            if lower.capacity() > 8 << 20 {
                *lower = Vec::new();
            }
        });
    }
}

/// Bounds of the line (without its line feed) that holds byte `at`.
pub(super) fn line_around(text: &[u8], at: usize) -> (usize, usize) {
    let start = memchr::memrchr(b'\n', &text[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |i| at + i);
    (start, end)
}

/// Collects the lines of one detector, skipping hits inside the line collected last.
pub(super) struct LineMarks<'a> {
    text: &'a [u8],
    last: (usize, usize),
    any: bool,
}

impl<'a> LineMarks<'a> {
    pub(super) fn new(text: &'a [u8]) -> Self {
        LineMarks {
            text,
            last: (0, 0),
            any: false,
        }
    }

    /// Returns the line holding `at` unless it is the one returned last.
    pub(super) fn mark(&mut self, at: usize) -> Option<(usize, usize)> {
        if self.any && at >= self.last.0 && at <= self.last.1 {
            return None;
        }
        self.any = true;
        self.last = line_around(self.text, at);
        Some(self.last)
    }
}

/// Position of the first ASCII digit at or after `from`.
fn next_digit(text: &[u8], mut from: usize) -> Option<usize> {
    while from + 32 <= text.len() {
        let block: &[u8; 32] = text[from..from + 32].try_into().ok()?;
        let mut mask = 0u32;
        for (k, &b) in block.iter().enumerate() {
            mask |= u32::from(b.wrapping_sub(b'0') < 10) << k;
        }
        if mask != 0 {
            return Some(from + mask.trailing_zeros() as usize);
        }
        from += 32;
    }
    text[from..]
        .iter()
        .position(u8::is_ascii_digit)
        .map(|k| from + k)
}

fn digit_run_end(text: &[u8], from: usize) -> usize {
    from + text[from..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// Whether four runs of 1-3 digits joined by '.' start at `start` (a run of `len` digits).
fn dotted_quad_at(text: &[u8], start: usize, len: usize) -> bool {
    let (mut end, mut len) = (start + len, len);
    for _ in 0..3 {
        if !(1..=3).contains(&len) || text.get(end) != Some(&b'.') {
            return false;
        }
        let next = digit_run_end(text, end + 1);
        len = next - end - 1;
        end = next;
    }
    (1..=3).contains(&len)
}

/// Calls `hit(anchor, position)` for every occurrence of the wanted anchors' shapes.
pub(super) fn for_each_anchor(text: &[u8], wanted: &[Anchor], mut hit: impl FnMut(Anchor, usize)) {
    let want = |a: Anchor| wanted.contains(&a);
    if want(Anchor::At) {
        for at in memchr::memchr_iter(b'@', text) {
            hit(Anchor::At, at);
        }
    }
    if want(Anchor::HexColon) {
        for at in memchr::memchr_iter(b':', text) {
            let next = text.get(at + 1).copied().unwrap_or(b'\n');
            let prev = if at > 0 { text[at - 1] } else { b'\n' };
            if next == b':' || (is_hex(prev) && is_hex(next)) {
                hit(Anchor::HexColon, at);
            }
        }
    }
    let (card, iban, phone, quad) = (
        want(Anchor::CardDigits),
        want(Anchor::IbanPrefix),
        want(Anchor::PhoneGroups),
        want(Anchor::DottedQuad),
    );
    if !(card || iban || phone || quad) {
        return;
    }
    // Card chain: digits so far in the current chain of runs joined by single separators.
    let (mut chain, mut chain_end) = (0usize, usize::MAX);
    let mut from = 0;
    while let Some(start) = next_digit(text, from) {
        let end = digit_run_end(text, start);
        let len = end - start;
        if card {
            let joined = chain_end != usize::MAX
                && start == chain_end + 1
                && matches!(text[chain_end], b' ' | b'-');
            chain = if joined { chain + len } else { len };
            chain_end = end;
            if chain >= 13 {
                hit(Anchor::CardDigits, start);
            }
        }
        if iban
            && len >= 2
            && start >= 2
            && text[start - 1].is_ascii_uppercase()
            && text[start - 2].is_ascii_uppercase()
        {
            hit(Anchor::IbanPrefix, start);
        }
        if phone
            && len >= 3
            && matches!(text.get(end), Some(b' ' | b'-'))
            && text.len() >= end + 4
            && text[end + 1..end + 4].iter().all(u8::is_ascii_digit)
        {
            hit(Anchor::PhoneGroups, start);
        }
        if quad && dotted_quad_at(text, start, len) {
            hit(Anchor::DottedQuad, start);
        }
        from = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchors(text: &str, a: Anchor) -> Vec<usize> {
        let mut out = Vec::new();
        for_each_anchor(text.as_bytes(), &[a], |_, at| out.push(at));
        out
    }

    #[test]
    fn digit_shapes() {
        assert_eq!(anchors("x 4111 1111-1111 1111", Anchor::CardDigits), [17]);
        assert!(anchors("4111 1111  1111 1111", Anchor::CardDigits).is_empty());
        assert_eq!(anchors("GB29NWBK and ab12", Anchor::IbanPrefix), [2]);
        assert_eq!(
            anchors("+1 415-555-0132 or 12-345", Anchor::PhoneGroups),
            [3, 7]
        );
        assert_eq!(
            anchors("v 1.2.3 at 10.20.30.40, 1234.1.1.1", Anchor::DottedQuad),
            [11]
        );
        assert_eq!(anchors("std::io a?b:c type: x", Anchor::HexColon), [3, 11]);
        let long = format!("{}7", "x".repeat(100));
        assert_eq!(next_digit(long.as_bytes(), 0), Some(100));
        assert_eq!(next_digit(b"abc", 0), None);
    }

    #[test]
    fn keywords_found_inside_other_keywords_and_short_ones() {
        let pairs: Vec<(String, usize)> =
            [("key", 0), ("private_key_id", 1), ("SK", 2), ("sk-ant-", 3)]
                .iter()
                .map(|(k, d)| (k.to_string(), *d))
                .collect();
        let finder = KeywordFinder::new(&pairs).unwrap();
        let mut hits = Vec::new();
        finder.for_each(b"a PRIVATE_KEY_ID and Sk-Ant-x", |at, owners| {
            hits.extend(owners.iter().map(|o| (at, *o)));
        });
        hits.sort_unstable();
        assert_eq!(hits, [(2, 1), (10, 0), (21, 2), (21, 3)]);
    }
}
