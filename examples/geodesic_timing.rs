//! Times the geodesic solver on 1024 pairs with the reference sizes (30 knots, the 20-point reference
//! polygon), plus the physical quadrature for comparison.
//!
//! Run with `cargo run --release --example geodesic_timing`.

use std::time::Instant;

use dfdx::prelude::*;
use lagrangian_ot::device::{default_device, Device};
use lagrangian_ot::lagrangian::{Condition, Lagrangian, Points, Potential, Scalars};
use lagrangian_ot::path::{
    ActionKind, CubicSplinePath, GeodesicConfig, GeodesicSolver, Quadrature, SplineAction,
};
use lagrangian_ot::Result;
use ndarray::Array2;
use rand::{Rng, SeedableRng};

/// NLOT's hill, `U = −M·exp(−|q|²)`, a repulsive bump at the origin.
struct Hill {
    strength: f32,
}

impl Potential<Device> for Hill {
    fn name(&self) -> String {
        "hill".into()
    }
    fn value(&self, q: Points<Device>, _cond: Option<&Condition<Device>>) -> Result<Scalars<Device>> {
        let squared_norm = q.square().sum::<(usize,), Axis<1>>();
        Ok(squared_norm.negate().exp() * (-self.strength))
    }
}

fn main() -> Result<()> {
    let pairs = 1024;
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    // The NLOT lsb strips: sources x₁ ∈ [−1.25, −1], targets x₁ ∈ [1, 1.25], x₂ ∈ [−1, 1].
    let x = Array2::from_shape_fn((pairs, 2), |(_, c)| {
        if c == 0 {
            rng.gen_range(-1.25..-1.0)
        } else {
            rng.gen_range(-1.0..1.0)
        }
    });
    let y = Array2::from_shape_fn((pairs, 2), |(_, c)| {
        if c == 0 {
            rng.gen_range(1.0..1.25)
        } else {
            rng.gen_range(-1.0..1.0)
        }
    });
    let dev = default_device(0);
    let hill = Lagrangian::euclidean(2).with_potential(Hill { strength: 0.5 });
    println!(
        "geodesic solver, {pairs} pairs, 30 knots (56 parameters per pair), hill potential M = 0.5, straight-line start, {} rayon threads",
        rayon::current_num_threads()
    );
    for (name, quadrature) in [
        ("reference polygon, 20 points", Quadrature::default()),
        (
            "Gauss-Legendre, 3 per knot interval (87 nodes)",
            Quadrature::physical(),
        ),
    ] {
        let action = SplineAction::new(
            &dev,
            CubicSplinePath::nlot(2)?,
            quadrature,
            ActionKind::Lagrangian,
        )?;
        let solver = GeodesicSolver::new(action, GeodesicConfig::default())?;
        // One warm-up solve (allocations), then the timed ones.
        solver.solve(&hill, &x, &y, None, None)?;
        let runs = 3;
        let start = Instant::now();
        let mut geodesics = None;
        for _ in 0..runs {
            geodesics = Some(solver.solve(&hill, &x, &y, None, None)?);
        }
        let seconds = start.elapsed().as_secs_f64() / runs as f64;
        let geodesics = geodesics.expect("at least one run");
        let lbfgs = geodesics.lbfgs.as_ref().expect("L-BFGS ran");
        println!(
            "{name}: {seconds:.3} s per solve; {lbfgs}; mean cost {:.5}",
            geodesics.costs.mean().unwrap_or(f32::NAN)
        );
    }
    Ok(())
}
