//! Small file helpers shared by checkpoints, figures and experiment outputs.

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically: into a temporary file in the same folder, then renamed, so a
/// crash never leaves a half-written checkpoint or figure behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if file_name.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "not a file path: {}",
            path.display()
        )));
    }
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e.into())
        }
    }
}

/// Writes `value` as JSON to the checkpoint file `path`, atomically ([`write_atomic`]).
pub fn write_checkpoint_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string(value).map_err(|e| Error::checkpoint(path, e))?;
    write_atomic(path, text.as_bytes())
}

/// Reads the JSON checkpoint file `path` that [`write_checkpoint_json`] wrote; a missing, unreadable
/// or malformed file is an [`Error::Checkpoint`] naming it.
pub fn read_checkpoint_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::checkpoint(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::checkpoint(path, e))
}
