//! Saved key/value caches as files: where the llama.cpp backend keeps a conversation's cache
//! between its turns ([`LanguageModel::save_cache`](super::LanguageModel::save_cache)).
//!
//! A snapshot of SmolLM2-135M's cache is ≈ 23 KB per token, 10–25 MB for a dialogue. Held in
//! memory, every turn of a server frees one such buffer and allocates a slightly larger one;
//! glibc's allocator then serves these from its heap instead of fresh mappings (its mmap threshold
//! rises to the size of the last freed mapping, up to 32 MiB), and the holes they leave keep the
//! process's resident memory growing long after the cache budget is full (`docs/soak.md`, runs
//! 1–3). As files, snapshots take disk within the same budget, are read back through the page
//! cache in a few milliseconds, and leave resident memory to the model and its one live context
//! (llama.cpp reads a file one tensor at a time, ≈ 0.4 KB per token per tensor).
//!
//! Layout: one folder per model context, `<temp>/curator-kv-<pid>-<n>/`, one file per snapshot
//! (llama.cpp's sequence-state format: magic, version, the tokens, then the cache). A file is
//! removed when its snapshot is dropped and the folder when the model and its last snapshot are;
//! folders left by processes that no longer run (a `kill -9`) are removed when the next folder is
//! made (Linux: a process runs while `/proc/<pid>` exists).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Prefix of the folders, in the system's temporary folder.
const PREFIX: &str = "curator-kv-";

/// A folder of snapshot files owned by one model context; removed with everything in it when
/// dropped.
#[derive(Debug)]
pub(crate) struct KvDir {
    path: PathBuf,
    next: AtomicU64,
}

impl KvDir {
    /// Creates a fresh folder `<temp>/curator-kv-<pid>-<n>` (after removing folders of processes
    /// that no longer run).
    ///
    /// Errors: the I/O error of creating the folder.
    pub(crate) fn create() -> std::io::Result<Arc<KvDir>> {
        static MADE: AtomicU64 = AtomicU64::new(0);
        let temp = std::env::temp_dir();
        remove_orphans(&temp);
        let pid = std::process::id();
        loop {
            let n = MADE.fetch_add(1, Ordering::Relaxed);
            let path = temp.join(format!("{PREFIX}{pid}-{n}"));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(Arc::new(KvDir { path, next: AtomicU64::new(0) })),
                // Left by an earlier process with this pid: take the next number.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// A new file name in this folder (nothing is created until llama.cpp writes it).
    pub(crate) fn new_file(self: &Arc<Self>) -> KvFile {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        KvFile { path: self.path.join(format!("{n}.kv")), _dir: Arc::clone(self) }
    }

    /// The folder's path.
    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for KvDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// One snapshot's file; removed when dropped. Keeps its folder alive.
#[derive(Debug)]
pub(crate) struct KvFile {
    path: PathBuf,
    _dir: Arc<KvDir>,
}

impl KvFile {
    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for KvFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Removes this process's snapshot folders (and the files in them), for a front end that ends
/// while threads may still own snapshots (`curator serve` after its shutdown signal). A
/// snapshot whose file is gone only fails to restore (the turn prefills its whole prompt).
pub(crate) fn remove_own() {
    let prefix = format!("{PREFIX}{}-", std::process::id());
    let temp = std::env::temp_dir();
    for entry in std::fs::read_dir(&temp).into_iter().flatten().flatten() {
        if entry.file_name().to_str().is_some_and(|n| n.starts_with(&prefix)) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Removes `temp/curator-kv-<pid>-<n>` folders whose process no longer runs. Only where `/proc`
/// tells (Linux); elsewhere nothing is removed. Errors are ignored: a folder that cannot be
/// removed is only disk.
fn remove_orphans(temp: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)).and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// `remove_own` removes every folder of the process: these tests take turns.
    static TURNS: Mutex<()> = Mutex::new(());

    #[test]
    fn files_and_folders_are_removed_with_their_last_owner() {
        let _turn = TURNS.lock().unwrap_or_else(|e| e.into_inner());
        let dir = KvDir::create().unwrap();
        let folder = dir.path().to_path_buf();
        assert!(folder.is_dir());
        let a = dir.new_file();
        let b = dir.new_file();
        assert_ne!(a.path(), b.path());
        std::fs::write(a.path(), b"a").unwrap();
        std::fs::write(b.path(), b"b").unwrap();
        drop(a);
        assert!(!folder.join("0.kv").exists());
        assert!(folder.join("1.kv").exists());
        // The model goes first; the folder stays while a snapshot needs it.
        drop(dir);
        assert!(folder.is_dir());
        drop(b);
        assert!(!folder.exists());
    }

    #[test]
    fn a_process_removes_its_own_folders() {
        let _turn = TURNS.lock().unwrap_or_else(|e| e.into_inner());
        let dir = KvDir::create().unwrap();
        let file = dir.new_file();
        std::fs::write(file.path(), b"x").unwrap();
        remove_own();
        assert!(!dir.path().exists());
        // Dropping after the folder went is harmless.
        drop(file);
        drop(dir);
    }

    #[test]
    fn folders_of_processes_that_no_longer_run_are_removed() {
        if !Path::new("/proc/self").exists() {
            return;
        }
        let _turn = TURNS.lock().unwrap_or_else(|e| e.into_inner());
        // pid_max on Linux is at most 2^22: this pid never runs.
        let orphan = std::env::temp_dir().join(format!("{PREFIX}4294967294-0"));
        std::fs::create_dir_all(&orphan).unwrap();
        std::fs::write(orphan.join("0.kv"), b"x").unwrap();
        let ours = KvDir::create().unwrap();
        assert!(!orphan.exists());
        assert!(ours.path().is_dir(), "a running process's folder is kept");
    }
}
