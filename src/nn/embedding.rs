//! Input encodings: a learnable table for categorical labels and fixed sinusoidal features for
//! continuous inputs (times, hyperparameter values), so either kind of condition can feed an MLP.

use dfdx::shapes::{Axes2, Axis, HasShape};
use dfdx::tensor::{Tape, WithEmptyTape};
use dfdx::tensor_ops::{BroadcastTo, GatherTo, ReshapeTo, TryConcatAlong};
use rand_distr::Normal;

use super::{check_columns, device_error, Param, Tensor2, TensorDevice, Trainable};
use crate::error::{Error, Result};

/// A learnable vector per category: a `[num_categories, dim]` table looked up by label.
#[derive(Debug, Clone)]
pub struct Embedding<D: TensorDevice<f32> = crate::device::Device> {
    table: Param<D>,
}

impl<D: TensorDevice<f32>> Embedding<D> {
    /// A table with entries drawn from `N(0, 1/dim)` (flax's `nn.Embed` default), so embedding
    /// vectors start with norm about 1. Zero sizes are an [`Error::InvalidArgument`].
    pub fn new(dev: &D, num_categories: usize, dim: usize) -> Result<Self> {
        if num_categories == 0 || dim == 0 {
            return Err(Error::InvalidArgument(format!(
                "an embedding needs at least one category and one dimension, got {num_categories} x {dim}"
            )));
        }
        let normal = Normal::new(0.0, 1.0 / (dim as f32).sqrt()).expect("finite positive std");
        let table = dev
            .try_sample_like(&(num_categories, dim), normal)
            .map_err(device_error)?;
        Ok(Embedding { table })
    }

    /// Number of categories.
    pub fn num_categories(&self) -> usize {
        self.table.shape().0
    }

    /// Embedding width.
    pub fn dim(&self) -> usize {
        self.table.shape().1
    }

    /// The table `[num_categories, dim]`.
    pub fn table(&self) -> &Param<D> {
        &self.table
    }

    /// The rows of the table for `labels`, `[labels.len(), dim]`, recording on a fresh tape of
    /// type `T` (`NoneTape` for inference, [`crate::nn::Taped`] to train the table).
    /// A label `>= num_categories` is an [`Error::InvalidArgument`]; no labels is [`Error::Empty`].
    ///
    /// ```
    /// use lagrangian_ot::nn::{Embedding, NoneTape, tensor_to_array};
    /// let dev = lagrangian_ot::device::default_device(0);
    /// let emb = Embedding::new(&dev, 3, 4)?;
    /// let rows = tensor_to_array(&emb.forward::<NoneTape>(&[2, 0])?);
    /// assert_eq!(rows.row(0).to_vec(), emb.table().as_vec()[8..12].to_vec());
    /// assert!(emb.forward::<NoneTape>(&[3]).is_err());
    /// # Ok::<(), lagrangian_ot::Error>(())
    /// ```
    pub fn forward<T: Tape<f32, D>>(&self, labels: &[usize]) -> Result<Tensor2<D, T>> {
        if labels.is_empty() {
            return Err(Error::Empty("Embedding::forward: no labels".into()));
        }
        if let Some(&bad) = labels.iter().find(|&&l| l >= self.num_categories()) {
            return Err(Error::InvalidArgument(format!(
                "label {bad} is out of range for an embedding of {} categories",
                self.num_categories()
            )));
        }
        let dev = self.table.device();
        let index = dev
            .try_tensor_from_vec(labels.to_vec(), (labels.len(),))
            .map_err(device_error)?;
        Ok(self.table.retaped::<T>().gather(index))
    }
}

impl<D: TensorDevice<f32>> Trainable<D> for Embedding<D> {
    fn params(&self) -> Vec<&Param<D>> {
        vec![&self.table]
    }
    fn params_mut(&mut self) -> Vec<&mut Param<D>> {
        vec![&mut self.table]
    }
}

/// Fixed sinusoidal features of a continuous input (no parameters).
///
/// For `x: [N, d]` and frequencies `ω_1 … ω_K` the output row is
/// `[x (optional), sin(ω_k x_i) for i, k, cos(ω_k x_i) for i, k]` with `i` (input column) the
/// outer and `k` the inner index, `d · (2K + include_input)` columns. [`FourierFeatures::dyadic`]
/// uses `ω_k = 2^k π`, `k = 0 … K−1` (NeRF-style positional encoding for inputs in `[-1, 1]`).
#[derive(Debug, Clone)]
pub struct FourierFeatures<D: TensorDevice<f32> = crate::device::Device> {
    frequencies: Param<D>,
    include_input: bool,
}

impl<D: TensorDevice<f32>> FourierFeatures<D> {
    /// Features at the given angular frequencies. Empty or non-finite frequencies are an error.
    pub fn new(dev: &D, frequencies: &[f32], include_input: bool) -> Result<Self> {
        if frequencies.is_empty() {
            return Err(Error::Empty("FourierFeatures: no frequencies".into()));
        }
        crate::error::ensure_finite("FourierFeatures frequencies", frequencies)?;
        let frequencies = dev
            .try_tensor_from_vec(frequencies.to_vec(), (1, frequencies.len()))
            .map_err(device_error)?;
        Ok(FourierFeatures {
            frequencies,
            include_input,
        })
    }

    /// `count` dyadic frequencies `π, 2π, 4π, …, 2^{count−1} π`.
    ///
    /// ```
    /// use dfdx::prelude::*;
    /// use lagrangian_ot::nn::{FourierFeatures, tensor_to_array};
    /// let dev = lagrangian_ot::device::default_device(0);
    /// let ff = FourierFeatures::dyadic(&dev, 2, true)?;
    /// let x = dev.tensor_from_vec(vec![0.25_f32], (1, 1));
    /// let row = tensor_to_array(&ff.forward(x)?).row(0).to_vec();
    /// let s = std::f32::consts::FRAC_PI_4;
    /// let expected = [0.25, s.sin(), (2.0 * s).sin(), s.cos(), (2.0 * s).cos()];
    /// assert!(row.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-6));
    /// # Ok::<(), lagrangian_ot::Error>(())
    /// ```
    pub fn dyadic(dev: &D, count: usize, include_input: bool) -> Result<Self> {
        let frequencies: Vec<f32> = (0..count)
            .map(|k| std::f32::consts::PI * 2f32.powi(k as i32))
            .collect();
        Self::new(dev, &frequencies, include_input)
    }

    /// Number of frequencies `K`.
    pub fn num_frequencies(&self) -> usize {
        self.frequencies.shape().1
    }

    /// Output width for a `in_dim`-wide input.
    pub fn out_dim(&self, in_dim: usize) -> usize {
        in_dim * (2 * self.num_frequencies() + usize::from(self.include_input))
    }

    /// The features of `x: [N, d]`, `[N, out_dim(d)]`, on `x`'s tape (differentiable in `x`).
    pub fn forward<T: Tape<f32, D>>(&self, x: Tensor2<D, T>) -> Result<Tensor2<D, T>> {
        let (rows, cols) = *x.shape();
        check_columns("FourierFeatures::forward", (rows, cols), cols.max(1))?;
        let k = self.num_frequencies();
        let grid = (rows, cols, k);
        let input_copy = self.include_input.then(|| x.with_empty_tape());
        let omega = self
            .frequencies
            .clone()
            .reshape_like(&(k,))
            .broadcast_like::<_, Axes2<0, 1>>(&grid);
        let angles = x.broadcast_like::<_, Axis<2>>(&grid) * omega;
        let sines = angles.with_empty_tape().sin().reshape_like(&(rows, cols * k));
        let cosines = angles.cos().reshape_like(&(rows, cols * k));
        let waves = (sines, cosines).concat_along(Axis::<1>);
        Ok(match input_copy {
            Some(input) => (input, waves).concat_along(Axis::<1>),
            None => waves,
        })
    }
}
