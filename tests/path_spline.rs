//! Spline paths and their action: interpolation, C² continuity, the reference polygon's golden values
//! (NLOT §2) and gradients against finite differences.

mod path_support;

use approx::assert_abs_diff_eq;
use lagrangian_ot::device::default_device;
use lagrangian_ot::lagrangian::{Euclidean, Lagrangian, NoPotential};
use lagrangian_ot::path::{gauss_legendre, ActionKind, CubicSplinePath, Order, Quadrature, SplineAction};
use lagrangian_ot::Error;
use ndarray::{array, Array1, Array2};
use path_support::{CircleMetric, Obstacle};
use rand::{Rng, SeedableRng};

fn random_params(n: usize, rows: usize, scale: f32, seed: u64) -> Array2<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    Array2::from_shape_fn((rows, n), |_| rng.gen_range(-scale..scale))
}

#[test]
fn spline_interpolates_knot_values_and_pins_the_end_points() {
    let family = CubicSplinePath::new(3, 9).unwrap();
    let params = random_params(family.num_params(), 1, 1.0, 1).row(0).to_owned();
    let (x, y) = (array![0.5f32, -1.0, 2.0], array![-1.5f32, 0.25, 1.0]);
    let knots = family.knot_times();
    let p = family
        .evaluate(x.view(), y.view(), params.view(), &knots, Order::Position)
        .unwrap();
    for (i, &s) in knots.iter().enumerate() {
        for c in 0..3 {
            let line = (1.0 - s as f32) * x[c] + s as f32 * y[c];
            let residual = if i == 0 || i == knots.len() - 1 {
                0.0
            } else {
                params[(i - 1) * 3 + c]
            };
            assert_abs_diff_eq!(p[[i, c]], line + residual, epsilon = 1e-5);
        }
    }
}

#[test]
fn spline_is_c2_and_natural_and_its_velocity_is_the_derivative_of_its_position() {
    let family = CubicSplinePath::new(1, 7).unwrap();
    let params = array![0.3f32, -0.7, 1.1, 0.2, -0.4];
    let (x, y) = (array![0.0f32], array![0.0f32]);
    let eval = |s: f64, order| {
        family
            .residual_row(s, order)
            .unwrap()
            .dot(&params.mapv(|v| v as f64))
    };
    // r(0) = r(1) = 0 and r̈(0) = r̈(1) = 0 (natural ends).
    for end in [0.0, 1.0] {
        assert_abs_diff_eq!(eval(end, Order::Position), 0.0, epsilon = 1e-12);
        assert_abs_diff_eq!(eval(end, Order::Acceleration), 0.0, epsilon = 1e-12);
    }
    // Continuity of r, ṙ, r̈ across every interior knot (one-sided limits 1e-9 apart), while the third
    // derivative does jump (so the check could fail: r is piecewise cubic, not one polynomial).
    let h = 1e-9;
    let mut third_jumps = 0;
    for knot in 1..6 {
        let s = knot as f64 / 6.0;
        for order in [Order::Position, Order::Velocity, Order::Acceleration] {
            let (left, right) = (eval(s - h, order), eval(s + h, order));
            assert_abs_diff_eq!(left, right, epsilon = 1e-6 * left.abs().max(1.0));
        }
        let third = |a: f64, b: f64| (eval(b, Order::Acceleration) - eval(a, Order::Acceleration)) / (b - a);
        if (third(s - 1e-3, s - 1e-4) - third(s + 1e-4, s + 1e-3)).abs() > 1e-2 {
            third_jumps += 1;
        }
    }
    assert!(
        third_jumps >= 3,
        "a C² spline through generic values has kinks in r''', got {third_jumps}"
    );
    // Velocity and acceleration are derivatives of position and velocity (central differences).
    for s in [0.05, 0.31, 0.55, 0.77, 0.96] {
        let fd = (eval(s + 1e-6, Order::Position) - eval(s - 1e-6, Order::Position)) / 2e-6;
        assert_abs_diff_eq!(eval(s, Order::Velocity), fd, epsilon = 1e-6);
        let fd2 = (eval(s + 1e-6, Order::Velocity) - eval(s - 1e-6, Order::Velocity)) / 2e-6;
        assert_abs_diff_eq!(eval(s, Order::Acceleration), fd2, epsilon = 1e-5);
    }
    // The host f32 evaluation agrees with the f64 rows.
    let p = family
        .evaluate(x.view(), y.view(), params.view(), &[0.4], Order::Position)
        .unwrap();
    assert_abs_diff_eq!(p[[0, 0]] as f64, eval(0.4, Order::Position), epsilon = 1e-6);
}

#[test]
fn natural_spline_matches_a_hand_solved_case() {
    // Three knots 0, ½, 1 with r(½) = v: M₁ = −3v/h²·… solved by hand: 4M₁ = 6/h²·(−2v) → M₁ = −12v
    // (h = ½), so on [0, ½] r(s) = 2v·s + (h²/6)·((t³ − t)·M₁) with t = 2s.
    let family = CubicSplinePath::new(1, 3).unwrap();
    let v = 0.8f64;
    for s in [0.1f64, 0.25, 0.4] {
        let t = 2.0 * s;
        let expected = 2.0 * v * s + (0.25 / 6.0) * (t * t * t - t) * (-12.0 * v);
        let row = family.residual_row(s, Order::Position).unwrap();
        assert_abs_diff_eq!(row[0] * v, expected, epsilon = 1e-12);
    }
}

#[test]
fn gauss_legendre_integrates_polynomials_exactly() {
    for n in 1..8 {
        let (nodes, weights) = gauss_legendre(n);
        for degree in 0..2 * n {
            let integral: f64 = nodes
                .iter()
                .zip(&weights)
                .map(|(x, w)| w * x.powi(degree as i32))
                .sum();
            let exact = if degree % 2 == 1 {
                0.0
            } else {
                2.0 / (degree as f64 + 1.0)
            };
            assert_abs_diff_eq!(integral, exact, epsilon = 1e-13);
        }
    }
}

fn reference_cost<P: lagrangian_ot::lagrangian::Potential<lagrangian_ot::device::Device>>(
    potential: P,
    kind: ActionKind,
    x: [f32; 2],
    y: [f32; 2],
) -> f32 {
    let dev = default_device(0);
    let action = SplineAction::new(
        &dev,
        CubicSplinePath::nlot(2).unwrap(),
        Quadrature::default(),
        kind,
    )
    .unwrap();
    let lagrangian = Lagrangian::euclidean(2).with_potential(potential);
    let zero = Array2::zeros((1, action.num_params()));
    let (x, y) = (array![[x[0], x[1]]], array![[y[0], y[1]]]);
    action.cost_array(&lagrangian, &x, &y, &zero, None).unwrap()[0]
}

#[test]
fn reference_polygon_reproduces_the_golden_values_of_nlot() {
    use ActionKind::Lagrangian as L;
    let (left, right) = ([-1.0, 0.0], [1.0, 0.0]);
    let cases: Vec<(&str, f32, f32)> = vec![
        (
            "euclidean",
            reference_cost(NoPotential, L, left, right),
            0.1052652,
        ),
        (
            "box",
            reference_cost(
                Obstacle::Box {
                    strength: 0.01,
                    temp: 0.01,
                },
                L,
                left,
                right,
            ),
            0.2039299,
        ),
        (
            "box, missing it",
            reference_cost(
                Obstacle::Box {
                    strength: 0.01,
                    temp: 0.01,
                },
                L,
                [-1.0, 0.8],
                [1.0, 0.8],
            ),
            0.1052652,
        ),
        (
            "slit, through the opening",
            reference_cost(
                Obstacle::Slit {
                    strength: 1.0,
                    temp: 0.01,
                },
                L,
                left,
                right,
            ),
            0.1052652,
        ),
        (
            "slit, through the wall",
            reference_cost(
                Obstacle::Slit {
                    strength: 1.0,
                    temp: 0.01,
                },
                L,
                [-1.0, 0.5],
                [1.0, 0.5],
            ),
            2.0939853,
        ),
        (
            "hill",
            reference_cost(Obstacle::Hill { strength: 0.05 }, L, left, right),
            0.8141024,
        ),
        (
            "well",
            reference_cost(Obstacle::Well { strength: 0.01 }, L, left, right),
            0.1689494,
        ),
    ];
    for (name, got, golden) in cases {
        assert_abs_diff_eq!(got, golden, epsilon = 2e-6 * golden.max(1.0));
        println!("{name}: {got} (golden {golden})");
    }
}

#[test]
fn reference_polygon_lengths_match_the_golden_values() {
    let dev = default_device(0);
    let family = CubicSplinePath::nlot(2).unwrap();
    let action = SplineAction::new(&dev, family, Quadrature::default(), ActionKind::SquaredGeodesic).unwrap();
    let zero = Array2::zeros((1, action.num_params()));
    let circle = Lagrangian::new(CircleMetric { eps: 1e-3 }, NoPotential);
    let cost = action
        .cost_array(
            &circle,
            &array![[1.0f32, 0.0]],
            &array![[0.0f32, 1.0]],
            &zero,
            None,
        )
        .unwrap()[0];
    // The cost is ½L² with the golden length L.
    assert_abs_diff_eq!((2.0 * cost as f64).sqrt(), 0.5896320, epsilon = 2e-6);
    let euclid = Lagrangian::new(Euclidean { dim: 2 }, NoPotential);
    let cost = action
        .cost_array(
            &euclid,
            &array![[-1.0f32, 0.0]],
            &array![[1.0f32, 0.0]],
            &zero,
            None,
        )
        .unwrap()[0];
    assert_abs_diff_eq!((2.0 * cost as f64).sqrt(), 2.0000188, epsilon = 2e-6);
}

#[test]
fn physical_quadrature_gives_half_the_squared_distance_for_straight_lines() {
    let dev = default_device(0);
    let x = array![[-1.0f32, 0.0, 0.5], [0.3, 0.2, -0.1], [2.0, -1.0, 0.0]];
    let y = array![[1.0f32, 0.0, 0.5], [0.3, 0.2, -0.1], [-1.0, 3.0, 2.0]];
    let expected: Array1<f32> = (&y - &x).mapv(|v| v * v).sum_axis(ndarray::Axis(1)) * 0.5;
    for kind in [ActionKind::Lagrangian, ActionKind::SquaredGeodesic] {
        let action = SplineAction::new(
            &dev,
            CubicSplinePath::nlot(3).unwrap(),
            Quadrature::physical(),
            kind,
        )
        .unwrap();
        let zero = Array2::zeros((3, action.num_params()));
        let cost = action
            .cost_array(&Lagrangian::euclidean(3), &x, &y, &zero, None)
            .unwrap();
        for (c, e) in cost.iter().zip(&expected) {
            assert_abs_diff_eq!(*c, *e, epsilon = 1e-5 * e.max(1.0));
        }
    }
    // A detour costs more: the straight line is the minimiser of the exact Euclidean energy.
    let action = SplineAction::new(
        &dev,
        CubicSplinePath::nlot(3).unwrap(),
        Quadrature::physical(),
        ActionKind::Lagrangian,
    )
    .unwrap();
    let bent = random_params(action.num_params(), 3, 0.1, 7);
    let cost = action
        .cost_array(&Lagrangian::euclidean(3), &x, &y, &bent, None)
        .unwrap();
    for (c, e) in cost.iter().zip(&expected) {
        assert!(
            c > e,
            "a bent path must cost more than the straight line: {c} vs {e}"
        );
    }
}

/// Central finite differences of the summed cost along each coordinate of `which`.
fn finite_differences(
    action: &SplineAction,
    lagrangian: &Lagrangian<CircleMetric, Obstacle>,
    inputs: &[Array2<f32>; 3],
    which: usize,
) -> Array2<f32> {
    let h = 2e-3f32;
    let mut out = Array2::zeros(inputs[which].dim());
    for idx in ndarray::indices(inputs[which].dim()) {
        let mut shifted = inputs.clone();
        let mut total = |delta: f32| {
            shifted[which][idx] = inputs[which][idx] + delta;
            let c = action
                .cost_array(lagrangian, &shifted[0], &shifted[1], &shifted[2], None)
                .unwrap();
            c.iter().map(|&v| v as f64).sum::<f64>()
        };
        out[idx] = ((total(h) - total(-h)) / (2.0 * h as f64)) as f32;
    }
    out
}

#[test]
fn action_gradients_match_finite_differences() {
    let dev = default_device(0);
    let lagrangian = Lagrangian::new(
        CircleMetric { eps: 0.1 },
        Obstacle::Attractor {
            strength: 0.5,
            center: [0.2, 0.6],
            sigma: 0.4,
        },
    );
    let x = array![[1.0f32, 0.1], [-0.8, 0.5]];
    let y = array![[0.1f32, 1.2], [0.6, -0.9]];
    for quadrature in [Quadrature::Reference { points: 12 }, Quadrature::physical()] {
        for kind in [ActionKind::Lagrangian, ActionKind::SquaredGeodesic] {
            let action =
                SplineAction::new(&dev, CubicSplinePath::new(2, 6).unwrap(), quadrature, kind).unwrap();
            let params = random_params(action.num_params(), 2, 0.2, 3);
            let inputs = [x.clone(), y.clone(), params.clone()];
            let g = action
                .cost_and_gradients(&lagrangian, &x, &y, &params, None)
                .unwrap();
            for (which, autodiff) in [(0, &g.d_x), (1, &g.d_y), (2, &g.d_params)] {
                let fd = finite_differences(&action, &lagrangian, &inputs, which);
                for (a, f) in autodiff.iter().zip(fd.iter()) {
                    assert_abs_diff_eq!(*a, *f, epsilon = 3e-3 * f.abs().max(1.0));
                }
                assert!(
                    autodiff.iter().any(|v| v.abs() > 1e-2),
                    "gradient {which} is trivially zero"
                );
            }
        }
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    let dev = default_device(0);
    assert!(matches!(
        CubicSplinePath::new(2, 2),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        CubicSplinePath::new(0, 10),
        Err(Error::InvalidArgument(_))
    ));
    let family = CubicSplinePath::new(2, 5).unwrap();
    assert!(matches!(
        family.residual_row(1.5, Order::Position),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        SplineAction::new(
            &dev,
            family.clone(),
            Quadrature::Reference { points: 1 },
            ActionKind::Lagrangian
        ),
        Err(Error::InvalidArgument(_))
    ));
    let action = SplineAction::new(&dev, family, Quadrature::physical(), ActionKind::Lagrangian).unwrap();
    let lagrangian = Lagrangian::euclidean(2);
    let ok = Array2::<f32>::zeros((2, 2));
    let params = Array2::<f32>::zeros((2, action.num_params()));
    let wrong_params = Array2::<f32>::zeros((2, action.num_params() + 1));
    assert!(matches!(
        action.cost_array(&lagrangian, &ok, &ok, &wrong_params, None),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        action.cost_array(&lagrangian, &Array2::zeros((2, 3)), &ok, &params, None),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        action.cost_array(&Lagrangian::euclidean(3), &ok, &ok, &params, None),
        Err(Error::Shape { .. })
    ));
    let mut nan = ok.clone();
    nan[[0, 0]] = f32::NAN;
    assert!(matches!(
        action.cost_array(&lagrangian, &nan, &ok, &params, None),
        Err(Error::NonFinite(_))
    ));
    assert!(matches!(
        action.cost_array(
            &lagrangian,
            &Array2::zeros((0, 2)),
            &Array2::zeros((0, 2)),
            &Array2::zeros((0, 8)),
            None
        ),
        Err(Error::Empty(_))
    ));
}
