//! Everything a notebook needs in one import: `use lagrangian_ot::prelude::*;`.

pub use crate::device::{default_device, rng, Device};
pub use crate::error::{Error, Result};
