//! A dense layer `x W + b` with runtime widths, and its weight initialisation.

use dfdx::shapes::{Axis, HasShape};
use dfdx::tensor::Tape;
use dfdx::tensor_ops::{BroadcastTo, ReshapeTo, TryMatMul};
use rand::distributions::Distribution;
use rand::Rng;
use rand_distr::{StandardNormal, Uniform};
use serde::{Deserialize, Serialize};

use super::{check_columns, device_error, Param, Tensor2, TensorDevice, Trainable};
use crate::error::{Error, Result};

/// How a dense layer's parameters are drawn (from the device's seeded generator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Init {
    /// flax's `nn.Dense` default, used by the JAX reference code: weights from a normal with
    /// standard deviation `1/√fan_in` truncated to ±2 standard deviations (LeCun normal), biases zero.
    #[default]
    LecunNormal,
    /// PyTorch's `nn.Linear` default: weights and biases uniform on `±1/√fan_in`.
    PyTorch,
    /// All zeros (for a last layer that should start as the zero map, e.g. a residual correction).
    Zeros,
}

/// A dense layer: `y = x W + b` with `W: [in, out]` and `b: [1, out]`.
#[derive(Debug, Clone)]
pub struct Linear<D: TensorDevice<f32>> {
    pub(crate) weight: Param<D>,
    pub(crate) bias: Param<D>,
}

impl<D: TensorDevice<f32>> Linear<D> {
    /// A new `in_dim -> out_dim` layer initialised by `init`. Zero widths are an
    /// [`Error::InvalidArgument`].
    pub fn new(dev: &D, in_dim: usize, out_dim: usize, init: Init) -> Result<Self> {
        if in_dim == 0 || out_dim == 0 {
            return Err(Error::InvalidArgument(format!(
                "a dense layer needs positive widths, got {in_dim} -> {out_dim}"
            )));
        }
        let bound = 1.0 / (in_dim as f32).sqrt();
        let (w, b) = ((in_dim, out_dim), (1, out_dim));
        let (weight, bias) = match init {
            Init::LecunNormal => (
                dev.try_sample_like(&w, TruncatedNormal { std: bound }),
                dev.try_zeros_like(&b),
            ),
            Init::PyTorch => {
                let uniform = Uniform::new_inclusive(-bound, bound);
                (dev.try_sample_like(&w, uniform), dev.try_sample_like(&b, uniform))
            }
            Init::Zeros => (dev.try_zeros_like(&w), dev.try_zeros_like(&b)),
        };
        Ok(Linear {
            weight: weight.map_err(device_error)?,
            bias: bias.map_err(device_error)?,
        })
    }

    /// Input width.
    pub fn in_dim(&self) -> usize {
        self.weight.shape().0
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.weight.shape().1
    }

    /// The weight matrix `[in, out]`.
    pub fn weight(&self) -> &Param<D> {
        &self.weight
    }

    /// The bias row `[1, out]`.
    pub fn bias(&self) -> &Param<D> {
        &self.bias
    }

    /// `x W + b` for a batch `x: [N, in]`; errors if `x` does not have `in` columns or has no rows.
    pub fn forward<T: Tape<f32, D>>(&self, x: Tensor2<D, T>) -> Result<Tensor2<D, T>> {
        check_columns("Linear::forward", *x.shape(), self.in_dim())?;
        Ok(self.affine(x))
    }

    /// `x W + b` without the shape check (callers have checked the batch already).
    pub(crate) fn affine<T: Tape<f32, D>>(&self, x: Tensor2<D, T>) -> Tensor2<D, T> {
        let rows = x.shape().0;
        let out = self.out_dim();
        // The bias is stored as a [1, out] row; viewing it as [out] is free for a contiguous
        // tensor and keeps its id, so its gradient lands on the parameter.
        let bias = self
            .bias
            .retaped::<T>()
            .reshape_like(&(out,))
            .broadcast_like::<_, Axis<0>>(&(rows, out));
        x.matmul(self.weight.retaped::<T>()) + bias
    }
}

impl<D: TensorDevice<f32>> Trainable<D> for Linear<D> {
    fn params(&self) -> Vec<&Param<D>> {
        vec![&self.weight, &self.bias]
    }
    fn params_mut(&mut self) -> Vec<&mut Param<D>> {
        vec![&mut self.weight, &mut self.bias]
    }
}

/// A centred normal with standard deviation `std` after truncation to ±2σ of the underlying normal
/// (flax's `truncated_normal` in `variance_scaling`, hence the rescaling constant).
#[derive(Debug, Clone, Copy)]
struct TruncatedNormal {
    std: f32,
}

impl Distribution<f32> for TruncatedNormal {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f32 {
        // Standard deviation of a standard normal truncated to [-2, 2].
        const TRUNCATED_STD: f32 = 0.879_625_7;
        loop {
            let z: f32 = rng.sample(StandardNormal);
            if z.abs() <= 2.0 {
                return z * self.std / TRUNCATED_STD;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_normal_has_the_requested_spread() {
        let mut rng = crate::device::rng(1);
        let dist = TruncatedNormal { std: 0.5 };
        let draws: Vec<f32> = (0..200_000).map(|_| dist.sample(&mut rng)).collect();
        let n = draws.len() as f64;
        let mean = draws.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = draws.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 5e-3, "mean {mean}");
        assert!((var.sqrt() - 0.5).abs() < 5e-3, "std {}", var.sqrt());
        assert!(draws.iter().all(|v| v.abs() <= 2.0 * 0.5 / 0.879_625_7 + 1e-6));
    }
}
