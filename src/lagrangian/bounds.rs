//! The domain box of a Lagrangian: where its obstacles live, where figures draw it, and where the
//! papers clip transported points (NLOT's `project`).

use ndarray::Array2;

use crate::error::{Error, Result};

/// An axis-aligned box `[lo_k, hi_k]` per coordinate.
///
/// ```
/// use lagrangian_ot::lagrangian::Bounds;
/// let b = Bounds::rect((-10.0, 10.0), (-8.0, 8.0))?;
/// let clipped = b.clip(&ndarray::array![[12.0f32, -9.0], [1.0, 2.0]])?;
/// assert_eq!(clipped, ndarray::array![[10.0f32, -8.0], [1.0, 2.0]]);
/// assert!(Bounds::rect((1.0, 0.0), (0.0, 1.0)).is_err());
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Bounds {
    lo: Vec<f32>,
    hi: Vec<f32>,
}

impl Bounds {
    /// The box with corners `lo` and `hi`; every `lo_k < hi_k`, all finite.
    pub fn new(lo: Vec<f32>, hi: Vec<f32>) -> Result<Self> {
        if lo.is_empty() || lo.len() != hi.len() {
            return Err(Error::shape(
                "Bounds::new",
                "lo and hi of the same positive length",
                format!("{} and {}", lo.len(), hi.len()),
            ));
        }
        if !lo
            .iter()
            .zip(&hi)
            .all(|(l, h)| l.is_finite() && h.is_finite() && l < h)
        {
            return Err(Error::InvalidArgument(format!(
                "bounds need finite lo < hi per coordinate, got lo {lo:?}, hi {hi:?}"
            )));
        }
        Ok(Bounds { lo, hi })
    }

    /// The cube `[lo, hi]^dim`.
    pub fn cube(lo: f32, hi: f32, dim: usize) -> Result<Self> {
        Bounds::new(vec![lo; dim], vec![hi; dim])
    }

    /// The rectangle `x.0..x.1` × `y.0..y.1`.
    pub fn rect(x: (f32, f32), y: (f32, f32)) -> Result<Self> {
        Bounds::new(vec![x.0, y.0], vec![x.1, y.1])
    }

    /// Number of coordinates.
    pub fn dim(&self) -> usize {
        self.lo.len()
    }

    /// Lower corner.
    pub fn lo(&self) -> &[f32] {
        &self.lo
    }

    /// Upper corner.
    pub fn hi(&self) -> &[f32] {
        &self.hi
    }

    /// The range of coordinate `k` (as `f64`, the plotting type); `None` past the last coordinate.
    pub fn range(&self, k: usize) -> Option<(f64, f64)> {
        Some((f64::from(*self.lo.get(k)?), f64::from(*self.hi.get(k)?)))
    }

    /// Clips every row of `q` `[N, dim]` into the box, coordinate by coordinate.
    pub fn clip(&self, q: &Array2<f32>) -> Result<Array2<f32>> {
        Ok(self.clip_with_mask(q)?.0)
    }

    /// Clips like [`Bounds::clip`] and also returns the derivative of the clip, coordinate by
    /// coordinate: 1 where the value was inside the box, 0 where it was clamped (a gradient taken at
    /// the clipped point passes through only where the mask is 1).
    pub fn clip_with_mask(&self, q: &Array2<f32>) -> Result<(Array2<f32>, Array2<f32>)> {
        super::check_host_points("Bounds::clip", q, self.dim())?;
        let mut out = q.clone();
        let mut inside = Array2::ones(q.dim());
        for (mut row, mut mask) in out.rows_mut().into_iter().zip(inside.rows_mut()) {
            for (k, (v, m)) in row.iter_mut().zip(mask.iter_mut()).enumerate() {
                if *v < self.lo[k] || *v > self.hi[k] {
                    *v = v.clamp(self.lo[k], self.hi[k]);
                    *m = 0.0;
                }
            }
        }
        Ok((out, inside))
    }

    /// Whether every row of `q` lies in the box (boundary included).
    pub fn contains_all(&self, q: &Array2<f32>) -> bool {
        q.ncols() == self.dim()
            && q.rows().into_iter().all(|row| {
                row.iter()
                    .enumerate()
                    .all(|(k, v)| (self.lo[k]..=self.hi[k]).contains(v))
            })
    }
}
