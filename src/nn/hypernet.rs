//! A dense layer whose weights are generated per sample by a hypernetwork from a condition code
//! (NCTM's conditioned final encoder layer; spec `specs/nctm.md` §2).
//!
//! For a code `h: [B, c]` a linear generator `H(h) = h A + a` (`A: [c, k·m + m]`) yields, per row `b`,
//! a weight matrix `W_b = reshape(H(h_b)[..k·m]) / √k ∈ R^{k×m}` and a bias `b_b = H(h_b)[k·m..]`;
//! the layer returns `e_b W_b + b_b` for the input row `e_b ∈ R^k`. The `1/√k` keeps a LeCun-scaled
//! generator producing LeCun-scaled weights (an O(1) code gives weights of standard deviation about
//! `1/√k`). The per-sample product is a broadcast-multiply `[B, k, m] ⊙ [B, k, 1]` summed over `k`
//! (dfdx 0.13 has no batched matmul with a runtime batch of distinct right-hand sides that stays on
//! the tape more cheaply). The layer is affine; the caller applies the activation.

use dfdx::shapes::{Axis, HasShape};
use dfdx::tensor::{Tape, WithEmptyTape};
use dfdx::tensor_ops::{BroadcastTo, ReshapeTo, SumTo};

use super::{check_columns, Init, Linear, Param, Tensor2, TensorDevice, Trainable};
use crate::error::{Error, Result};

/// A hypernetwork-conditioned dense layer `k → m`: per-sample weights and bias generated from a
/// condition code; see the module docs for the exact formula.
///
/// ```
/// use dfdx::prelude::*;
/// use lagrangian_ot::nn::{HyperLinear, tensor_to_array};
/// let dev = lagrangian_ot::device::default_device(0);
/// let layer = HyperLinear::new(&dev, 4, 3, 2)?;
/// let e = dev.tensor_from_vec(vec![0.5_f32; 20], (5, 4));
/// let code = dev.tensor_from_vec(vec![0.1_f32; 10], (5, 2));
/// assert_eq!(tensor_to_array(&layer.forward(e, code)?).dim(), (5, 3));
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct HyperLinear<D: TensorDevice<f32> = crate::device::Device> {
    generator: Linear<D>,
    in_dim: usize,
    out_dim: usize,
}

impl<D: TensorDevice<f32>> HyperLinear<D> {
    /// A layer `in_dim → out_dim` whose parameters are generated from a `code_dim`-wide code by a
    /// LeCun-initialised linear generator. Zero widths are an [`Error::InvalidArgument`].
    pub fn new(dev: &D, in_dim: usize, out_dim: usize, code_dim: usize) -> Result<Self> {
        if in_dim == 0 || out_dim == 0 || code_dim == 0 {
            return Err(Error::InvalidArgument(format!(
                "a hypernetwork layer needs positive widths, got {in_dim} -> {out_dim} from a {code_dim}-wide code"
            )));
        }
        let generator = Linear::new(dev, code_dim, in_dim * out_dim + out_dim, Init::LecunNormal)?;
        Ok(HyperLinear {
            generator,
            in_dim,
            out_dim,
        })
    }

    /// Input width `k`.
    pub fn in_dim(&self) -> usize {
        self.in_dim
    }

    /// Output width `m`.
    pub fn out_dim(&self) -> usize {
        self.out_dim
    }

    /// Width of the condition code.
    pub fn code_dim(&self) -> usize {
        self.generator.in_dim()
    }

    /// The generator `h ↦ h A + a`; its output row is `[W (row-major k×m, before the 1/√k), b]`.
    pub fn generator(&self) -> &Linear<D> {
        &self.generator
    }

    /// `e_b W(h_b) + b(h_b)` for `e: [B, k]` and `code: [B, c]` (both on tape `T`; gradients reach the
    /// generator, the input and the code). Wrong widths or row counts are an [`Error::Shape`].
    pub fn forward<T: Tape<f32, D>>(&self, e: Tensor2<D, T>, code: Tensor2<D, T>) -> Result<Tensor2<D, T>> {
        check_columns("HyperLinear::forward input", *e.shape(), self.in_dim)?;
        check_columns("HyperLinear::forward code", *code.shape(), self.code_dim())?;
        if e.shape().0 != code.shape().0 {
            return Err(Error::shape(
                "HyperLinear::forward",
                format!("{} code rows (one per input row)", e.shape().0),
                format!("{}", code.shape().0),
            ));
        }
        Ok(self.apply(e, code))
    }

    pub(crate) fn apply<T: Tape<f32, D>>(&self, e: Tensor2<D, T>, code: Tensor2<D, T>) -> Tensor2<D, T> {
        let (k, m) = (self.in_dim, self.out_dim);
        let rows = e.shape().0;
        let generated = self.generator.affine(code);
        let weights = generated
            .with_empty_tape()
            .slice((.., 0..k * m))
            .reshape_like(&(rows, k, m))
            * (1.0 / (k as f32).sqrt());
        let bias = generated.slice((.., k * m..k * m + m));
        let spread = e.broadcast_like::<_, Axis<2>>(&(rows, k, m));
        let product: Tensor2<D, T> = (spread * weights).sum::<(usize, usize), Axis<1>>();
        product + bias
    }
}

impl<D: TensorDevice<f32>> Trainable<D> for HyperLinear<D> {
    fn params(&self) -> Vec<&Param<D>> {
        self.generator.params()
    }
    fn params_mut(&mut self) -> Vec<&mut Param<D>> {
        self.generator.params_mut()
    }
}
