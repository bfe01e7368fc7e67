//! A host (ndarray) copy of an [`Mlp`] for inner loops that only need values and input gradients.
//!
//! The c-transform evaluates a small potential network and its input gradient hundreds of times per
//! training step on a few hundred points, with frozen weights. Through dfdx every evaluation pays
//! for tape bookkeeping, broadcasts and allocations that dwarf the arithmetic of a 4×64 network; a
//! snapshot of the weights as ndarray matrices does the same two passes several times faster. It is
//! tested against the taped pass ([`Mlp::forward`], [`Mlp::input_gradient`]).

use super::{tensor_to_array, Activation, Mlp, TensorDevice};
use crate::error::{Error, Result};
use ndarray::{Array1, Array2, Axis, Zip};

/// Frozen weights of an [`Mlp`] on the host; see the module docs.
#[derive(Debug, Clone)]
pub struct HostMlp {
    weights: Vec<Array2<f32>>,
    biases: Vec<Array1<f32>>,
    activation: Activation,
}

impl HostMlp {
    /// Copies the current weights of `mlp` to the host.
    pub fn snapshot<D: TensorDevice<f32>>(mlp: &Mlp<D>) -> Self {
        let (weights, biases) = mlp
            .layers()
            .iter()
            .map(|layer| {
                (
                    tensor_to_array(layer.weight()),
                    tensor_to_array(layer.bias()).row(0).to_owned(),
                )
            })
            .unzip();
        HostMlp {
            weights,
            biases,
            activation: mlp.activation(),
        }
    }

    /// Input width.
    pub fn in_dim(&self) -> usize {
        self.weights[0].nrows()
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.weights[self.weights.len() - 1].ncols()
    }

    /// f(x) for `x: [N, in]`.
    pub fn forward(&self, x: &Array2<f32>) -> Result<Array2<f32>> {
        self.check_input("HostMlp::forward", x)?;
        let last = self.weights.len() - 1;
        let mut h = x.to_owned();
        for (i, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            h = h.dot(w) + b;
            if i < last {
                h.mapv_inplace(|z| self.activation.value(z));
            }
        }
        Ok(h)
    }

    /// f(x) `[N]` and ∇ₓf(x) `[N, in]` for a scalar-output network, in one forward and one
    /// backward pass.
    pub fn value_and_gradient(&self, x: &Array2<f32>) -> Result<(Array1<f32>, Array2<f32>)> {
        self.check_input("HostMlp::value_and_gradient", x)?;
        if self.out_dim() != 1 {
            return Err(Error::shape(
                "HostMlp::value_and_gradient",
                "1 output",
                format!("{} outputs", self.out_dim()),
            ));
        }
        let last = self.weights.len() - 1;
        let mut slopes = Vec::with_capacity(last);
        let mut h = x.to_owned();
        for (w, b) in self.weights[..last].iter().zip(&self.biases) {
            let z = h.dot(w) + b;
            slopes.push(z.mapv(|v| self.activation.slope(v)));
            h = z.mapv(|v| self.activation.value(v));
        }
        let value = (h.dot(&self.weights[last]) + &self.biases[last]).remove_axis(Axis(1));
        // delta = ∂f/∂h, one row per point, pulled back layer by layer: delta ← (delta ⊙ σ'(z)) Wᵀ.
        let mut delta = Array2::from_shape_fn((x.nrows(), self.weights[last].nrows()), |(_, j)| {
            self.weights[last][[j, 0]]
        });
        for (w, slope) in self.weights[..last].iter().zip(&slopes).rev() {
            Zip::from(&mut delta).and(slope).for_each(|d, &s| *d *= s);
            delta = delta.dot(&w.t());
        }
        Ok((value, delta))
    }

    fn check_input(&self, context: &str, x: &Array2<f32>) -> Result<()> {
        if x.ncols() != self.in_dim() {
            return Err(Error::shape(
                context,
                format!("[N, {}]", self.in_dim()),
                format!("{:?}", x.dim()),
            ));
        }
        if x.nrows() == 0 {
            return Err(Error::Empty(format!("{context}: no rows")));
        }
        Ok(())
    }
}
