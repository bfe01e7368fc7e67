//! # lagrangian-ot
//!
//! Neural optimal transport with least-action (Lagrangian) costs, on dfdx tensors, built to be
//! driven cell by cell from Jupyter through the evcxr Rust kernel.
//!
//! Data flows `data -> lagrangian -> path -> solver -> surrogate/experiment -> metrics -> plot`;
//! see `ARCHITECTURE.md`. Start with `use lagrangian_ot::prelude::*;`.
//!

#![warn(missing_docs)]

pub mod data;
pub mod device;
pub mod error;
pub mod experiments;
pub mod io;
pub mod lagrangian;
pub mod metrics;
pub mod nn;
pub mod optim;
pub mod path;
pub mod plot;
pub mod prelude;
pub mod progress;
pub mod solver;
pub mod surrogate;

/// The dfdx version the tensors come from, re-exported so notebook closures can use its ops.
pub use dfdx;
pub use error::{Error, Result};
/// The ndarray version this crate speaks, re-exported so notebooks need no second `:dep`.
pub use ndarray;
/// The rand version the samplers take, re-exported for notebooks.
pub use rand;

/// Whether quick mode is on: the env var `LOT_QUICK` is set to anything but `0` or empty. CI sets it so
/// notebooks and tutorials shrink their iteration counts; the default is the full run.
pub fn quick_mode() -> bool {
    std::env::var("LOT_QUICK")
        .map(|v| !v.is_empty() && v != "0")
        .unwrap_or(false)
}
