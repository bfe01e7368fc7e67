//! Neural-network building blocks with widths chosen at run time, on dfdx 0.13 tensors.
//!
//! dfdx 0.13 only trains modules whose layer widths are compile-time constants, and it cannot
//! differentiate a gradient a second time. Optimal-transport solvers need both: widths come from a
//! config or a notebook cell, and several losses contain `∇ₓ f`. This module therefore keeps its
//! own parameters as runtime-shaped tensors and supplies:
//!
//! - [`Activation`]: activations together with their derivatives as traced tensor ops;
//! - [`Linear`] and [`Mlp`]: dense layers and multilayer perceptrons built by [`Mlp::builder`];
//! - [`Mlp::input_gradient`] / [`Mlp::input_jacobian`]: `∇ₓ f` written as ordinary traced ops, so a
//!   loss containing it can be differentiated with respect to the weights;
//! - [`Trainable`]: the parameter list every model exposes; [`Adam`] (AdamW, gradient clipping,
//!   [`LrSchedule`]) and the `.npz` checkpoints ([`save_params`], [`load_params`]) work on any of them;
//! - [`Film`] / [`FilmMlp`] conditioning, a learnable categorical [`Embedding`] and fixed
//!   [`FourierFeatures`] for continuous inputs;
//! - [`TimeValueNet`]: HOTA's time-conditioned value network s(t, x) with ∂ₜs, ∇ₓs, ∂ₜ∇ₓs as taped ops;
//! - [`HostMlp`] / [`HostFilmMlp`]: frozen host copies for inner loops, optionally through OpenBLAS
//!   ([`blas`]);
//! - [`check_loss`], the divergence guard every training loop calls.
//!
//! ## How gradients flow
//! A forward pass is generic over the dfdx tape `T` of its input. Pass a plain tensor (`NoneTape`)
//! for inference; pass a tensor carrying an [`OwnedTape`] (see [`traced`]) to record a loss. Each
//! parameter is re-taped onto the input's tape type at every use, so all uses of one parameter share
//! its id and their gradients add up in one [`Gradients`]. After `loss.backward()`,
//! [`Trainable::gradients`] returns the gradients in parameter order (zeros for parameters the loss
//! did not touch) and [`Adam::step`] applies them.
//!
//! ## Example: fit `sin` on `[-2, 2]` with Adam
//! ```
//! use dfdx::prelude::*;
//! use lagrangian_ot::nn::{traced, check_loss, Activation, Adam, AdamConfig, Mlp};
//!
//! let dev = lagrangian_ot::device::default_device(0);
//! let mlp_spec = Mlp::builder(1).hidden(&[32, 32]).output(1).activation(Activation::Tanh);
//! let mut mlp = mlp_spec.build(&dev)?;
//! let mut adam = Adam::new(AdamConfig::with_lr(1e-2))?;
//!
//! let xs: Vec<f32> = (0..64).map(|i| -2.0 + 4.0 * i as f32 / 63.0).collect();
//! let ys: Vec<f32> = xs.iter().map(|x| x.sin()).collect();
//! let x = dev.tensor_from_vec(xs, (64, 1));
//! let y = dev.tensor_from_vec(ys, (64, 1));
//!
//! let mut last = f32::INFINITY;
//! for step in 0..300 {
//!     let prediction = mlp.forward(traced(&x))?;
//!     let loss = (prediction - y.clone()).square().mean::<Rank0, _>();
//!     last = loss.array();
//!     check_loss(step, last)?;
//!     let mut grads = loss.backward();
//!     adam.step(&mut mlp, &mut grads)?;
//! }
//! assert!(last < 1e-2, "final mse {last}");
//! # Ok::<(), lagrangian_ot::Error>(())
//! ```

mod activation;
mod adam;
pub mod blas;
mod checkpoint;
mod embedding;
mod film;
mod host;
mod input_grad;
mod linear;
mod mlp;
mod time_value;

pub use activation::Activation;
pub use adam::{global_norm, Adam, AdamConfig, LrSchedule, StepStats};
pub use checkpoint::{load_params, save_params};
pub use embedding::{Embedding, FourierFeatures};
pub use film::{ConditionalMlp, Film, FilmMlp, FilmMlpBuilder};
pub use host::{HostFilmMlp, HostFilmTrace, HostMlp};
pub use input_grad::Tensor3;
pub use linear::{Init, Linear};
pub use mlp::{Mlp, MlpBuilder};
/// HOTA's defaults of [`TimeValueNetBuilder`].
pub use time_value::defaults as time_value_defaults;
pub use time_value::{
    combine_gradients, HostTimeValueNet, Tensor1, TimeValueNet, TimeValueNetBuilder, ValueDerivatives,
};

pub use dfdx::tensor::{Gradients, NoneTape, OwnedTape, Tape};
/// The dfdx device bound every network here is generic over (`Cpu`, or `Cuda` with the feature).
pub use dfdx::tensor_ops::Device as TensorDevice;

use std::path::Path;

use dfdx::shapes::{HasShape, Rank0};
use dfdx::tensor::Tensor;
use dfdx::tensor_ops::SumTo;
use ndarray::Array2;

use crate::error::{Error, Result};

/// A batch of rows, `[N, D]`, as a runtime-shaped dfdx tensor with tape `T`.
pub type Tensor2<D, T = NoneTape> = Tensor<(usize, usize), f32, D, T>;

/// A trainable parameter. Every parameter is a matrix: weights are `[in, out]`, biases are
/// `[1, out]` rows, embedding tables `[categories, dim]`, so the optimiser and the checkpoint code
/// handle one shape kind only.
pub type Param<D> = Tensor<(usize, usize), f32, D>;

/// The tape that records operations for a backward pass on device `D`.
pub type Taped<D> = OwnedTape<f32, D>;

/// A copy of `x` (sharing its data) that records operations, ready for a loss whose parameter
/// gradients are wanted. The input itself receives no gradient unless the loss needs it.
pub fn traced<D: TensorDevice<f32>>(x: &Tensor2<D>) -> Tensor2<D, Taped<D>> {
    x.retaped::<Taped<D>>()
}

/// Anything with trainable parameters: the shared interface of [`Adam`] and the checkpoints.
///
/// Implementors list their parameters in a fixed order; that order is the checkpoint order and
/// the order of [`Trainable::gradients`].
pub trait Trainable<D: TensorDevice<f32>> {
    /// The parameters, in a fixed order.
    fn params(&self) -> Vec<&Param<D>>;

    /// The parameters, mutable, in the same order as [`Trainable::params`].
    fn params_mut(&mut self) -> Vec<&mut Param<D>>;

    /// The number of scalar parameters.
    fn num_params(&self) -> usize {
        self.params().iter().map(|p| p.shape().0 * p.shape().1).sum()
    }

    /// The gradient of each parameter (same order and shapes as [`Trainable::params`]) from the
    /// result of `loss.backward()`; a parameter the loss never touched gets zeros.
    fn gradients(&self, grads: &mut Gradients<f32, D>) -> Result<Vec<Param<D>>> {
        self.params()
            .into_iter()
            .map(|p| {
                grads.try_alloc_for(p).map_err(device_error)?;
                Ok(grads.get(p))
            })
            .collect()
    }

    /// Writes the parameters to an `.npz` file; see [`save_params`].
    fn save(&self, path: impl AsRef<Path>) -> Result<()>
    where
        Self: Sized,
    {
        save_params(self, path)
    }

    /// Replaces the parameters by those stored in an `.npz` file; see [`load_params`].
    fn load(&mut self, path: impl AsRef<Path>) -> Result<()>
    where
        Self: Sized,
    {
        load_params(self, path)
    }
}

/// A bare parameter matrix is trainable on its own (handy for tests and free-standing variables).
impl<D: TensorDevice<f32>> Trainable<D> for Param<D> {
    fn params(&self) -> Vec<&Param<D>> {
        vec![self]
    }
    fn params_mut(&mut self) -> Vec<&mut Param<D>> {
        vec![self]
    }
}

/// A list of models trained together: parameters of each element, in order.
impl<D: TensorDevice<f32>, M: Trainable<D>> Trainable<D> for Vec<M> {
    fn params(&self) -> Vec<&Param<D>> {
        self.iter().flat_map(|m| m.params()).collect()
    }
    fn params_mut(&mut self) -> Vec<&mut Param<D>> {
        self.iter_mut().flat_map(|m| m.params_mut()).collect()
    }
}

/// Two models trained by one optimiser (a potential and its conjugate, say): `A`'s parameters, then `B`'s.
impl<D: TensorDevice<f32>, A: Trainable<D>, B: Trainable<D>> Trainable<D> for (A, B) {
    fn params(&self) -> Vec<&Param<D>> {
        let mut all = self.0.params();
        all.extend(self.1.params());
        all
    }
    fn params_mut(&mut self) -> Vec<&mut Param<D>> {
        let mut all = self.0.params_mut();
        all.extend(self.1.params_mut());
        all
    }
}

/// Returns [`Error::Diverged`] when a training loss is NaN or infinite; every solver calls it once
/// per step so a blown-up run stops with the step number instead of training on garbage.
///
/// ```
/// use lagrangian_ot::nn::check_loss;
/// assert!(check_loss(3, 0.25_f32).is_ok());
/// assert!(check_loss(4, f32::NAN).is_err());
/// ```
pub fn check_loss(step: usize, loss: impl Into<f64>) -> Result<()> {
    let loss = loss.into();
    if loss.is_finite() {
        Ok(())
    } else {
        Err(Error::Diverged { step, loss })
    }
}

/// Copies an `[N, D]` array onto the device. Errors on an empty array or a NaN/infinite entry.
pub fn array_to_tensor<D: TensorDevice<f32>>(dev: &D, x: &Array2<f32>, what: &str) -> Result<Tensor2<D>> {
    if x.is_empty() {
        return Err(Error::Empty(format!("{what}: array of shape {:?}", x.shape())));
    }
    crate::error::ensure_finite(what, x.iter())?;
    // `iter()` walks in logical row-major order, so any memory layout is copied correctly.
    let data: Vec<f32> = x.iter().copied().collect();
    dev.try_tensor_from_vec(data, x.dim()).map_err(device_error)
}

/// Copies an `[N, D]` tensor back to the host.
pub fn tensor_to_array<D: TensorDevice<f32>, T>(x: &Tensor2<D, T>) -> Array2<f32> {
    let shape = *x.shape();
    let data = x.as_vec();
    Array2::from_shape_vec(shape, data).expect("a tensor's element count matches its shape")
}

/// Sum of squares of all entries, left on the device (no host round trip).
pub(crate) fn sum_squares<D: TensorDevice<f32>>(x: &Param<D>) -> Tensor<Rank0, f32, D> {
    x.clone().square().sum::<Rank0, _>()
}

/// Checks that a batch has `expected` columns and at least one row.
pub(crate) fn check_columns(context: &str, shape: (usize, usize), expected: usize) -> Result<()> {
    if shape.1 != expected {
        return Err(Error::shape(
            context,
            format!("[N, {expected}]"),
            format!("[{}, {}]", shape.0, shape.1),
        ));
    }
    if shape.0 == 0 {
        return Err(Error::Empty(format!("{context}: batch with no rows")));
    }
    Ok(())
}

/// Turns a dfdx device error (allocation failure, CUDA error) into the crate's error.
pub(crate) fn device_error(e: impl std::fmt::Display) -> Error {
    Error::Device(e.to_string())
}

mod hypernet;
pub use hypernet::HyperLinear;
