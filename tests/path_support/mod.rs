//! Small Lagrangian pieces for the path tests, written against the `Metric`/`Potential` traits from
//! the formulas of NLOT §5–6 (box, slit, hill, well, circle metric) plus a Gaussian bump.
#![allow(dead_code)]

use dfdx::prelude::*;
use lagrangian_ot::device::Device;
use lagrangian_ot::lagrangian::{Condition, Metric, Points, Potential, Scalars};
use lagrangian_ot::nn::Taped;
use lagrangian_ot::Result;
use ndarray::{Array2, Array3};

/// The columns of a taped `[M, d]` batch as `[M]` tensors; only the first carries the input's tape,
/// the others share its id with fresh tapes, so upstream ops run once.
pub fn columns(t: Points<Device>) -> Vec<Scalars<Device>> {
    let (m, d) = *t.shape();
    let dev = t.device().clone();
    let mut copies: Vec<Points<Device>> = (1..d).map(|_| t.retaped::<Taped<Device>>()).collect();
    copies.insert(0, t);
    copies
        .into_iter()
        .enumerate()
        .map(|(c, copy)| {
            let mut selector = vec![0.0f32; d];
            selector[c] = 1.0;
            let selector = dev.tensor_from_vec(selector, (d, 1usize));
            copy.matmul(selector).reshape_like(&(m,))
        })
        .collect()
}

fn sigmoid_window(s: Scalars<Device>, a: f32, b: f32, temp: f32) -> Scalars<Device> {
    let s2 = s.retaped::<Taped<Device>>();
    ((s - a) / temp).sigmoid() - ((s2 - b) / temp).sigmoid()
}

/// The NLOT obstacles, `U = M·u` (NLOT §5).
#[derive(Debug, Clone, Copy)]
pub enum Obstacle {
    /// `u = −w(x₁; −½, ½)·w(x₂; −½, ½)`.
    Box { strength: f32, temp: f32 },
    /// `u = w(x₁; −0.1, 0.1)·(w(x₂; −0.25, 0.25) − 1)`.
    Slit { strength: f32, temp: f32 },
    /// `u = −exp(−|x|²)`.
    Hill { strength: f32 },
    /// `u = −|x|²`.
    Well { strength: f32 },
    /// `U = +M·exp(−|x − c|²/(2σ²))`: an attractive bump (the path is rewarded for passing by c).
    Attractor {
        strength: f32,
        center: [f32; 2],
        sigma: f32,
    },
}

impl Potential<Device> for Obstacle {
    fn name(&self) -> String {
        format!("{self:?}")
    }
    fn value(&self, q: Points<Device>, _cond: Option<&Condition<Device>>) -> Result<Scalars<Device>> {
        let mut cols = columns(q);
        let x2 = cols.pop().unwrap();
        let x1 = cols.pop().unwrap();
        Ok(match *self {
            Obstacle::Box { strength, temp } => {
                (sigmoid_window(x1, -0.5, 0.5, temp) * sigmoid_window(x2, -0.5, 0.5, temp)) * (-strength)
            }
            Obstacle::Slit { strength, temp } => {
                (sigmoid_window(x1, -0.1, 0.1, temp) * (sigmoid_window(x2, -0.25, 0.25, temp) - 1.0))
                    * strength
            }
            Obstacle::Hill { strength } => (x1.square() + x2.square()).negate().exp() * (-strength),
            Obstacle::Well { strength } => (x1.square() + x2.square()) * (-strength),
            Obstacle::Attractor {
                strength,
                center,
                sigma,
            } => {
                let r2 = (x1 - center[0]).square() + (x2 - center[1]).square();
                (r2 * (-0.5 / (sigma * sigma))).exp() * strength
            }
        })
    }
}

/// Scarvelis' circle metric `A(x) = I − (1 − ε)·u uᵀ`, `u = (−x₂, x₁)/|x|` (NLOT §6): moving along
/// circles around the origin is cheap (eigenvalue `ε`), radially it costs 1.
#[derive(Debug, Clone, Copy)]
pub struct CircleMetric {
    pub eps: f32,
}

impl Metric<Device> for CircleMetric {
    fn dim(&self) -> usize {
        2
    }
    fn name(&self) -> String {
        "circle".into()
    }
    fn squared_speed(
        &self,
        q: Points<Device>,
        v: Points<Device>,
        _c: Option<&Condition<Device>>,
    ) -> Result<Scalars<Device>> {
        let mut qc = columns(q);
        let mut vc = columns(v);
        let (q2, q1) = (qc.pop().unwrap(), qc.pop().unwrap());
        let (v2, v1) = (vc.pop().unwrap(), vc.pop().unwrap());
        let (q1b, q2b, v1b, v2b) = (
            q1.retaped::<Taped<Device>>(),
            q2.retaped::<Taped<Device>>(),
            v1.retaped::<Taped<Device>>(),
            v2.retaped::<Taped<Device>>(),
        );
        let norm2 = q1b.square() + q2b.square() + 1e-12;
        let tangential = (q1 * v2 - q2 * v1).square() / norm2;
        let speed2 = v1b.square() + v2b.square();
        Ok(speed2 - tangential * (1.0 - self.eps))
    }
    fn matrix_at(&self, q: &Array2<f32>, _c: Option<&Array2<f32>>) -> Result<Array3<f32>> {
        let mut out = Array3::zeros((q.nrows(), 2, 2));
        for (i, row) in q.outer_iter().enumerate() {
            let n = (row[0] * row[0] + row[1] * row[1]).sqrt().max(1e-6);
            let u = [-row[1] / n, row[0] / n];
            for a in 0..2 {
                for b in 0..2 {
                    let id = if a == b { 1.0 } else { 0.0 };
                    out[[i, a, b]] = id - (1.0 - self.eps) * u[a] * u[b];
                }
            }
        }
        Ok(out)
    }
}
