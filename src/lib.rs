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
pub mod metrics;
pub mod nn;
pub mod plot;
pub mod prelude;

pub use error::{Error, Result};
