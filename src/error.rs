//! The crate's single error type.
//!
//! Every public function that can fail on user input returns [`Result`]. The variants are meant to
//! be matched on: a notebook cell can tell a shape mistake from a diverging run from missing data.

use std::path::PathBuf;

/// Everything that can go wrong in `lagrangian_ot`, as a value a caller can match on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two arrays (or an array and a model) disagree on a dimension.
    #[error("shape mismatch in {context}: expected {expected}, got {got}")]
    Shape {
        /// Which operation found the mismatch.
        context: String,
        /// The shape it needed, in words or as `[a, b]`.
        expected: String,
        /// The shape it was given.
        got: String,
    },
    /// An input that must hold at least one element holds none.
    #[error("empty input: {0}")]
    Empty(String),
    /// An input holds NaN or an infinity.
    #[error("non-finite value (NaN or infinity) in {0}")]
    NonFinite(String),
    /// A parameter is outside its valid range (a negative epsilon, zero iterations, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Training produced a non-finite or exploding loss.
    #[error("training diverged at step {step}: loss = {loss}")]
    Diverged {
        /// The optimisation step at which the loss stopped being finite.
        step: usize,
        /// The offending loss value.
        loss: f64,
    },
    /// Anchor times (hyperparameter values) are not strictly increasing.
    #[error("anchors must be strictly increasing and distinct: {0}")]
    UnsortedAnchors(String),
    /// A query time lies outside the anchor range it must be interpolated within.
    #[error("query {query} is outside the anchor range [{lo}, {hi}]")]
    OutOfRange {
        /// The requested value.
        query: f64,
        /// Smallest valid value.
        lo: f64,
        /// Largest valid value.
        hi: f64,
    },
    /// A dataset folder is malformed (missing file, inconsistent manifest, wrong dtype).
    #[error("dataset {path}: {reason}")]
    Dataset {
        /// The folder or file concerned.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The shared data folder could not be found.
    #[error("shared data not found at {path}: set the environment variable {var} to the folder holding the papers' datasets")]
    MissingSharedData {
        /// The environment variable that names the folder.
        var: &'static str,
        /// Where we looked.
        path: PathBuf,
    },
    /// A checkpoint could not be written or does not fit the model it is loaded into.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// `lot reproduce` was asked for an experiment that is not registered.
    #[error("unknown experiment '{name}'; known: {known}")]
    UnknownExperiment {
        /// The name asked for.
        name: String,
        /// Comma-separated list of registered experiments.
        known: String,
    },
    /// A linear-algebra routine (eigendecomposition, square root) failed.
    #[error("linear algebra: {0}")]
    Linalg(String),
    /// The tensor device failed (out of memory, a CUDA error) while running a tensor operation.
    #[error("device: {0}")]
    Device(String),
    /// Drawing a figure failed.
    #[error("plot: {0}")]
    Plot(String),
    /// Reading or writing a `.npy`/`.npz` file failed.
    #[error("npy: {0}")]
    Npy(String),
    /// An I/O error from the operating system.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A JSON (manifest, metrics) error.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// `Result` with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::Shape`].
    pub fn shape(context: impl Into<String>, expected: impl Into<String>, got: impl Into<String>) -> Self {
        Error::Shape {
            context: context.into(),
            expected: expected.into(),
            got: got.into(),
        }
    }

    /// Shorthand for [`Error::Checkpoint`].
    pub fn checkpoint(path: &std::path::Path, reason: impl std::fmt::Display) -> Self {
        Error::Checkpoint {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }
}

/// Returns [`Error::NonFinite`] naming `what` if any value is NaN or infinite.
pub fn ensure_finite<'a>(what: &str, values: impl IntoIterator<Item = &'a f32>) -> Result<()> {
    if values.into_iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(Error::NonFinite(what.to_string()))
    }
}
