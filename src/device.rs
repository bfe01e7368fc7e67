//! The compute device and seeding.
//!
//! CPU is the default. With the `cuda` cargo feature, [`Device`] becomes dfdx's CUDA device and
//! every model built through [`default_device`] runs on the GPU without code changes.

use dfdx::tensor::Cpu;
#[cfg(feature = "cuda")]
use dfdx::tensor::Cuda;

/// The device models are built on by default: `Cpu`, or `Cuda` with the `cuda` feature.
#[cfg(not(feature = "cuda"))]
pub type Device = Cpu;
/// The device models are built on by default: `Cpu`, or `Cuda` with the `cuda` feature.
#[cfg(feature = "cuda")]
pub type Device = Cuda;

/// A seeded instance of the default [`Device`]; the seed fixes dfdx's own random draws
/// (weight initialisation, `sample_normal`).
pub fn default_device(seed: u64) -> Device {
    seeded_device(seed)
}

#[cfg(not(feature = "cuda"))]
fn seeded_device(seed: u64) -> Device {
    Cpu::seed_from_u64(seed)
}

#[cfg(feature = "cuda")]
fn seeded_device(seed: u64) -> Device {
    Cuda::seed_from_u64(seed)
}

/// The host random number generator every sampler takes: a named type so a notebook can write
/// `let mut r: SeededRng = rng(0);` (evcxr needs variable types it can name).
pub type SeededRng = rand::rngs::StdRng;

/// A seeded host random number generator (samplers, minibatch shuffles).
pub fn rng(seed: u64) -> SeededRng {
    use rand::SeedableRng;
    rand::rngs::StdRng::seed_from_u64(seed)
}
