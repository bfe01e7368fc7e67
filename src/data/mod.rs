//! Data: toy samplers for tutorials and tests, and the anchored datasets of the papers.
//!
//! [`toy`] draws synthetic clouds (`[N, D]` `f32`) from a seeded generator. [`AnchoredDataset`]
//! reads (and writes) the `.npy` + `manifest.json` folders of the shared data directory, whose
//! location [`shared_data_dir`] resolves so that notebooks and tests in any sub-folder find it.

mod anchored;
pub mod hota_benchmarks;
mod measure;
pub mod scarvelis;
pub mod semicircle;
pub mod toy;
pub use hota_benchmarks::HotaBenchmark;
pub use measure::Measure;
pub use scarvelis::{ScarvelisConfig, ScarvelisData, ScarvelisKind};

use std::path::{Path, PathBuf};

pub use anchored::{
    AnchoredDataset, Condition, ConditionView, Manifest, MAX_PLOTTED_ANCHORS, MAX_PLOTTED_SAMPLES,
};

use crate::{Error, Result};

/// Environment variable naming the folder that holds the papers' datasets.
pub const SHARED_DATA_ENV: &str = "LOT_SHARED_DATA";

/// Folder of the shared datasets: `$LOT_SHARED_DATA` if set, else `../shared/data` relative to
/// the current directory, else `../shared/data` next to this crate's root. Missing:
/// [`Error::MissingSharedData`] naming the variable.
pub fn shared_data_dir() -> Result<PathBuf> {
    resolve_shared_data_dir(std::env::var_os(SHARED_DATA_ENV).map(PathBuf::from))
}

/// [`shared_data_dir`] with the environment variable's value passed in (`None`: unset), so the
/// lookup can be tested without touching the process environment.
///
/// ```
/// use lagrangian_ot::{data::resolve_shared_data_dir, Error};
/// let err = resolve_shared_data_dir(Some("/no/such/folder".into())).unwrap_err();
/// assert!(matches!(err, Error::MissingSharedData { var: "LOT_SHARED_DATA", .. }));
/// ```
pub fn resolve_shared_data_dir(env_value: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(dir) = env_value {
        return existing_dir(&dir).ok_or(Error::MissingSharedData {
            var: SHARED_DATA_ENV,
            path: dir,
        });
    }
    let relative = PathBuf::from("../shared/data");
    let beside_crate = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if let Some(dir) = existing_dir(&relative).or_else(|| existing_dir(&beside_crate)) {
        return Ok(dir);
    }
    Err(Error::MissingSharedData {
        var: SHARED_DATA_ENV,
        path: relative,
    })
}

fn existing_dir(dir: &Path) -> Option<PathBuf> {
    dir.is_dir().then(|| dir.to_path_buf())
}
