//! `demo`: the smallest end-to-end run. Two Gaussians with different covariances; the exact OT and
//! Sinkhorn divergences between samples are compared with the closed-form Bures W2 of the laws.

use super::{Report, RunConfig};
use crate::data::toy;
use crate::error::Result;
use crate::metrics::{exact_ot, gaussian_w2_squared, sinkhorn_divergence, GroundCost};
use crate::plot::Figure;
use ndarray::{array, Array1, Array2};

/// Draws both samples, solves exact OT and Sinkhorn at several epsilons, and draws the matching and
/// the Sinkhorn curve against the exact value.
pub(super) fn run(config: &RunConfig) -> Result<Report> {
    let n = if config.quick { 300 } else { 1000 };
    let mut rng = crate::device::rng(config.seed);
    let (m1, c1) = (array![-1.0f32, 0.0], array![[0.30f32, 0.10], [0.10, 0.20]]);
    let (m2, c2) = (array![2.0f32, 1.0], array![[0.50f32, -0.25], [-0.25, 0.40]]);
    let x = toy::gaussian_with_cov(&mut rng, n, m1.as_slice().unwrap_or(&[]), &c1)?;
    let y = toy::gaussian_with_cov(&mut rng, n, m2.as_slice().unwrap_or(&[]), &c2)?;

    let bures = gaussian_w2_squared(
        &to_f64(&m1),
        &c1.mapv(f64::from),
        &to_f64(&m2),
        &c2.mapv(f64::from),
    )?;
    let ot = exact_ot(&x, &y, GroundCost::SqEuclidean)?;
    let epsilons = [1.0, 0.3, 0.1, 0.03, 0.01];
    let divergences = epsilons
        .iter()
        .map(|&eps| sinkhorn_divergence(&x, &y, eps))
        .collect::<Result<Vec<f64>>>()?;

    let figure = Figure::grid(
        2,
        vec![
            matching_panel(&x, &y, ot.assignment.as_deref().unwrap_or(&[]))
                .title(&format!("exact OT matching, n = {n}")),
            Figure::new()
                .title("Sinkhorn divergence vs exact W2^2")
                .x_label("epsilon")
                .y_label("cost")
                .line_xy(&epsilons, &divergences, "Sinkhorn divergence")
                .line_xy(
                    &[epsilons[0], epsilons[4]],
                    &[ot.w2_squared; 2],
                    "exact OT (samples)",
                )
                .line_xy(&[epsilons[0], epsilons[4]], &[bures; 2], "Bures (closed form)"),
        ],
    )
    .suptitle("demo: OT between two Gaussians");

    Ok(Report::new(figure)
        .metric("w2_squared_exact_ot", ot.w2_squared, Some(bures))
        .metric("sinkhorn_divergence_eps_0.01", divergences[4], Some(bures))
        .metric("sinkhorn_divergence_eps_0.1", divergences[2], Some(bures)))
}

/// Source and target clouds with one segment per matched pair (about sixty pairs, to stay readable).
fn matching_panel(x: &Array2<f32>, y: &Array2<f32>, assignment: &[usize]) -> Figure {
    let segments: Vec<Array2<f32>> = assignment
        .iter()
        .enumerate()
        .step_by((assignment.len() / 60).max(1))
        .map(|(i, &j)| ndarray::stack![ndarray::Axis(0), x.row(i), y.row(j)])
        .collect();
    let figure = Figure::new().scatter(x, "source").scatter(y, "target");
    let figure = if segments.is_empty() {
        figure
    } else {
        figure.paths(&segments, "matched pairs")
    };
    figure.equal_aspect()
}

fn to_f64(v: &Array1<f32>) -> Array1<f64> {
    v.mapv(f64::from)
}
