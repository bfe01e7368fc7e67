//! Pointwise activations and their derivatives, both as traced tensor ops.
//!
//! The derivative `σ'(z)` is needed by the explicit input-gradient pass
//! ([`crate::nn::Mlp::input_gradient`]); writing it with ordinary tensor ops keeps it on the tape,
//! so a loss containing `∇ₓ f` still has a weight gradient.

use dfdx::shapes::{HasShape, Shape};
use dfdx::tensor::{PutTape, SplitTape, Tape, Tensor, WithEmptyTape};
use dfdx::tensor_ops::{ChooseFrom, Device, TryGt, TryPReLU};
use serde::{Deserialize, Serialize};

/// A pointwise nonlinearity.
///
/// Smooth activations (`Tanh`, `Softplus`, `SiLU`) have a nonzero second derivative, which losses
/// containing `∇ₓ f` need in order to train; `ReLU`/`LeakyReLU` give piecewise-constant `σ'`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Activation {
    /// `max(z, 0)`.
    ReLU,
    /// `z` for `z > 0`, `slope · z` otherwise.
    LeakyReLU(f32),
    /// `z · sigmoid(z)` (also called swish).
    SiLU,
    /// `tanh(z)`.
    Tanh,
    /// `ln(1 + eᶻ)`, computed as `max(z, 0) + ln(1 + e^{-|z|})` so large `|z|` cannot overflow.
    Softplus,
    /// `z` (no nonlinearity).
    Identity,
}

impl Activation {
    /// `σ(z)`, keeping `z`'s tape.
    pub fn apply<S: Shape, D: Device<f32>, T: Tape<f32, D>>(
        self,
        z: Tensor<S, f32, D, T>,
    ) -> Tensor<S, f32, D, T> {
        match self {
            Activation::ReLU => z.relu(),
            Activation::LeakyReLU(slope) => z.prelu(slope),
            Activation::SiLU => {
                let gate = z.with_empty_tape().sigmoid();
                z * gate
            }
            Activation::Tanh => z.tanh(),
            Activation::Softplus => {
                let tail = (z.with_empty_tape().abs().negate().exp() + 1.0).ln();
                z.relu() + tail
            }
            Activation::Identity => z,
        }
    }

    /// `σ'(z)`, keeping `z`'s tape, so `σ'` can itself be differentiated (second derivative).
    pub fn derivative<S: Shape, D: Device<f32>, T: Tape<f32, D>>(
        self,
        z: Tensor<S, f32, D, T>,
    ) -> Tensor<S, f32, D, T> {
        match self {
            Activation::ReLU => step(z, 0.0),
            Activation::LeakyReLU(slope) => step(z, slope),
            Activation::SiLU => {
                // d/dz [z s(z)] = s + z s (1 - s) = s (1 + z (1 - s)).
                let s = z.with_empty_tape().sigmoid();
                let one_minus_s = s.with_empty_tape().negate() + 1.0;
                s * ((z * one_minus_s) + 1.0)
            }
            Activation::Tanh => z.tanh().square().negate() + 1.0,
            Activation::Softplus => z.sigmoid(),
            Activation::Identity => {
                let (z, tape) = z.split_tape();
                z.device().ones_like(z.shape()).put_tape(tape)
            }
        }
    }
}

impl Activation {
    /// `σ(z)` for one host value (same function as [`Activation::apply`]).
    pub fn value(self, z: f32) -> f32 {
        match self {
            Activation::ReLU => z.max(0.0),
            Activation::LeakyReLU(slope) => {
                if z > 0.0 {
                    z
                } else {
                    slope * z
                }
            }
            Activation::SiLU => z / (1.0 + (-z).exp()),
            Activation::Tanh => z.tanh(),
            Activation::Softplus => z.max(0.0) + (-z.abs()).exp().ln_1p(),
            Activation::Identity => z,
        }
    }

    /// `σ'(z)` for one host value (same function as [`Activation::derivative`]).
    pub fn slope(self, z: f32) -> f32 {
        match self {
            Activation::ReLU => {
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::LeakyReLU(slope) => {
                if z > 0.0 {
                    1.0
                } else {
                    slope
                }
            }
            Activation::SiLU => {
                let s = 1.0 / (1.0 + (-z).exp());
                s * (1.0 + z * (1.0 - s))
            }
            Activation::Tanh => 1.0 - z.tanh().powi(2),
            Activation::Softplus => 1.0 / (1.0 + (-z).exp()),
            Activation::Identity => 1.0,
        }
    }
}

/// `1` where `z > 0`, `below` elsewhere: the derivative of (leaky) ReLU, constant almost
/// everywhere, so it carries no gradient of its own; `z`'s tape is passed through so that
/// operations recorded before it are not lost.
fn step<S: Shape, D: Device<f32>, T: Tape<f32, D>>(
    z: Tensor<S, f32, D, T>,
    below: f32,
) -> Tensor<S, f32, D, T> {
    let (z, tape) = z.split_tape();
    let ones = z.device().ones_like(z.shape());
    let below = ones.clone() * below;
    z.gt(0.0).choose(ones, below).put_tape(tape)
}
