//! A probability measure a solver can draw minibatches from: a sampler function or a fixed sample set.

use crate::device::SeededRng;
use crate::error::{Error, Result};
use ndarray::{Array2, Axis};
use rand::Rng;
use std::fmt;
use std::sync::Arc;

type SamplerFn = dyn Fn(&mut SeededRng, usize) -> Result<Array2<f32>> + Send + Sync;

/// A measure to transport from or to. Either a sampler (fresh points every batch, as NLOT's toy
/// problems) or a fixed set of samples (a data set; batches are drawn uniformly with replacement, or
/// the whole set when the batch is at least as large).
#[derive(Clone)]
pub enum Measure {
    /// Draws `n` fresh points from a seeded generator.
    Sampler {
        /// Shown in titles and errors.
        name: String,
        /// Dimension of the points.
        dim: usize,
        /// The sampler.
        sample: Arc<SamplerFn>,
    },
    /// A fixed sample set `[N, d]`.
    Samples {
        /// Shown in titles and errors.
        name: String,
        /// The points.
        points: Arc<Array2<f32>>,
    },
}

impl Measure {
    /// A measure from a sampler closure, e.g. `Measure::from_fn("moons", 2, |r, n| toy::moons(r, n, 0.05))`.
    pub fn from_fn(
        name: &str,
        dim: usize,
        sample: impl Fn(&mut SeededRng, usize) -> Result<Array2<f32>> + Send + Sync + 'static,
    ) -> Self {
        Measure::Sampler {
            name: name.to_string(),
            dim,
            sample: Arc::new(sample),
        }
    }

    /// A measure from fixed samples; errors on an empty or non-finite set.
    pub fn from_samples(name: &str, points: Array2<f32>) -> Result<Self> {
        if points.is_empty() {
            return Err(Error::Empty(format!("measure {name}: no samples")));
        }
        crate::error::ensure_finite(&format!("measure {name}"), points.iter())?;
        Ok(Measure::Samples {
            name: name.to_string(),
            points: Arc::new(points),
        })
    }

    /// The measure's name.
    pub fn name(&self) -> &str {
        match self {
            Measure::Sampler { name, .. } | Measure::Samples { name, .. } => name,
        }
    }

    /// Dimension of its points.
    pub fn dim(&self) -> usize {
        match self {
            Measure::Sampler { dim, .. } => *dim,
            Measure::Samples { points, .. } => points.ncols(),
        }
    }

    /// Draws a batch of `n` points `[n, d]`, checked for shape and finiteness. A fixed sample set
    /// gives the whole set when `n` is at least its size (full-batch training on a small data set);
    /// [`Measure::sample_exact`] always gives `n` rows.
    pub fn sample(&self, rng: &mut SeededRng, n: usize) -> Result<Array2<f32>> {
        self.draw(rng, n, true)
    }

    /// Draws exactly `n` points `[n, d]`: a fixed sample set is drawn uniformly with replacement
    /// whatever `n` is. For solvers that pair the rows of batches of a set size (HOTA's times,
    /// sources and targets).
    ///
    /// ```
    /// use lagrangian_ot::data::Measure;
    /// let m = Measure::from_samples("three points", ndarray::Array2::zeros((3, 2)))?;
    /// let mut r = lagrangian_ot::device::rng(0);
    /// assert_eq!(m.sample(&mut r, 10)?.nrows(), 3);
    /// assert_eq!(m.sample_exact(&mut r, 10)?.nrows(), 10);
    /// # Ok::<(), lagrangian_ot::Error>(())
    /// ```
    pub fn sample_exact(&self, rng: &mut SeededRng, n: usize) -> Result<Array2<f32>> {
        let batch = self.draw(rng, n, false)?;
        if batch.nrows() != n {
            return Err(Error::shape(
                format!("measure {} sampler", self.name()),
                format!("[{n}, {}]", self.dim()),
                format!("{:?}", batch.dim()),
            ));
        }
        Ok(batch)
    }

    fn draw(&self, rng: &mut SeededRng, n: usize, whole_set_for_large_batches: bool) -> Result<Array2<f32>> {
        if n == 0 {
            return Err(Error::InvalidArgument(format!(
                "measure {}: batch of 0 points",
                self.name()
            )));
        }
        let batch = match self {
            Measure::Sampler { sample, .. } => sample(rng, n)?,
            Measure::Samples { points, .. } if whole_set_for_large_batches && n >= points.nrows() => {
                points.as_ref().clone()
            }
            Measure::Samples { points, .. } => {
                let rows: Vec<usize> = (0..n).map(|_| rng.gen_range(0..points.nrows())).collect();
                points.select(Axis(0), &rows)
            }
        };
        if batch.ncols() != self.dim() || batch.nrows() == 0 {
            return Err(Error::shape(
                format!("measure {} sampler", self.name()),
                format!("[{n}, {}]", self.dim()),
                format!("{:?}", batch.dim()),
            ));
        }
        crate::error::ensure_finite(&format!("samples of measure {}", self.name()), batch.iter())?;
        Ok(batch)
    }
}

impl fmt::Debug for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Measure::Sampler { name, dim, .. } => write!(f, "Measure::Sampler({name}, dim {dim})"),
            Measure::Samples { name, points } => write!(f, "Measure::Samples({name}, {:?})", points.dim()),
        }
    }
}
