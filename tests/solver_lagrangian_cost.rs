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

/// A small trained box-obstacle NLOT problem: its cost (amortiser pre-fitted, obstacle annealed in),
/// potential g, the c-transform's box and a batch of source points with their warm starts T(x).
type BoxModel = lagrangian_ot::solver::NlotModel<
    LagrangianCost<lagrangian_ot::lagrangian::Euclidean, lagrangian_ot::lagrangian::Obstacle>,
>;

fn trained_box_problem() -> (
    BoxModel,
    lagrangian_ot::lagrangian::Bounds,
    ndarray::Array2<f32>,
    ndarray::Array2<f32>,
) {
    use lagrangian_ot::experiments::nlot::{obstacle_problem, NlotSettings};
    use lagrangian_ot::lagrangian::{ObstacleShape, Potential};
    let mut settings = NlotSettings::quick();
    settings.iterations = 150;
    settings.batch_size = 128;
    settings.amortiser_hidden = vec![64, 64];
    settings.amortiser.prefit_steps = 150;
    settings.amortiser.batch = 128;
    settings.amortiser.refit_every = 0;
    settings.annealing_steps = 10;
    settings.eval_every = 0;
    // The model the comparisons below are made on is trained with cached paths (the reference way,
    // the cached c-transform ended worse than its start in an earlier measurement; see
    // `PathRefresh::OncePerSolve`).
    settings.path_refresh = lagrangian_ot::solver::PathRefresh::OncePerSolve;
    // Trained with the paper's Armijo c-transform, the instance the `PathRefresh` docs measure on.
    let model = obstacle_problem(ObstacleShape::Box, &settings, 3)
        .unwrap()
        .ctransform(lagrangian_ot::solver::nlot::paper_ctransform())
        .progress(ProgressMode::Silent)
        .build()
        .unwrap()
        .fit()
        .unwrap();
    let bounds = Potential::<lagrangian_ot::device::Device>::bounds(&model.cost.lagrangian.potential)
        .expect("the box obstacle has bounds");
    let mut r: SeededRng = rng(11);
    let (source, _) = lagrangian_ot::experiments::nlot::strips();
    let x = source.sample(&mut r, 200).unwrap();
    let y0 = bounds.clip(&model.predict_map(&x).unwrap()).unwrap();
    (model, bounds, x, y0)
}

#[test]
fn cached_paths_match_the_reference_at_the_warm_start_and_follow_the_active_rows() {
    use lagrangian_ot::solver::PathRefresh;
    let (mut model, _, x, y0) = trained_box_problem();
    let reference = model.cost.cost_and_grad_y(&x, &y0).unwrap();
    let all: Vec<usize> = (0..x.nrows()).collect();
    for refresh in [
        PathRefresh::EveryEvaluation,
        PathRefresh::OncePerSolve,
        PathRefresh::every(3).unwrap(),
    ] {
        model.cost.path_refresh = refresh;
        let mut solve = model.cost.solve_cost(&x).unwrap();
        let (c, grad) = solve(&all, &y0).unwrap();
        // Identical, not merely close: the first evaluation predicts exactly as the reference does.
        assert_eq!(c, reference.0, "{refresh:?}: cost at the warm start");
        assert_eq!(grad, reference.1, "{refresh:?}: ∇_y cost at the warm start");
    }

    // A later evaluation on a subset of rows at moved points uses the parameters predicted for
    // those rows at the warm start (and not those of the first rows of the batch).
    model.cost.path_refresh = PathRefresh::OncePerSolve;
    let mut solve = model.cost.solve_cost(&x).unwrap();
    solve(&all, &y0).unwrap();
    let active: Vec<usize> = (0..x.nrows()).filter(|i| i % 3 == 1).collect();
    let pick = |a: &ndarray::Array2<f32>| a.select(ndarray::Axis(0), &active);
    let moved = pick(&y0) + 0.05;
    let (c, grad) = solve(&active, &moved).unwrap();
    let frozen = model.cost.predict(&pick(&x), &pick(&y0)).unwrap();
    let expected = model
        .cost
        .amortiser
        .action()
        .cost_and_gradients(&model.cost.lagrangian, &pick(&x), &moved, &frozen, None)
        .unwrap();
    assert_eq!(c, expected.costs);
    assert_eq!(grad, expected.d_y);
    // ... which differ from the re-predicted reference there (otherwise the test proves nothing).
    let fresh = model.cost.cost_and_grad_y(&pick(&x), &moved).unwrap();
    let gap = (&fresh.0 - &c).mapv(f32::abs).sum();
    assert!(gap > 0.0, "frozen and re-predicted paths coincide");
    // Rows outside the batch are a typed error, not a panic.
    assert!(solve(&[x.nrows()], &moved.slice(ndarray::s![..1, ..]).to_owned()).is_err());
    assert!(PathRefresh::every(0).is_err());
}

#[test]
fn cached_paths_make_progress_on_the_box_and_a_restart_improves_on_them() {
    use lagrangian_ot::optim::Lbfgs;
    use lagrangian_ot::solver::{c_transform, nlot::paper_ctransform, PathRefresh};
    let (mut model, _, x, y0) = trained_box_problem();
    let lbfgs = Lbfgs::new(paper_ctransform()).unwrap();
    let mut solve = |refresh| {
        model.cost.path_refresh = refresh;
        // Unclipped: with the box, the reference's objective (g at the unclipped y, zero cost
        // gradient outside) lets points of this briefly trained g run out of the box, and the
        // clipped result's objective then says little about either solve. Without it c grows
        // quadratically and g at most linearly, so the minimum is well posed.
        let result = c_transform(&lbfgs, &model.cost, &model.potential, None, &x, y0.clone()).unwrap();
        // Both solutions priced the reference's way: c(x, ŷ) − g(ŷ) with paths re-predicted at ŷ.
        let objective = model.cost.cost(&x, &result.y).unwrap() - model.potential_at(&result.y).unwrap();
        (
            result.y,
            objective.mean().unwrap(),
            result.lbfgs.mean_iterations(),
        )
    };
    let (y_every, j_every, its_every) = solve(PathRefresh::EveryEvaluation);
    let (y_once, j_once, its_once) = solve(PathRefresh::OncePerSolve);
    let (_, j_restart, its_restart) = solve(PathRefresh::restarts(1).unwrap());
    let j_start = (model.cost.cost(&x, &y0).unwrap() - model.potential_at(&y0).unwrap())
        .mean()
        .unwrap();
    let moved = (&y_once - &y_every).mapv(f32::abs).mean().unwrap();
    println!(
        "objective: start {j_start:.5}, every {j_every:.5} ({its_every:.2} its), once {j_once:.5} \
         ({its_once:.2} its), once + 1 restart {j_restart:.5} ({its_restart:.2} its); \
         mean |ŷ_once − ŷ_every| {moved:.2e}"
    );
    assert!(j_every < j_start, "the reference c-transform made progress");
    assert!(j_once < j_start, "the cached c-transform made progress");
    // How close the cached mode comes depends on the instance: measured on this model (seed 3)
    // 0.14508 against the reference's 0.14004 from 0.15160 (56 % of the reference's progress), and on
    // the same problem trained from seeds 4–8: 84 %, worse than the start, 49 %, 75 %, and a runaway
    // solve (see `PathRefresh::OncePerSolve`). So only the direction is asserted here, and that a
    // restart, which re-anchors the paths at the first solve's answer, improves on it (measured
    // 0.14148 here; seeds 4–8: better on 4, 6 and 7, worse on the two bad ones).
    assert!(
        j_restart < j_once,
        "once + 1 restart {j_restart} vs once {j_once} (every {j_every}, start {j_start})"
    );
}
