//! In-memory f32 vector index: upsert/delete, top-k by cosine or dot product, and the PCVX v1
//! file format. Scores are accumulated in f64 over eight lanes in a fixed order, the same order
//! as the TypeScript fallback (`native/fallback/vector.ts`), so both give the same numbers bit
//! for bit. An index holds vectors of one embedding; every call names the embedding it means.

use crate::canonical::compare_utf16;
use std::cmp::Ordering;
use std::collections::HashMap;

const MAGIC: u32 = 0x5856_4350; // "PCVX" little-endian
const FORMAT_VERSION: u32 = 1;
const NO_META: u32 = u32::MAX;

/// How vectors are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Cosine,
    Dot,
}

impl Metric {
    /// Parses `"cosine"` or `"dot"`.
    pub fn parse(s: &str) -> Result<Metric, String> {
        match s {
            "cosine" => Ok(Metric::Cosine),
            "dot" => Ok(Metric::Dot),
            _ => Err("unknown metric (cosine or dot)".to_string()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Cosine => "cosine",
            Metric::Dot => "dot",
        }
    }
}

/// One query result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    pub id: String,
    pub score: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<String>,
}

/// Eight-lane f64 dot product; the lane order is part of the format's contract.
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    let mut lanes = [0f64; 8];
    let full = a.len() - a.len() % 8;
    for (x, y) in a[..full].chunks_exact(8).zip(b[..full].chunks_exact(8)) {
        for l in 0..8 {
            lanes[l] += f64::from(x[l]) * f64::from(y[l]);
        }
    }
    for i in full..a.len() {
        lanes[i % 8] += f64::from(a[i]) * f64::from(b[i]);
    }
    let [l0, l1, l2, l3, l4, l5, l6, l7] = lanes;
    l0 + l1 + (l2 + l3) + (l4 + l5 + (l6 + l7))
}

/// The index.
#[derive(Debug, Clone)]
pub struct VectorIndex {
    dims: usize,
    metric: Metric,
    embedding: String,
    ids: Vec<String>,
    metas: Vec<Option<String>>,
    slots: HashMap<String, usize>,
    data: Vec<f32>,
    norms: Vec<f64>,
}

impl VectorIndex {
    /// An empty index; dimensions must be 1..=65536.
    pub fn new(dims: usize, metric: Metric, embedding: &str) -> Result<Self, String> {
        if !(1..=65536).contains(&dims) {
            return Err(format!("bad dimensions {dims}"));
        }
        Ok(VectorIndex {
            dims,
            metric,
            embedding: embedding.to_string(),
            ids: Vec::new(),
            metas: Vec::new(),
            slots: HashMap::new(),
            data: Vec::new(),
            norms: Vec::new(),
        })
    }

    pub fn dims(&self) -> usize {
        self.dims
    }
    pub fn metric(&self) -> Metric {
        self.metric
    }
    pub fn embedding(&self) -> &str {
        &self.embedding
    }
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn check(&self, vector: &[f32], embedding: &str) -> Result<(), String> {
        if embedding != self.embedding {
            return Err(format!(
                "vectors of embedding \"{embedding}\" cannot be compared with \"{}\"",
                self.embedding
            ));
        }
        if vector.len() != self.dims {
            return Err(format!(
                "expected {} dimensions, got {}",
                self.dims,
                vector.len()
            ));
        }
        if vector.iter().any(|x| !x.is_finite()) {
            return Err("vector components must be finite".to_string());
        }
        Ok(())
    }

    /// Inserts or replaces a vector.
    pub fn upsert(
        &mut self,
        id: &str,
        vector: &[f32],
        embedding: &str,
        meta: Option<String>,
    ) -> Result<(), String> {
        self.check(vector, embedding)?;
        let slot = match self.slots.get(id) {
            Some(&slot) => {
                self.metas[slot] = meta;
                self.data[slot * self.dims..(slot + 1) * self.dims].copy_from_slice(vector);
                self.norms[slot] = dot(vector, vector).sqrt();
                return Ok(());
            }
            None => self.ids.len(),
        };
        self.ids.push(id.to_string());
        self.metas.push(meta);
        self.slots.insert(id.to_string(), slot);
        self.data.extend_from_slice(vector);
        self.norms.push(dot(vector, vector).sqrt());
        Ok(())
    }

    /// Removes a vector; false when absent. The last slot moves into the hole.
    pub fn delete(&mut self, id: &str) -> bool {
        let Some(slot) = self.slots.remove(id) else {
            return false;
        };
        let last = self.ids.len() - 1;
        if slot != last {
            self.data
                .copy_within(last * self.dims..(last + 1) * self.dims, slot * self.dims);
            self.ids.swap(slot, last);
            self.metas.swap(slot, last);
            self.norms.swap(slot, last);
            self.slots.insert(self.ids[slot].clone(), slot);
        }
        self.ids.pop();
        self.metas.pop();
        self.norms.pop();
        self.data.truncate(last * self.dims);
        true
    }

    /// Metadata stored with a vector.
    pub fn meta(&self, id: &str) -> Option<&str> {
        self.slots.get(id).and_then(|&s| self.metas[s].as_deref())
    }

    /// The k best vectors, by score descending, ties by id (UTF-16 code-unit order).
    pub fn query(&self, vector: &[f32], embedding: &str, k: usize) -> Result<Vec<Hit>, String> {
        self.check(vector, embedding)?;
        let qn = dot(vector, vector).sqrt();
        let mut scored: Vec<(f64, usize)> = self
            .data
            .chunks_exact(self.dims)
            .enumerate()
            .map(|(s, row)| {
                let mut score = dot(vector, row);
                if self.metric == Metric::Cosine {
                    let d = qn * self.norms[s];
                    score = if d == 0.0 { 0.0 } else { score / d };
                }
                (score, s)
            })
            .collect();
        let order = |a: &(f64, usize), b: &(f64, usize)| -> Ordering {
            b.0.total_cmp(&a.0)
                .then_with(|| compare_utf16(&self.ids[a.1], &self.ids[b.1]))
        };
        let k = k.min(scored.len());
        if k == 0 {
            return Ok(Vec::new());
        }
        if k < scored.len() {
            scored.select_nth_unstable_by(k - 1, order);
            scored.truncate(k);
        }
        scored.sort_unstable_by(order);
        Ok(scored
            .into_iter()
            .map(|(score, s)| Hit {
                id: self.ids[s].clone(),
                score,
                meta: self.metas[s].clone(),
            })
            .collect())
    }

    /// Serialises the index (format version 1, little-endian).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.data.len() * 4 + self.ids.len() * 48);
        out.extend_from_slice(&MAGIC.to_le_bytes());
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(self.dims as u32).to_le_bytes());
        out.push(if self.metric == Metric::Cosine { 0 } else { 1 });
        put_str(&mut out, &self.embedding);
        out.extend_from_slice(&(self.ids.len() as u32).to_le_bytes());
        for (s, id) in self.ids.iter().enumerate() {
            put_str(&mut out, id);
            match &self.metas[s] {
                Some(m) => put_str(&mut out, m),
                None => out.extend_from_slice(&NO_META.to_le_bytes()),
            }
            for x in &self.data[s * self.dims..(s + 1) * self.dims] {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        out
    }

    /// Parses bytes written by `to_bytes`; errors on anything else.
    pub fn from_bytes(buf: &[u8]) -> Result<VectorIndex, String> {
        let mut r = Reader { buf, at: 0 };
        if r.u32()? != MAGIC {
            return Err("not a vector index file".into());
        }
        let version = r.u32()?;
        if version != FORMAT_VERSION {
            return Err(format!("unsupported vector index version {version}"));
        }
        let dims = r.u32()? as usize;
        let metric = if r.take(1)?[0] == 0 {
            Metric::Cosine
        } else {
            Metric::Dot
        };
        let len = r.u32()? as usize;
        let embedding = r.string(len)?;
        let mut index = VectorIndex::new(dims, metric, &embedding)?;
        let count = r.u32()?;
        let mut row = vec![0f32; dims];
        for _ in 0..count {
            let len = r.u32()? as usize;
            let id = r.string(len)?;
            let meta = match r.u32()? {
                NO_META => None,
                n => Some(r.string(n as usize)?),
            };
            let bytes = r.take(dims * 4)?;
            for (x, b) in row.iter_mut().zip(bytes.chunks_exact(4)) {
                *x = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
            index.upsert(&id, &row, &embedding, meta)?;
        }
        Ok(index)
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.buf.len() - self.at < n {
            return Err("vector index file is truncated".into());
        }
        let s = &self.buf[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self, n: usize) -> Result<String, String> {
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_delete_query_and_round_trip() {
        let mut ix = VectorIndex::new(3, Metric::Cosine, "e").unwrap();
        ix.upsert("a", &[1.0, 0.0, 0.0], "e", Some("A".into()))
            .unwrap();
        ix.upsert("b", &[0.0, 1.0, 0.0], "e", None).unwrap();
        ix.upsert("c", &[1.0, 1.0, 0.0], "e", None).unwrap();
        let hits = ix.query(&[1.0, 0.2, 0.0], "e", 2).unwrap();
        assert_eq!(hits[0].id, "a");
        assert_eq!(hits[0].meta.as_deref(), Some("A"));
        assert_eq!(hits[1].id, "c");
        assert!(ix.delete("a"));
        assert!(!ix.delete("a"));
        assert_eq!(ix.meta("c"), None);
        let back = VectorIndex::from_bytes(&ix.to_bytes()).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(
            back.query(&[0.0, 1.0, 0.0], "e", 5).unwrap(),
            ix.query(&[0.0, 1.0, 0.0], "e", 5).unwrap()
        );
    }

    #[test]
    fn refuses_other_embeddings_and_bad_vectors() {
        let mut ix = VectorIndex::new(2, Metric::Dot, "e").unwrap();
        assert!(ix.upsert("a", &[1.0], "e", None).is_err());
        assert!(ix.upsert("a", &[1.0, f32::NAN], "e", None).is_err());
        assert!(ix
            .query(&[1.0, 0.0], "other", 1)
            .unwrap_err()
            .contains("cannot be compared"));
        assert!(VectorIndex::from_bytes(&ix.to_bytes()[..10]).is_err());
        assert!(VectorIndex::new(0, Metric::Dot, "e").is_err());
    }

    #[test]
    fn ties_break_by_utf16_id_order() {
        let mut ix = VectorIndex::new(1, Metric::Dot, "e").unwrap();
        for id in ["\u{ff61}", "\u{1f600}", "b"] {
            ix.upsert(id, &[1.0], "e", None).unwrap();
        }
        let ids: Vec<String> = ix
            .query(&[1.0], "e", 3)
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect();
        assert_eq!(ids, ["b", "\u{1f600}", "\u{ff61}"]);
    }
}
