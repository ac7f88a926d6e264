//! Writing a file or directory tree so that a failure never leaves a
//! half-written target and nothing the user did not ask to replace is lost.
//!
//! The target is written as a hidden temporary sibling and renamed into
//! place. An existing target is refused unless the caller asked to
//! overwrite, and even then it is replaced only when the caller's check
//! says it holds nothing but a previous write of ours.
//!
//! (Only the Parquet and zarr writers write files; without those features
//! only [`IfExists`] is used.)
#![cfg_attr(not(any(feature = "parquet", feature = "zarr")), allow(dead_code))]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, ErrorKind, Result};

/// What to do when the destination of a write already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IfExists {
    /// Refuse with [`ErrorKind::AlreadyExists`] (an empty directory counts
    /// as absent).
    #[default]
    Fail,
    /// Replace it, if it holds a flacarray file or group and nothing else.
    Overwrite,
}

impl IfExists {
    /// `Overwrite` when `overwrite` is true, else `Fail`.
    pub fn from_flag(overwrite: bool) -> Self {
        if overwrite {
            IfExists::Overwrite
        } else {
            IfExists::Fail
        }
    }
}

fn sibling(path: &Path, tag: &str) -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid(format!("cannot write to '{}'", path.display())))?;
    let unique = format!(
        ".{}.{tag}-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    Ok(path.with_file_name(unique))
}

fn remove(path: &Path) {
    let _ = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
}

/// Follows `path` while it is a symbolic link (a dangling link gives the
/// path it points at, to be created there).
fn resolve_links(mut path: PathBuf) -> Result<PathBuf> {
    for _ in 0..40 {
        let Ok(meta) = path.symlink_metadata() else {
            return Ok(path);
        };
        if !meta.file_type().is_symlink() {
            return Ok(path);
        }
        let target = std::fs::read_link(&path).map_err(|e| Error::at_path(&path, e))?;
        let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
        path = parent.join(target).components().collect();
    }
    Err(Error::invalid(format!(
        "'{}': too many levels of symbolic links",
        path.display()
    )))
}

/// Swaps what `a` and `b` name in one step (Linux's `renameat2` with
/// `RENAME_EXCHANGE`), so that a kill at any moment leaves one of the two
/// at each name; false where the system or file system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let name = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes());
    let (Ok(a), Ok(b)) = (name(a), name(b)) else {
        return false;
    };
    // SAFETY: two NUL-terminated paths that outlive the call.
    let swapped = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    swapped == 0
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> bool {
    false
}

fn is_empty_dir(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
}

/// Writes `path` through `write`, which receives a temporary sibling path
/// to create. `replaceable` is asked whether an existing `path` holds only
/// a previous flacarray write (it returns why not, otherwise).
pub(crate) fn write_atomically(
    path: &Path,
    if_exists: IfExists,
    what: &str,
    replaceable: impl FnOnce(&Path) -> std::result::Result<(), String>,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    if path.as_os_str().is_empty() {
        return Err(Error::invalid(format!(
            "no path given to write the {what} to"
        )));
    }
    // Resolve "." and ".." so the temporary file is a real sibling, and a
    // symbolic link to what it points at: the link stays, its target is
    // what gets replaced.
    let path = match std::path::absolute(path) {
        Ok(p) => resolve_links(p.components().collect::<PathBuf>())?,
        Err(e) => return Err(e.into()),
    };
    let exists = path.symlink_metadata().is_ok();
    let empty_dir = exists && path.is_dir() && is_empty_dir(&path);
    if exists && !empty_dir {
        if if_exists == IfExists::Fail {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!(
                    "'{}' already exists; pass overwrite=True (IfExists::Overwrite) to replace it",
                    path.display()
                ),
            ));
        }
        if let Err(why) = replaceable(&path) {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!(
                    "refusing to replace '{}': {why}; remove it yourself if it should go",
                    path.display()
                ),
            ));
        }
    }
    let temp = sibling(&path, "flacarray-new")?;
    if let Err(err) = write(&temp) {
        remove(&temp);
        return Err(err);
    }
    let result = if !exists || (path.is_file() && temp.is_file()) {
        // a file over a file: the rename replaces it in one step, so a
        // reader, or a kill at any moment, finds the old file or the new
        std::fs::rename(&temp, &path)
    } else if empty_dir {
        std::fs::remove_dir(&path).and_then(|()| std::fs::rename(&temp, &path))
    } else if exchange(&temp, &path) {
        // the old one now under the temporary name
        remove(&temp);
        Ok(())
    } else {
        // where the system cannot swap two names in one step: a kill
        // between these two renames leaves the old one beside `path`
        let old = sibling(&path, "flacarray-old")?;
        std::fs::rename(&path, &old).and_then(|()| match std::fs::rename(&temp, &path) {
            Ok(()) => {
                remove(&old);
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::rename(&old, &path);
                Err(e)
            }
        })
    };
    if let Err(e) = result {
        remove(&temp);
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "could not move the new {what} into '{}': {e}",
                path.display()
            ),
        ));
    }
    Ok(())
}
