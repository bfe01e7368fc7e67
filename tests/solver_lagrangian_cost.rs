//! The Lagrangian cost behind NLOT: with the free-particle Lagrangian and the physical quadrature it
//! must equal ½|x − y|² once the amortiser has learned straight paths, and its y-gradient (spline
//! parameters held fixed) is exactly y − x for any residual, since r(0) = r(1) = 0.

use lagrangian_ot::lagrangian::Lagrangian;
use lagrangian_ot::nn::AdamConfig;
use lagrangian_ot::path::{
    ActionKind, CubicSplinePath, Quadrature, SplineAction, SplineAmortiser, SplineAmortiserConfig,
};
use lagrangian_ot::prelude::*;
use lagrangian_ot::solver::{AmortiserSchedule, LagrangianCost, Nlot, TransportCost};

fn euclidean_cost(
    prefit_steps: usize,
) -> LagrangianCost<lagrangian_ot::lagrangian::Euclidean, lagrangian_ot::lagrangian::NoPotential> {
    let dev = default_device(0);
    let action = SplineAction::new(
        &dev,
        CubicSplinePath::new(2, 10).unwrap(),
        Quadrature::physical(),
        ActionKind::Lagrangian,
    )
    .unwrap();
    let config = SplineAmortiserConfig {
        hidden: vec![64, 64],
        adam: AdamConfig::with_lr(1e-3).clip_grad_norm(1.0),
        ..Default::default()
    };
    let amortiser = SplineAmortiser::new(action, 0, config).unwrap();
    LagrangianCost::new(Lagrangian::euclidean(2), amortiser).schedule(AmortiserSchedule {
        prefit_steps,
        batch: 128,
        online: true,
        refit_every: 0,
        refit_steps: 0,
        refit_until: 0,
    })
}

fn measures() -> (Measure, Measure) {
    (
        Measure::from_fn("N(0, I)", 2, |r, n| toy::gaussian(r, n, &[0.0, 0.0], 0.5)),
        Measure::from_fn("N(m, I)", 2, |r, n| toy::gaussian(r, n, &[2.0, 1.0], 0.5)),
    )
}

#[test]
fn prefit_euclidean_cost_is_half_squared_distance_with_exact_gradient() {
    let (source, target) = measures();
    let mut cost = euclidean_cost(300);
    let mut r: SeededRng = rng(1);
    cost.prepare(&mut r, &source, &target).unwrap();
    let x = source.sample(&mut r, 64).unwrap();
    let y = target.sample(&mut r, 64).unwrap();
    let (c, grad) = cost.cost_and_grad_y(&x, &y).unwrap();
    let half_sq = (&y - &x).mapv(|d| d * d).sum_axis(ndarray::Axis(1)) * 0.5;
    let excess = (c.sum() - half_sq.sum()) / half_sq.sum();
    // The action of any path is >= the straight line's; after the pre-fit the excess is small.
    assert!(
        c.iter().zip(&half_sq).all(|(a, b)| *a >= *b - 1e-4),
        "below the straight-line action"
    );
    assert!(excess < 0.01, "mean relative excess over ½|x − y|²: {excess}");
    let grad_err = (&grad - &(&y - &x)).mapv(f32::abs).fold(0.0f32, |a, &b| a.max(b));
    assert!(grad_err < 1e-4, "∇_y c vs y − x: {grad_err}");
}

#[test]
fn nlot_under_the_free_particle_action_moves_mass_to_the_target() {
    let (source, target) = measures();
    let model = Nlot::builder(euclidean_cost(200))
        .source(source.clone())
        .target(target)
        .optimizer(AdamConfig::with_lr(3e-3))
        .batch_size(128)
        .iterations(60)
        .evaluation(0, 64)
        .progress(ProgressMode::Silent)
        .build()
        .unwrap()
        .fit()
        .unwrap();
    let mut r: SeededRng = rng(7);
    let x = source.sample(&mut r, 256).unwrap();
    let y = model.transport(&x).unwrap();
    let mean = y.mean_axis(ndarray::Axis(0)).unwrap();
    // For equal covariances the Brenier map is the translation by m = (2, 1).
    let shift_err = ((mean[0] - 2.0).powi(2) + (mean[1] - 1.0).powi(2)).sqrt();
    assert!(shift_err < 0.15, "pushforward mean {mean:?}");
    let paths = model
        .paths(&x.slice(ndarray::s![..5, ..]).to_owned(), 11)
        .unwrap();
    assert_eq!(paths.len(), 5);
    assert_eq!(paths[0].dim(), (11, 2));
}
