//! NLOT's annealing of obstacle strength and wall temperature (spec §5): training starts with no
//! obstacle and soft walls and moves along a sigmoid to the final (M, τ), so early transport maps
//! are not trapped by hard walls.

use super::obstacles::Obstacle;
use crate::error::{Error, Result};

/// The schedule s(it) = σ(10(t − 0.5)) with t = it/steps (s = 0 when t < 1e-3, s = 1 when
/// 1 − t < 1e-3 and after the last step), applied as M = M₀ + (M₁ − M₀)s, τ = τ₀ + (τ₁ − τ₀)s.
///
/// ```
/// use lagrangian_ot::lagrangian::{Annealing, Obstacle, ObstacleShape};
/// let mut boxed = Obstacle::new(ObstacleShape::Box);
/// let schedule = Annealing::for_obstacle(&boxed);
/// let (m, tau) = schedule.at(200); // t = 0.1
/// assert!((m - 1.80e-4).abs() < 1e-6 && (tau - 0.0984).abs() < 1e-4);
/// schedule.apply(&mut boxed, 5000)?; // past the schedule: the final values
/// assert_eq!((boxed.strength(), boxed.temperature()), (0.01, 0.01));
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Annealing {
    /// Number of iterations over which the values move (NLOT: 2000).
    pub steps: usize,
    /// (start, final) strength M.
    pub strength: (f32, f32),
    /// (start, final) temperature τ.
    pub temperature: (f32, f32),
}

/// NLOT's `anneal_geometry_steps`.
pub const NLOT_ANNEALING_STEPS: usize = 2000;

impl Annealing {
    /// NLOT's schedule for `obstacle`: M from 0 to its current strength, τ from 0.1 (1.0 for the GSB
    /// obstacles) to its current temperature, over 2000 iterations.
    pub fn for_obstacle(obstacle: &Obstacle) -> Self {
        Annealing {
            steps: NLOT_ANNEALING_STEPS,
            strength: (0.0, obstacle.strength()),
            temperature: (
                obstacle.shape().annealing_start_temperature(),
                obstacle.temperature(),
            ),
        }
    }

    /// The progress s ∈ [0, 1] at iteration `it`.
    pub fn progress(&self, it: usize) -> f32 {
        if self.steps == 0 || it >= self.steps {
            return 1.0;
        }
        let t = it as f64 / self.steps as f64;
        let s = if t < 1e-3 {
            0.0
        } else if 1.0 - t < 1e-3 {
            1.0
        } else {
            1.0 / (1.0 + (-10.0 * (t - 0.5)).exp())
        };
        s as f32
    }

    /// (M, τ) at iteration `it`.
    pub fn at(&self, it: usize) -> (f32, f32) {
        let s = self.progress(it);
        // Exact at both ends (s = 0 gives the start, s = 1 the final value).
        let lerp = |(a, b): (f32, f32)| a * (1.0 - s) + b * s;
        (lerp(self.strength), lerp(self.temperature))
    }

    /// Sets `obstacle`'s (M, τ) to their values at iteration `it`.
    pub fn apply(&self, obstacle: &mut Obstacle, it: usize) -> Result<()> {
        let (m, tau) = self.at(it);
        obstacle.set_strength(m)?;
        obstacle.set_temperature(tau).map_err(|e| match e {
            Error::InvalidArgument(msg) => {
                Error::InvalidArgument(format!("annealing at iteration {it}: {msg}"))
            }
            other => other,
        })
    }
}
