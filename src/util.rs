//! Small helpers used across the crate, each in one place: atomic file writes, SHA-256 hex
//! digests, JSON-lines reading and cutting text at a character boundary.
//!
//! Ground level: this module depends on nothing in the crate but [`crate::error`], so that any
//! module may use it.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` so that readers see either the old file or the whole new one: the
/// bytes go to a temporary file in the same folder (`.<name>.<pid>-<n>.tmp`), which is flushed to
/// disk (fsync) and then renamed over `path`. Creates the folder if needed; on failure the
/// temporary file is removed and `path` is untouched.
///
/// Errors: [`Error::Io`] naming `path` (or its folder when that cannot be created);
/// [`Error::InvalidInput`] when `path` has no file name (e.g. `..`).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let Some(name) = path.file_name() else {
        return Err(Error::InvalidInput(format!("{}: not a file path", path.display())));
    };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}-{}.tmp", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed)));
    let tmp = path.with_file_name(tmp_name);
    let written = File::create(&tmp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    // Best effort: make the rename itself durable (not supported on every platform).
    if let Ok(d) = File::open(dir.unwrap_or(Path::new("."))) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Lower-case hexadecimal form of `bytes`, two digits a byte (`[0xba, 0x78]` → `"ba78"`).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// SHA-256 of `bytes` as 64 lower-case hexadecimal digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// SHA-256 of the file at `path` as 64 lower-case hexadecimal digits, read in 1 MiB blocks (the
/// file is never held in memory whole).
///
/// Errors: [`Error::Io`] naming `path` when it cannot be opened or read.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    Ok(hex(&hasher.finalize()))
}

/// Reads a small tab-separated table at `path`: its rows after the header line, each as its
/// 1-based line number and exactly `fields` fields; blank lines and lines starting with `#`
/// (comments) are skipped.
///
/// Errors: [`Error::Io`] naming `path` when it cannot be read; [`Error::Parse`] naming `path`
/// and the line of a row with another number of fields (`what` names them).
pub fn read_tsv_rows(path: &Path, fields: usize, what: &str) -> Result<Vec<(usize, Vec<String>)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_tsv_rows(&text, path, fields, what)
}

/// [`read_tsv_rows`] over a table already in memory; `path` only names the source in errors.
///
/// Errors: [`Error::Parse`] as [`read_tsv_rows`].
pub fn parse_tsv_rows(text: &str, path: &Path, fields: usize, what: &str) -> Result<Vec<(usize, Vec<String>)>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let row: Vec<String> = line.split('\t').map(str::to_string).collect();
        if row.len() != fields {
            return Err(Error::parse(path, i + 1, format!("expected {fields} tab-separated fields: {what}")));
        }
        out.push((i + 1, row));
    }
    Ok(out)
}

/// Reads the JSON-lines file at `path`: one `T` per line, in file order; blank (whitespace-only)
/// lines are skipped.
///
/// Errors: [`Error::Io`] naming `path` when it cannot be opened or read; [`Error::Parse`] naming
/// `path`, the 1-based line number and serde's message for the first line that is not a `T`
/// (e.g. `items.jsonl:3: expected value at line 1 column 1`).
pub fn read_jsonl<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for_each_jsonl(path, |_, value| {
        out.push(value);
        Ok(())
    })?;
    Ok(out)
}

/// Streams the JSON-lines file at `path` (for files too big to hold as a `Vec`): calls `f` with
/// the 1-based line number and the parsed `T` of every non-blank line, in order, and stops at
/// the first error, from the file or from `f`.
///
/// Errors: as [`read_jsonl`], or the first error `f` returns (passed on unchanged).
pub fn for_each_jsonl<T, F>(path: &Path, f: F) -> Result<()>
where
    T: DeserializeOwned,
    F: FnMut(usize, T) -> Result<()>,
{
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    for_each_jsonl_in(BufReader::new(file), path, f)
}

/// [`for_each_jsonl`] over JSON lines already in memory (e.g. a file read once to be hashed too);
/// `path` only names the source in errors.
///
/// Errors: [`Error::Parse`] as [`read_jsonl`], or the first error `f` returns.
pub fn for_each_jsonl_bytes<T, F>(bytes: &[u8], path: &Path, f: F) -> Result<()>
where
    T: DeserializeOwned,
    F: FnMut(usize, T) -> Result<()>,
{
    for_each_jsonl_in(bytes, path, f)
}

fn for_each_jsonl_in<T, F>(mut reader: impl BufRead, path: &Path, mut f: F) -> Result<()>
where
    T: DeserializeOwned,
    F: FnMut(usize, T) -> Result<()>,
{
    let mut line = Vec::new();
    let mut line_no = 0usize;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(|e| Error::io(path, e))? == 0 {
            return Ok(());
        }
        line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value = serde_json::from_slice(&line).map_err(|e| Error::parse(path, line_no, e.to_string()))?;
        f(line_no, value)?;
    }
}

/// The longest prefix of `text` that is at most `max_bytes` bytes long and ends on a character
/// boundary (a multi-byte character that would straddle the limit is left out whole). Returns
/// `text` itself when it is no longer than `max_bytes`, and `""` for `max_bytes == 0`.
pub fn cut_at_char_boundary(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut cut = max_bytes;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

/// splitmix64 (Steele, Lea and Flood, "Fast Splittable Pseudorandom Number Generators",
/// OOPSLA 2014): advances `state` and returns the next value of a deterministic stream. Used
/// where a run must be reproducible (bootstrap resampling, training order).
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A sort key whose ascending order is the descending order of [`f32::total_cmp`] (NaNs and
/// −0.0 placed as `total_cmp` places them): sorting plain integers instead of calling a float
/// comparator through an index is several times faster on the catalog-sized sorts of a turn.
pub fn descending_key(x: f32) -> u32 {
    let b = x.to_bits();
    let ascending = if b & 0x8000_0000 != 0 { !b } else { b | 0x8000_0000 };
    !ascending
}

/// `f` over the two halves of `items` at once, the first on a scoped thread and the second on
/// the caller's (the 2-core machines this runs on): `(f(first half), f(second half))`, the first
/// an `Err` when its thread panicked. `items.len() / 2` items go to the first half.
pub fn in_two_halves<T: Sync, R: Send>(items: &[T], f: impl Fn(&[T]) -> R + Sync) -> (std::thread::Result<R>, R) {
    let (first, second) = items.split_at(items.len() / 2);
    std::thread::scope(|s| {
        let h = s.spawn(|| f(first));
        let b = f(second);
        (h.join(), b)
    })
}

/// The indices `i` of `values` with `keep(i)`, by descending value ([`f32::total_cmp`]), ties by
/// ascending index; only the first `m` (all of them when `m` is at least their count). The same
/// order as sorting the kept indices with `values[b].total_cmp(&values[a]).then(a.cmp(&b))`, in
/// O(n + m log m) when `m` is small (a selection, then a sort of the head), O(n) otherwise (a
/// radix sort).
pub fn top_indices_desc(values: &[f32], keep: impl Fn(usize) -> bool, m: usize) -> Vec<usize> {
    let mut keys: Vec<u64> = (0..values.len().min(u32::MAX as usize))
        .filter(|&i| keep(i))
        .map(|i| (u64::from(descending_key(values[i])) << 32) | i as u64)
        .collect();
    if m == 0 {
        return Vec::new();
    }
    if m.saturating_mul(8) < keys.len() {
        keys.select_nth_unstable(m - 1);
        keys.truncate(m);
        keys.sort_unstable();
    } else {
        // A long head (the catalog-wide ranks of a turn): the keys are in ascending index order,
        // so a stable sort by the value half alone gives the same order as sorting the whole key.
        // Exact zeros (most items for co-mentions and PageRank) need no sort: they sit between
        // the values above and below zero, already in index order.
        let zero = descending_key(0.0);
        let (mut above, mut zeros, mut below) = (Vec::new(), Vec::new(), Vec::new());
        for k in keys {
            match ((k >> 32) as u32).cmp(&zero) {
                std::cmp::Ordering::Less => above.push(k),
                std::cmp::Ordering::Equal => zeros.push(k),
                std::cmp::Ordering::Greater => below.push(k),
            }
        }
        radix_sort_from(&mut above, 32);
        radix_sort_from(&mut below, 32);
        above.append(&mut zeros);
        above.append(&mut below);
        keys = above;
        keys.truncate(m);
    }
    keys.into_iter().map(|k| (k & 0xFFFF_FFFF) as usize).collect()
}

/// An unsigned integer sort key for [`radix_sort_from`].
pub trait RadixKey: Copy + Default {
    /// Width in bits.
    const BITS: u32;
    /// The 8 bits starting at bit `shift` (shift < `BITS`).
    fn byte(self, shift: u32) -> usize;
}

impl RadixKey for u64 {
    const BITS: u32 = 64;
    fn byte(self, shift: u32) -> usize {
        ((self >> shift) & 0xFF) as usize
    }
}

impl RadixKey for u128 {
    const BITS: u32 = 128;
    fn byte(self, shift: u32) -> usize {
        ((self >> shift) & 0xFF) as usize
    }
}

/// Stable least-significant-digit radix sort of `keys` by their bits from `low_bit` up (8-bit
/// digits; a pass whose digit is the same in every key is skipped; `low_bit` rounded down to a
/// multiple of 8): keys equal in those bits keep their order. O(n · passes), against
/// O(n log n) for a comparison sort, for the catalog-wide sorts of every turn, whose keys put
/// the item's index in the low 32 bits (already in ascending order) below the sort value.
pub fn radix_sort_from<K: RadixKey>(keys: &mut Vec<K>, low_bit: u32) {
    let shifts: Vec<u32> = (low_bit / 8 * 8..K::BITS).step_by(8).collect();
    // Every digit's histogram in one read of the keys.
    let mut counts = vec![[0usize; 256]; shifts.len()];
    for &k in keys.iter() {
        for (count, &shift) in counts.iter_mut().zip(&shifts) {
            count[k.byte(shift)] += 1;
        }
    }
    let mut buf = vec![K::default(); keys.len()];
    for (count, &shift) in counts.iter_mut().zip(&shifts) {
        if count.contains(&keys.len()) {
            continue;
        }
        let mut sum = 0;
        for c in count.iter_mut() {
            let n = *c;
            *c = sum;
            sum += n;
        }
        for &k in keys.iter() {
            let d = k.byte(shift);
            buf[count[d]] = k;
            count[d] += 1;
        }
        std::mem::swap(keys, &mut buf);
    }
}

/// A progress bar on stderr for `len` steps, labelled `message` ("{msg} [====>  ] pos/len (elapsed,
/// eta)"); indicatif hides it when stderr is not a terminal.
pub fn progress_bar(len: usize, message: String) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len as u64);
    let style = indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({elapsed_precise}, eta {eta})")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(message);
    bar
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;

    #[test]
    fn two_halves_cover_the_items_in_order_and_report_a_panic() {
        let items: Vec<u32> = (0..7).collect();
        let (a, b) = in_two_halves(&items, |c: &[u32]| c.to_vec());
        assert_eq!((a.unwrap(), b), (vec![0, 1, 2], vec![3, 4, 5, 6]));
        let (a, b) = in_two_halves(&[] as &[u32], |c: &[u32]| c.len());
        assert_eq!((a.unwrap(), b), (0, 0));
        let (a, b) = in_two_halves(&items, |c: &[u32]| {
            assert!(c.len() != 3, "first half");
            c.len()
        });
        assert!(a.is_err());
        assert_eq!(b, 4);
    }

    proptest! {
        /// `top_indices_desc` gives the order of the float comparator it replaces, by either path
        /// (a selection for a short head, the radix sort for a long one).
        #[test]
        fn top_indices_match_the_comparator_sort(
            values in proptest::collection::vec(prop_oneof![Just(0.0f32), Just(-0.0f32), Just(f32::NAN), -5.0f32..5.0, -1e30f32..1e30], 0..700),
            m in 0usize..750,
            drop_every in 2usize..6,
        ) {
            let keep = |i: usize| !i.is_multiple_of(drop_every);
            let mut idx: Vec<usize> = (0..values.len()).filter(|&i| keep(i)).collect();
            idx.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
            idx.truncate(m);
            prop_assert_eq!(top_indices_desc(&values, keep, m), idx);
        }
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Row {
        id: u32,
    }

    #[test]
    fn write_atomic_creates_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/out.json");
        write_atomic(&path, b"first").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        write_atomic(&path, b"second, longer").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second, longer");
        let names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["out.json"]);
    }

    #[test]
    fn write_atomic_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should go: the rename fails, the folder stays, no temp is left.
        let path = dir.path().join("taken");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("inside"), b"x").unwrap();
        let err = write_atomic(&path, b"data").unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
        assert!(err.to_string().starts_with(&format!("{}: ", path.display())), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // A parent that is a file: the folder cannot be created.
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let err = write_atomic(&file.join("out.txt"), b"data").unwrap_err();
        assert!(err.to_string().starts_with(&format!("{}: ", file.display())), "{err}");
        let err = write_atomic(Path::new(".."), b"data").unwrap_err();
        assert_eq!(err.to_string(), "invalid input: ..: not a file path");
    }

    #[test]
    fn sha256_of_bytes_and_files() {
        const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_hex(b"abc"), ABC);
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc.txt");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(sha256_file(&path).unwrap(), ABC);
        // More than one read block.
        let big = vec![7u8; (1 << 20) + 3];
        std::fs::write(&path, &big).unwrap();
        assert_eq!(sha256_file(&path).unwrap(), sha256_hex(&big));
        let missing = dir.path().join("missing.bin");
        let err = sha256_file(&missing).unwrap_err();
        assert!(err.to_string().starts_with(&format!("{}: ", missing.display())), "{err}");
        assert_eq!(hex(&[0x00, 0x0f, 0xba]), "000fba");
    }

    #[test]
    fn read_jsonl_skips_blank_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.jsonl");
        std::fs::write(&path, "{\"id\":1}\n\n  \t\r\n{\"id\": 2}\r\n{\"id\":3}").unwrap();
        let rows: Vec<Row> = read_jsonl(&path).unwrap();
        assert_eq!(rows, [Row { id: 1 }, Row { id: 2 }, Row { id: 3 }]);
        std::fs::write(&path, "").unwrap();
        assert!(read_jsonl::<Row>(&path).unwrap().is_empty());
    }

    #[test]
    fn read_jsonl_errors_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.jsonl");
        std::fs::write(&path, "{\"id\":1}\n\n{\"id\":\"two\"}\n").unwrap();
        let err = read_jsonl::<Row>(&path).unwrap_err();
        assert!(matches!(err, Error::Parse { line: 3, .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("{}:3: invalid type: string \"two\", expected u32 at line 1 column 11", path.display())
        );
        std::fs::write(&path, "{\"id\":1}\nnot json\n").unwrap();
        let err = read_jsonl::<Row>(&path).unwrap_err();
        assert_eq!(err.to_string(), format!("{}:2: expected ident at line 1 column 2", path.display()));
        let missing = dir.path().join("missing.jsonl");
        let err = read_jsonl::<Row>(&missing).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
        assert!(err.to_string().starts_with(&format!("{}: ", missing.display())), "{err}");
    }

    #[test]
    fn for_each_jsonl_gives_line_numbers_and_stops_at_the_callers_error() {
        let text = b"{\"id\":1}\n\n{\"id\":2}\n{\"id\":3}\n";
        let mut seen = Vec::new();
        let err = for_each_jsonl_bytes(text, Path::new("mem.jsonl"), |line_no, row: Row| {
            if row.id == 3 {
                return Err(Error::parse("mem.jsonl", line_no, "three"));
            }
            seen.push((line_no, row.id));
            Ok(())
        })
        .unwrap_err();
        assert_eq!(seen, [(1, 1), (3, 2)]);
        assert_eq!(err.to_string(), "mem.jsonl:4: three");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.jsonl");
        std::fs::write(&path, text).unwrap();
        let mut lines = Vec::new();
        for_each_jsonl(&path, |line_no, _: Row| {
            lines.push(line_no);
            Ok(())
        })
        .unwrap();
        assert_eq!(lines, [1, 3, 4]);
        let err = for_each_jsonl_bytes(b"{\"id\":1}\n\xff\n", Path::new("mem.jsonl"), |_, _: Row| Ok(())).unwrap_err();
        assert!(err.to_string().starts_with("mem.jsonl:2: "), "{err}");
    }

    #[test]
    fn cut_at_char_boundary_never_splits_a_character() {
        assert_eq!(cut_at_char_boundary("hello", 3), "hel");
        assert_eq!(cut_at_char_boundary("hello", 0), "");
        assert_eq!(cut_at_char_boundary("hello", 5), "hello");
        assert_eq!(cut_at_char_boundary("hello", 99), "hello");
        assert_eq!(cut_at_char_boundary("", 4), "");
        // "é" is 2 bytes, "€" 3, "🎬" 4.
        let text = "aé€🎬";
        assert_eq!(cut_at_char_boundary(text, 1), "a");
        assert_eq!(cut_at_char_boundary(text, 2), "a");
        assert_eq!(cut_at_char_boundary(text, 3), "aé");
        assert_eq!(cut_at_char_boundary(text, 5), "aé");
        assert_eq!(cut_at_char_boundary(text, 6), "aé€");
        assert_eq!(cut_at_char_boundary(text, 9), "aé€");
        assert_eq!(cut_at_char_boundary(text, 10), text);
        assert_eq!(cut_at_char_boundary("🎬", 3), "");
    }
}
