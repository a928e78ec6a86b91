//! The feature cache of `curator train reranker`: every training context's raw candidate
//! features and targets in one little-endian binary file (`features-<key>.bin` in the cache
//! folder, keyed by the feature names, the catalog manifest and `ranker.yaml`).

use std::path::Path;

use crate::catalog::{Catalog, ItemId};
use crate::rank::policy::{CandidateSet, D};
use crate::{Error, Result};

/// One context's cached features and targets.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedPoint {
    /// 0: reranker-train, 1: reranker-validation.
    pub fold: u8,
    /// Raw features, row-major `C × D`.
    pub raw: Vec<f32>,
    /// Per ground-truth item (de-dup): its candidate index, if a candidate.
    pub target_candidate: Vec<Option<u32>>,
    /// Per ground-truth item: its 1-based rank in the fusion's order (None: excluded).
    pub target_fusion_rank: Vec<Option<u32>>,
}

pub(super) const MAGIC: &[u8; 8] = b"CRRRK001";

pub(super) fn write_cache(path: &Path, points: &[CachedPoint]) -> Result<()> {
    let mut out: Vec<u8> = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(D as u32).to_le_bytes());
    out.extend_from_slice(&(points.len() as u32).to_le_bytes());
    for p in points {
        out.push(p.fold);
        out.extend_from_slice(&((p.raw.len() / D) as u32).to_le_bytes());
        out.extend_from_slice(&(p.target_candidate.len() as u32).to_le_bytes());
        for (c, f) in p.target_candidate.iter().zip(&p.target_fusion_rank) {
            out.extend_from_slice(&c.unwrap_or(u32::MAX).to_le_bytes());
            out.extend_from_slice(&f.unwrap_or(u32::MAX).to_le_bytes());
        }
        for x in &p.raw {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    crate::util::write_atomic(path, &out)
}

/// A cursor over the cache's bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let s = self
            .bytes
            .get(self.at..self.at + n)
            .ok_or_else(|| Error::parse(self.path, 0, "feature cache: truncated".to_string()))?;
        self.at += n;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
}

pub(super) fn read_cache(path: &Path) -> Result<Vec<CachedPoint>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |m: &str| Error::parse(path, 0, format!("feature cache: {m}"));
    let mut r = Reader { bytes: &bytes, at: 0, path };
    if r.take(8)? != MAGIC {
        return Err(bad("wrong magic"));
    }
    if r.u32()? as usize != D {
        return Err(bad("feature count differs from this build"));
    }
    let n = r.u32()? as usize;
    let opt = |v: u32| if v == u32::MAX { None } else { Some(v) };
    let mut points = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let fold = r.take(1)?[0];
        let c = r.u32()? as usize;
        let t = r.u32()? as usize;
        let mut target_candidate = Vec::new();
        let mut target_fusion_rank = Vec::new();
        for _ in 0..t {
            target_candidate.push(opt(r.u32()?));
            target_fusion_rank.push(opt(r.u32()?));
        }
        let raw = r.take(c * D * 4)?.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        points.push(CachedPoint { fold, raw, target_candidate, target_fusion_rank });
    }
    Ok(points)
}

/// The cached form of one point: candidate indices and fusion ranks of `targets`.
pub(super) fn cached(set: &CandidateSet, catalog: &Catalog, targets: &[ItemId], fold: u8) -> CachedPoint {
    let index_of = |p: usize, v: &[usize]| v.iter().position(|&q| q == p).map(|i| i as u32);
    let pos: Vec<Option<usize>> = targets.iter().map(|&t| catalog.position(t)).collect();
    CachedPoint {
        fold,
        raw: set.features.clone(),
        target_candidate: pos.iter().map(|p| p.and_then(|p| index_of(p, &set.positions))).collect(),
        target_fusion_rank: pos.iter().map(|p| p.and_then(|p| index_of(p, &set.fusion_order)).map(|r| r + 1)).collect(),
    }
}
