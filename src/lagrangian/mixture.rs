//! Weighted sums of potentials, so obstacles, a density potential and a user closure can be combined
//! into the one potential a Lagrangian holds.

use std::sync::Arc;

use super::{forward_tape, Bounds, Condition, Points, Potential, Scalars};
use crate::error::{Error, Result};
use crate::nn::{Taped, TensorDevice};

/// U(q | x) = Σ_k w_k U_k(q | x).
///
/// ```
/// use lagrangian_ot::lagrangian::{potential_at, Mixture, Obstacle, ObstacleShape};
/// let dev = lagrangian_ot::device::default_device(0);
/// let both = Mixture::new()
///     .with(1.0, Obstacle::new(ObstacleShape::Box))
///     .with(2.0, Obstacle::new(ObstacleShape::Well));
/// let u = potential_at(&both, &dev, &ndarray::array![[0.0f32, 0.0], [1.0, 1.0]], None)?;
/// assert!((u[0] + 0.01).abs() < 1e-6); // box centre; the well is 0 there
/// assert!((u[1] + 2.0 * 0.02).abs() < 1e-6); // outside the box; twice the well
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Clone)]
pub struct Mixture<D: TensorDevice<f32> = crate::device::Device> {
    parts: Vec<(f32, Arc<dyn Potential<D>>)>,
}

impl<D: TensorDevice<f32>> Default for Mixture<D> {
    fn default() -> Self {
        Mixture { parts: Vec::new() }
    }
}

impl<D: TensorDevice<f32>> std::fmt::Debug for Mixture<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<(f32, String)> = self.parts.iter().map(|(w, p)| (*w, p.name())).collect();
        f.debug_struct("Mixture").field("parts", &parts).finish()
    }
}

impl<D: TensorDevice<f32>> Mixture<D> {
    /// An empty sum (U = 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `weight · potential`.
    pub fn with(mut self, weight: f32, potential: impl Potential<D> + 'static) -> Self {
        self.parts.push((weight, Arc::new(potential)));
        self
    }

    /// The weights and parts.
    pub fn parts(&self) -> &[(f32, Arc<dyn Potential<D>>)] {
        &self.parts
    }
}

impl<D: TensorDevice<f32>> Potential<D> for Mixture<D> {
    fn name(&self) -> String {
        let names: Vec<String> = self
            .parts
            .iter()
            .map(|(w, p)| format!("{w}·{}", p.name()))
            .collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(" + ")
        }
    }

    fn value(&self, q: Points<D>, cond: Option<&Condition<D>>) -> Result<Scalars<D>> {
        if let Some(&(w, _)) = self.parts.iter().find(|(w, _)| !w.is_finite()) {
            return Err(Error::NonFinite(format!("mixture weight {w}")));
        }
        let mut total: Option<Scalars<D>> = None;
        for (w, part) in &self.parts {
            let term = part.value(q.retaped::<Taped<D>>(), cond)? * *w;
            total = Some(match total {
                Some(sum) => sum + term,
                None => term,
            });
        }
        let total = match total {
            Some(t) => t,
            None => super::NoPotential.value(q.retaped::<Taped<D>>(), cond)?,
        };
        Ok(forward_tape(total, q))
    }

    fn is_zero(&self) -> bool {
        self.parts.iter().all(|(w, p)| *w == 0.0 || p.is_zero())
    }

    /// The first part's domain that exists.
    fn bounds(&self) -> Option<Bounds> {
        self.parts.iter().find_map(|(_, p)| p.bounds())
    }
}
