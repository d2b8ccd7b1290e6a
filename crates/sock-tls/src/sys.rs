//! Platform code: files only their owner can read (Unix permissions
//! `0700` and `0600`), for the keys a certificate store keeps.

use std::fs;
use std::path::Path;

/// Makes `path` and its parents, the last one readable by its owner only.
#[cfg(unix)]
pub(crate) fn make_private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}

#[cfg(not(unix))]
pub(crate) fn make_private_dir(path: &Path) -> std::io::Result<()> {
    fs::create_dir_all(path)
}

/// Writes a new file (never replacing one) readable by its owner only.
#[cfg(unix)]
pub(crate) fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
pub(crate) fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)
}
