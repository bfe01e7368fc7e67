//! A replay buffer of (t, x) points visited by simulated trajectories (HOTA spec §2.4).
//!
//! HOTA fits its HJB residual where the current controls actually send mass, not only on the
//! straight interpolant between the marginals: every cost step stores one simulated trajectory's
//! states, and later HJB batches are drawn uniformly (with replacement) from what is stored. When
//! full, the oldest points are overwritten.

use crate::error::{Error, Result};
use ndarray::{Array2, ArrayView2};
use rand::Rng;

/// A ring buffer of time-stamped points; see the module docs.
///
/// ```
/// use lagrangian_ot::solver::ReplayBuffer;
/// let mut buffer = ReplayBuffer::new(2, 3)?;
/// buffer.push(&[0.0, 0.5], ndarray::array![[1.0f32, 2.0], [3.0, 4.0]].view())?;
/// buffer.push(&[1.0], ndarray::array![[5.0f32, 6.0]].view())?;
/// buffer.push(&[0.25], ndarray::array![[7.0f32, 8.0]].view())?; // overwrites the oldest
/// assert_eq!(buffer.len(), 3);
/// let (t, x) = buffer.sample(&mut lagrangian_ot::device::rng(0), 4)?;
/// assert!(t.iter().all(|&t| t != 0.0) && x.nrows() == 4);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReplayBuffer {
    dim: usize,
    capacity: usize,
    times: Vec<f32>,
    points: Vec<f32>,
    next: usize,
}

impl ReplayBuffer {
    /// An empty buffer for `dim`-dimensional points holding at most `capacity` of them.
    pub fn new(dim: usize, capacity: usize) -> Result<Self> {
        if dim == 0 || capacity == 0 {
            return Err(Error::InvalidArgument(format!(
                "ReplayBuffer needs dim > 0 and capacity > 0, got dim {dim}, capacity {capacity}"
            )));
        }
        Ok(ReplayBuffer {
            dim,
            capacity,
            times: Vec::new(),
            points: Vec::new(),
            next: 0,
        })
    }

    /// Number of stored points.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether nothing is stored yet.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Maximum number of points.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Stores `points` (one row per time in `times`), overwriting the oldest when full.
    pub fn push(&mut self, times: &[f32], points: ArrayView2<f32>) -> Result<()> {
        if points.ncols() != self.dim || points.nrows() != times.len() {
            return Err(Error::shape(
                "ReplayBuffer::push",
                format!("[{}, {}] points for {} times", times.len(), self.dim, times.len()),
                format!("{:?}", points.dim()),
            ));
        }
        crate::error::ensure_finite("ReplayBuffer points", points.iter())?;
        crate::error::ensure_finite("ReplayBuffer times", times.iter())?;
        for (&t, row) in times.iter().zip(points.rows()) {
            if self.times.len() < self.capacity {
                self.times.push(t);
                self.points.extend(row.iter());
            } else {
                self.times[self.next] = t;
                self.points[self.next * self.dim..(self.next + 1) * self.dim]
                    .iter_mut()
                    .zip(row)
                    .for_each(|(p, &v)| *p = v);
            }
            self.next = (self.next + 1) % self.capacity;
        }
        Ok(())
    }

    /// `n` points drawn uniformly with replacement: their times and `[n, dim]` coordinates.
    pub fn sample(&self, rng: &mut impl Rng, n: usize) -> Result<(Vec<f32>, Array2<f32>)> {
        if self.is_empty() {
            return Err(Error::Empty("ReplayBuffer::sample: the buffer is empty".into()));
        }
        let mut times = Vec::with_capacity(n);
        let mut points = Array2::zeros((n, self.dim));
        for mut row in points.rows_mut() {
            let i = rng.gen_range(0..self.len());
            times.push(self.times[i]);
            row.iter_mut()
                .zip(&self.points[i * self.dim..(i + 1) * self.dim])
                .for_each(|(p, &v)| *p = v);
        }
        Ok((times, points))
    }
}
