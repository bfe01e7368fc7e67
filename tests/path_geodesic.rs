//! Geodesic solver and amortised spline network: closed forms (straight lines, circular arcs),
//! obstacles that push and wells that pull, and the amortiser learning straight paths.

mod path_support;

use approx::assert_abs_diff_eq;
use lagrangian_ot::device::default_device;
use lagrangian_ot::lagrangian::{Lagrangian, NoPotential};
use lagrangian_ot::nn::{Activation, AdamConfig};
use lagrangian_ot::optim::Status;
use lagrangian_ot::path::{
    ActionKind, AdamRefinement, CubicSplinePath, GeodesicConfig, GeodesicSolver, PathPairs, Quadrature,
    SplineAction, SplineAmortiser, SplineAmortiserConfig,
};
use lagrangian_ot::plot::Plot;
use lagrangian_ot::Error;
use ndarray::{array, Array1, Array2, Axis};
use path_support::{CircleMetric, Obstacle};
use rand::{Rng, SeedableRng};

fn uniform(rows: usize, cols: usize, lo: f32, hi: f32, seed: u64) -> Array2<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    Array2::from_shape_fn((rows, cols), |_| rng.gen_range(lo..hi))
}

fn solver(
    dim: usize,
    knots: usize,
    quadrature: Quadrature,
    kind: ActionKind,
    config: GeodesicConfig,
) -> GeodesicSolver {
    let dev = default_device(0);
    let action =
        SplineAction::new(&dev, CubicSplinePath::new(dim, knots).unwrap(), quadrature, kind).unwrap();
    GeodesicSolver::new(action, config).unwrap()
}

fn half_squared_distance(x: &Array2<f32>, y: &Array2<f32>) -> Array1<f32> {
    (y - x).mapv(|v| v * v).sum_axis(Axis(1)) * 0.5
}

#[test]
fn euclidean_geodesics_are_straight_lines_at_constant_speed() {
    for dim in [2, 3] {
        let (x, y) = (uniform(16, dim, -2.0, 2.0, 1), uniform(16, dim, -2.0, 2.0, 2));
        let solver = solver(
            dim,
            30,
            Quadrature::physical(),
            ActionKind::Lagrangian,
            GeodesicConfig::default(),
        );
        let bent = uniform(16, solver.action().num_params(), -0.3, 0.3, 3);
        let geodesics = solver
            .solve(&Lagrangian::euclidean(dim), &x, &y, Some(&bent), None)
            .unwrap();
        let lbfgs = geodesics.lbfgs.as_ref().unwrap();
        // Near the minimum the f32 action stops resolving further decrease, so a pair may end on a
        // failed line search at its last accepted point; what matters is where that point is.
        assert_eq!(lbfgs.count(Status::NonFinite), 0, "{lbfgs}");
        assert!(
            lbfgs.iterations.iter().all(|&i| i > 5),
            "the bent start must need work: {lbfgs}"
        );
        for (cost, expected) in geodesics.costs.iter().zip(&half_squared_distance(&x, &y)) {
            assert_abs_diff_eq!(*cost, *expected, epsilon = 1e-4);
        }
        // Every sampled point is on the segment at the straight line's constant-speed position.
        for (b, path) in geodesics.paths.outer_iter().enumerate() {
            for (k, point) in path.outer_iter().enumerate() {
                let s = geodesics.times[k] as f32;
                for c in 0..dim {
                    assert_abs_diff_eq!(point[c], (1.0 - s) * x[[b, c]] + s * y[[b, c]], epsilon = 1e-3);
                }
            }
        }
    }
}

/// Largest `| |p| − 1 |` over the sampled points of every path.
fn max_radial_deviation(geodesics: &lagrangian_ot::path::Geodesics) -> f32 {
    geodesics
        .paths
        .outer_iter()
        .flat_map(|path| {
            path.outer_iter()
                .map(|p| (p[0].hypot(p[1]) - 1.0).abs())
                .collect::<Vec<_>>()
        })
        .fold(0.0, f32::max)
}

#[test]
fn circle_metric_geodesics_follow_the_unit_circle() {
    // ds² = dr² + ε r² dθ² is a cone of opening √ε: two points on the unit circle an angle Δθ apart
    // are joined (on the unrolled cone) by a chord of length L = 2·sin(√ε·Δθ/2) that dips only to
    // radius cos(√ε·Δθ/2) ≈ 1 − 3·10⁻⁴, so the geodesic follows the arc (the straight chord between
    // the points would cut through the cheap-to-cross interior at a radius down to cos(Δθ/2)).
    let eps = 1e-3f32;
    let angles = [(0.0f32, 1.5f32), (0.5, 2.5), (-2.0, -0.3)];
    let on_circle = |pick: fn(&(f32, f32)) -> f32| {
        Array2::from_shape_fn((3, 2), |(b, c)| {
            let a = pick(&angles[b]);
            if c == 0 {
                a.cos()
            } else {
                a.sin()
            }
        })
    };
    let (x, y) = (on_circle(|a| a.0), on_circle(|a| a.1));
    let exact: Vec<f32> = angles
        .iter()
        .map(|(a0, a1)| {
            let length = 2.0 * (eps.sqrt() * (a1 - a0).abs() / 2.0).sin();
            0.5 * length * length
        })
        .collect();
    let lagrangian = Lagrangian::new(CircleMetric { eps }, NoPotential);

    // Squared length: parametrisation-free, so the spline family can represent the arc closely.
    let length_solver = solver(
        2,
        30,
        Quadrature::physical(),
        ActionKind::SquaredGeodesic,
        GeodesicConfig::default(),
    );
    let geodesics = length_solver.solve(&lagrangian, &x, &y, None, None).unwrap();
    assert!(
        max_radial_deviation(&geodesics) < 3e-3,
        "radial deviation {}",
        max_radial_deviation(&geodesics)
    );
    for (cost, exact) in geodesics.costs.iter().zip(&exact) {
        assert!(
            *cost > 0.999 * exact && *cost < 1.01 * exact,
            "cost {cost} vs exact {exact}"
        );
    }

    // Energy: its minimisers are constant-speed geodesics with energy ½L²; the natural spline's
    // γ̈ = 0 at the ends keeps it from the exact constant-speed arc, so only an upper margin.
    let energy_solver = solver(
        2,
        30,
        Quadrature::physical(),
        ActionKind::Lagrangian,
        GeodesicConfig::default(),
    );
    let geodesics = energy_solver.solve(&lagrangian, &x, &y, None, None).unwrap();
    assert!(
        max_radial_deviation(&geodesics) < 3e-3,
        "radial deviation {}",
        max_radial_deviation(&geodesics)
    );
    for (cost, exact) in geodesics.costs.iter().zip(&exact) {
        assert!(
            *cost > 0.999 * exact && *cost < 1.2 * exact,
            "energy {cost} vs ½L² {exact}"
        );
    }
}

#[test]
fn obstacles_push_paths_out_and_attractors_pull_them_in() {
    let solver = solver(
        2,
        30,
        Quadrature::physical(),
        ActionKind::Lagrangian,
        GeodesicConfig::default(),
    );
    let zero = Array2::zeros((2, solver.action().num_params()));

    // A box of penalty 5 on [−½, ½]²: the straight lines cross it; the geodesics go around.
    let x = array![[-1.0f32, 0.1], [-1.0, -0.2]];
    let y = array![[1.0f32, 0.1], [1.0, -0.1]];
    let boxed = Lagrangian::euclidean(2).with_potential(Obstacle::Box {
        strength: 5.0,
        temp: 0.1,
    });
    let geodesics = solver.solve(&boxed, &x, &y, None, None).unwrap();
    for path in geodesics.path_list() {
        let closest = path
            .outer_iter()
            .map(|p| p[0].abs().max(p[1].abs()))
            .fold(f32::INFINITY, f32::min);
        assert!(closest > 0.5, "the path enters the box (sup-norm {closest})");
    }
    let straight = solver.action().cost_array(&boxed, &x, &y, &zero, None).unwrap();
    for (cost, straight) in geodesics.costs.iter().zip(&straight) {
        assert!(cost < &(straight - 0.5), "detour {cost} vs straight {straight}");
    }

    // An attractive bump above the segment: the path bends towards it.
    let pulled = Lagrangian::euclidean(2).with_potential(Obstacle::Attractor {
        strength: 2.0,
        center: [0.0, 0.6],
        sigma: 0.3,
    });
    let (x, y) = (array![[-1.0f32, 0.0]], array![[1.0f32, 0.0]]);
    let geodesics = solver.solve(&pulled, &x, &y, None, None).unwrap();
    let middle = geodesics.path(0).row(geodesics.times.len() / 2).to_owned();
    assert!(middle[1] > 0.2 && middle[0].abs() < 0.1, "midpoint {middle}");
    let straight = solver.action().cost_array(
        &pulled,
        &x,
        &y,
        &zero.slice(ndarray::s![0..1, ..]).to_owned(),
        None,
    );
    assert!(geodesics.costs[0] < straight.unwrap()[0] - 0.05);
}

#[test]
fn adam_refinement_lowers_the_action_and_the_reference_setting_keeps_the_warm_start() {
    let pulled = Lagrangian::euclidean(2).with_potential(Obstacle::Attractor {
        strength: 2.0,
        center: [0.0, 0.6],
        sigma: 0.3,
    });
    let (x, y) = (
        array![[-1.0f32, 0.0], [-0.5, 0.2]],
        array![[1.0f32, 0.0], [0.5, 0.9]],
    );
    let adam_only = GeodesicConfig {
        lbfgs: None,
        adam: AdamRefinement {
            max_iter: 300,
            init_lr: 1e-2,
            ..Default::default()
        },
        path_points: 20,
    };
    let refined = solver(2, 30, Quadrature::default(), ActionKind::Lagrangian, adam_only)
        .solve(&pulled, &x, &y, None, None)
        .unwrap();
    let reference = solver(
        2,
        30,
        Quadrature::default(),
        ActionKind::Lagrangian,
        GeodesicConfig::reference(),
    );
    let warm = uniform(2, 56, -0.05, 0.05, 9);
    let kept = reference.solve(&pulled, &x, &y, Some(&warm), None).unwrap();
    assert_eq!(kept.params, warm);
    assert_eq!(kept.adam_steps, vec![0, 0]);
    let straight = reference.solve(&pulled, &x, &y, None, None).unwrap();
    assert!(refined.adam_steps.iter().all(|&s| s > 10));
    for (r, s) in refined.costs.iter().zip(&straight.costs) {
        assert!(r < &(s - 0.05), "refined {r} vs straight {s}");
    }
    // The figure draws one polyline per path.
    let svg = refined.to_svg().unwrap();
    assert!(svg.matches("<polyline").count() >= 2);
}

#[test]
fn solver_rejects_bad_input_with_typed_errors() {
    let solver = solver(
        2,
        10,
        Quadrature::physical(),
        ActionKind::Lagrangian,
        GeodesicConfig::default(),
    );
    let euclid = Lagrangian::euclidean(2);
    let ok = Array2::<f32>::zeros((3, 2));
    assert!(matches!(
        solver.solve(&euclid, &ok, &Array2::zeros((2, 2)), None, None),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        solver.solve(&euclid, &ok, &ok, Some(&Array2::zeros((3, 5))), None),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        solver.solve(&euclid, &ok, &ok, None, Some(&Array2::zeros((2, 1)))),
        Err(Error::Shape { .. })
    ));
    let bad = GeodesicConfig {
        path_points: 1,
        ..Default::default()
    };
    let dev = default_device(0);
    let action = SplineAction::new(
        &dev,
        CubicSplinePath::new(2, 10).unwrap(),
        Quadrature::physical(),
        ActionKind::Lagrangian,
    )
    .unwrap();
    assert!(matches!(
        GeodesicSolver::new(action, bad),
        Err(Error::InvalidArgument(_))
    ));
}

fn small_amortiser(cond_dim: usize) -> SplineAmortiser {
    let dev = default_device(5);
    let action = SplineAction::new(
        &dev,
        CubicSplinePath::new(2, 10).unwrap(),
        Quadrature::physical(),
        ActionKind::Lagrangian,
    )
    .unwrap();
    let config = SplineAmortiserConfig {
        hidden: vec![64, 64],
        activation: Activation::ReLU,
        adam: AdamConfig::with_lr(1e-3).clip_grad_norm(1.0),
        early_stop_threshold: 0.0,
    };
    SplineAmortiser::new(action, cond_dim, config).unwrap()
}

#[test]
fn amortiser_learns_near_straight_paths_for_euclidean_pairs() {
    let mut amortiser = small_amortiser(0);
    let pairs = PathPairs::new(uniform(64, 2, -1.5, 1.5, 11), uniform(64, 2, -1.5, 1.5, 12));
    let lower = half_squared_distance(&pairs.x, &pairs.y);
    let euclid = Lagrangian::euclidean(2);
    let before = amortiser.cost(&euclid, &pairs).unwrap();
    let fit = amortiser.fit(&euclid, &pairs, 300).unwrap();
    let after = amortiser.cost(&euclid, &pairs).unwrap();
    let excess = |costs: &Array1<f32>| (costs - &lower).mean().unwrap();
    println!(
        "before {} after {} fit {} -> {}",
        excess(&before),
        excess(&after),
        fit.losses[0],
        fit.losses[fit.steps - 1]
    );
    // The straight line is the unique minimiser: every predicted path costs at least ½|x − y|², and
    // training brings the mean excess close to zero.
    assert!(after.iter().zip(&lower).all(|(c, l)| c >= &(l - 1e-4)));
    assert!(
        excess(&before) > 0.05,
        "the untrained net already predicts straight lines?"
    );
    assert!(
        excess(&after) < 0.01 * lower.mean().unwrap(),
        "excess {}",
        excess(&after)
    );
    assert_eq!(fit.steps, 300);
    assert!(!fit.stopped_early);
}

#[test]
fn amortiser_early_stop_rule_and_errors() {
    let mut amortiser = small_amortiser(1);
    let euclid = Lagrangian::euclidean(2);
    let pairs = PathPairs::new(uniform(8, 2, -1.0, 1.0, 1), uniform(8, 2, -1.0, 1.0, 2));
    // Condition width mismatch (the amortiser expects one feature).
    assert!(matches!(
        amortiser.step(&euclid, &pairs),
        Err(Error::Shape { .. })
    ));
    let pairs = pairs.with_condition(uniform(8, 1, 0.0, 1.0, 3));
    assert!(matches!(
        amortiser.predict(&PathPairs::new(Array2::zeros((8, 3)), Array2::zeros((8, 3)))),
        Err(Error::Shape { .. })
    ));
    assert_eq!(amortiser.predict(&pairs).unwrap().dim(), (8, 16));
    // With a threshold above any gradient norm the fit stops after its first step.
    let mut config = amortiser.config().clone();
    config.early_stop_threshold = 1e9;
    let dev = default_device(5);
    let action = SplineAction::new(
        &dev,
        CubicSplinePath::new(2, 10).unwrap(),
        Quadrature::physical(),
        ActionKind::Lagrangian,
    )
    .unwrap();
    let mut eager = SplineAmortiser::new(action, 1, config).unwrap();
    let fit = eager.fit(&euclid, &pairs, 50).unwrap();
    assert_eq!((fit.steps, fit.stopped_early, eager.steps_taken()), (1, true, 1));
    let step = amortiser.step(&euclid, &pairs).unwrap();
    assert!(step.first_bias_grad_norm > 0.0 && step.first_bias_grad_norm <= step.grad_norm);
}

#[test]
fn frozen_amortiser_predicts_what_the_network_predicts() {
    for cond_dim in [0, 1] {
        let amortiser = small_amortiser(cond_dim);
        let mut pairs = PathPairs::new(uniform(300, 2, -1.5, 1.5, 21), uniform(300, 2, -1.5, 1.5, 22));
        if cond_dim > 0 {
            pairs = pairs.with_condition(uniform(300, 1, 0.0, 1.0, 23));
        }
        let reference = amortiser.predict(&pairs).unwrap();
        let frozen = amortiser.frozen();
        let host = frozen.predict(&pairs).unwrap();
        let err = (&reference - &host).mapv(f32::abs).fold(0.0f32, |a, &b| a.max(b));
        let scale = reference.mapv(f32::abs).fold(0.0f32, |a, &b| a.max(b));
        assert!(
            scale > 1e-3 && err < 1e-5 * scale.max(1.0),
            "cond {cond_dim}: err {err}, scale {scale}"
        );
        // The same checks as the network's own prediction.
        let wrong = PathPairs::new(pairs.x.clone(), uniform(300, 3, -1.0, 1.0, 24));
        assert!(matches!(frozen.predict(&wrong), Err(Error::Shape { .. })));
    }
}
