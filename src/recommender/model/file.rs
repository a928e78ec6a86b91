//! The file format of [`ItemModel`] (`recommender.bin`).

use super::*;

impl ItemModel {
    /// Serialises the model: magic `CURATOR-RECOMMENDER\n`, u32 version 1, u32 header length,
    /// the [`ModelInfo`] as JSON, u32 item count n, n u32 ids, n f32 popularities, n u32 row
    /// lengths, then each row's (u32 index, f32 weight) pairs, all little-endian; last, the
    /// sha256 of everything before it.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let header = serde_json::to_vec(&self.info)
            .map_err(|e| Error::InvalidInput(format!("cannot serialise the model header: {e}")))?;
        let mut out = Vec::with_capacity(64 + header.len() + self.ids.len() * 12 + self.entries() * 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&(self.ids.len() as u32).to_le_bytes());
        for id in &self.ids {
            out.extend_from_slice(&id.to_le_bytes());
        }
        for p in &self.popularity {
            out.extend_from_slice(&p.to_le_bytes());
        }
        for row in &self.neighbours {
            out.extend_from_slice(&(row.len() as u32).to_le_bytes());
        }
        for row in &self.neighbours {
            for (j, w) in row {
                out.extend_from_slice(&j.to_le_bytes());
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        Ok(out)
    }

    /// Parses [`ItemModel::to_bytes`] output; `path` names the source in errors.
    ///
    /// Errors: [`Error::Parse`] for a wrong magic or version, a checksum mismatch (a damaged
    /// file), a truncated file, an out-of-range neighbour index or a weight or popularity that
    /// is not finite.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        let bad = |m: &str| {
            Error::parse(path, 0, format!("{m}; restore it with `git checkout -- catalogs/movies` or retrain with `curator train recommender --source ../shared/data`"))
        };
        if bytes.len() < MAGIC.len() + 32 || !bytes.starts_with(MAGIC) {
            return Err(bad("not a Curator recommender file"));
        }
        let (body, digest) = bytes.split_at(bytes.len() - 32);
        if Sha256::digest(body).as_slice() != digest {
            return Err(bad("checksum mismatch (damaged file)"));
        }
        let mut r = Reader { bytes: body, at: MAGIC.len() };
        let version = r.u32().ok_or_else(|| bad("truncated"))?;
        if version != 1 {
            return Err(bad(&format!("unsupported version {version}")));
        }
        let hlen = r.u32().ok_or_else(|| bad("truncated"))? as usize;
        let header = r.take(hlen).ok_or_else(|| bad("truncated header"))?;
        let info: ModelInfo = serde_json::from_slice(header).map_err(|e| bad(&format!("bad header: {e}")))?;
        let n = r.u32().ok_or_else(|| bad("truncated"))? as usize;
        if n > body.len() / 4 {
            return Err(bad("item count larger than the file"));
        }
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            ids.push(r.u32().ok_or_else(|| bad("truncated ids"))?);
        }
        if ids.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("item ids not strictly ascending"));
        }
        let mut popularity = Vec::with_capacity(n);
        for _ in 0..n {
            let p = f32::from_bits(r.u32().ok_or_else(|| bad("truncated popularity"))?);
            if !p.is_finite() {
                return Err(bad("popularity not finite"));
            }
            popularity.push(p);
        }
        let mut lens = Vec::with_capacity(n);
        for _ in 0..n {
            lens.push(r.u32().ok_or_else(|| bad("truncated row lengths"))? as usize);
        }
        let mut neighbours = Vec::with_capacity(n);
        for len in lens {
            if len > n {
                return Err(bad("row longer than the item count"));
            }
            let mut row = Vec::with_capacity(len);
            for _ in 0..len {
                let j = r.u32().ok_or_else(|| bad("truncated rows"))?;
                let w = f32::from_bits(r.u32().ok_or_else(|| bad("truncated rows"))?);
                if j as usize >= n || !w.is_finite() {
                    return Err(bad("neighbour index out of range or weight not finite"));
                }
                row.push((j, w));
            }
            neighbours.push(row);
        }
        if r.at != body.len() {
            return Err(bad("trailing bytes"));
        }
        Ok(ItemModel { info, ids, popularity, neighbours })
    }

    /// Checks that the model knows every item of `catalog` (the catalog it will score); `path`
    /// names the model file in the error.
    ///
    /// Errors: [`Error::InvalidInput`] naming the first catalog item the model does not know and
    /// how to restore or retrain the file.
    pub fn check_covers(&self, catalog: &Catalog, path: &Path) -> Result<()> {
        match catalog.items().iter().find(|it| self.index(it.id).is_none()) {
            None => Ok(()),
            Some(it) => Err(Error::InvalidInput(format!(
                "{} does not know catalog item {} ({}; the model has {} items, the catalog {}): it was trained for \
                 another catalog; restore it with `git checkout -- catalogs/movies` or retrain with `curator train \
                 recommender --source ../shared/data`",
                path.display(),
                it.id,
                it.display_name(),
                self.ids.len(),
                catalog.len()
            ))),
        }
    }

    /// Writes the model to `path` (through a temporary file and a rename, see
    /// [`crate::util::write_atomic`]).
    ///
    /// Errors: [`Error::Io`].
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::util::write_atomic(path, &self.to_bytes()?)
    }

    /// Reads a model written by [`ItemModel::save`].
    ///
    /// Errors: [`Error::Missing`] if absent (with how to train it); those of
    /// [`ItemModel::from_bytes`].
    pub fn load(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(Error::Missing(format!(
                "{} not found; train it with `curator train recommender --source ../shared/data`",
                path.display()
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        ItemModel::from_bytes(&bytes, path)
    }
}

const MAGIC: &[u8] = b"CURATOR-RECOMMENDER\n";

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    fn u32(&mut self) -> Option<u32> {
        let s = self.take(4)?;
        Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
}
