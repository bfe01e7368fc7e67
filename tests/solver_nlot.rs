//! NLOT under the Brenier cost ½|x − y|² against closed forms: between Gaussians the optimal map is
//! affine, T(x) = m + Σ^{1/2} x for a standard normal source.

use lagrangian_ot::nn::AdamConfig;
use lagrangian_ot::prelude::*;
use lagrangian_ot::solver::{Nlot, SquaredEuclidean};
use ndarray::{array, Array2};

fn gaussian_problem() -> (Measure, Measure, Array2<f32>, [f32; 2]) {
    // Σ^{1/2} = [[1.2, 0.3], [0.3, 0.7]] (symmetric positive definite), so Σ = A².
    let a = array![[1.2f32, 0.3], [0.3, 0.7]];
    let cov = a.dot(&a);
    let mean = [2.0f32, -1.0];
    let source = Measure::from_fn("N(0, I)", 2, |r, n| toy::gaussian(r, n, &[0.0, 0.0], 1.0));
    let target = Measure::from_fn("N(m, Σ)", 2, move |r, n| {
        toy::gaussian_with_cov(r, n, &mean, &cov)
    });
    (source, target, a, mean)
}

#[test]
fn learns_the_brenier_map_between_gaussians() {
    let (source, target, a, mean) = gaussian_problem();
    let model = Nlot::builder(SquaredEuclidean { dim: 2 })
        .source(source)
        .target(target)
        .optimizer(AdamConfig::with_lr(2e-3))
        .batch_size(256)
        .iterations(400)
        .evaluation(0, 128)
        .seed(1)
        .progress(ProgressMode::Silent)
        .build()
        .unwrap()
        .fit()
        .unwrap();
    let mut r: SeededRng = rng(99);
    let x = toy::gaussian(&mut r, 500, &[0.0, 0.0], 1.0).unwrap();
    let y = model.transport(&x).unwrap();
    let exact = x.dot(&a.t()) + ndarray::aview1(&mean);
    let rmse = ((&y - &exact).mapv(|d| d * d).sum() / x.nrows() as f32).sqrt();
    // The map's scale is |A| ~ 1.3 per unit of x: an error of 0.15 means the solver found the affine
    // Brenier map, not just the mean shift (which alone would leave rmse ~ 0.5).
    eprintln!("brenier rmse {rmse}");
    assert!(rmse < 0.15, "rmse to the closed-form Brenier map: {rmse}");
    // The dual objective estimates W2²/2 = ½(|m|² + |A − I|²_F) of the laws.
    let bures_half = 0.5 * (5.0 + ((1.2f64 - 1.0).powi(2) + 2.0 * 0.09 + (0.7f64 - 1.0).powi(2)));
    let tail = &model.history.dual_objective[350..];
    let dual = tail.iter().sum::<f64>() / tail.len() as f64;
    assert!(
        (dual - bures_half).abs() < 0.1 * bures_half,
        "dual {dual} vs W2²/2 = {bures_half}"
    );

    // The sampling check: W2(pushed, target sample) ≤ W2(pushed, T*(x)) + W2(T*(x), target sample),
    // the first at most the map's rmse, the second a draw of the sampling floor (1.5× for that draw's
    // spread). The identity map would score 100·(|m|² + |A − I|²_F) ≈ 531.
    let check = model.sampling_check(8, 512, &mut rng(7)).unwrap();
    eprintln!("{check:?}");
    assert!(check.floor_x100 > 0.0 && check.floor_std_x100 > 0.0 && check.large_floor_x100 > 0.0);
    let bound = (rmse as f64 * 10.0 + check.large_floor_x100.sqrt()).powi(2);
    assert!(
        check.large_x100 < 1.5 * bound,
        "large-sample W2² × 100 {} against the bound {bound} from rmse {rmse} and floor {}",
        check.large_x100,
        check.large_floor_x100
    );
    // Twice the points, so a smaller floor: 512 against the 128 evaluation points.
    assert!(check.large_floor_x100 < check.floor_x100);
    assert!(matches!(
        model.sampling_check(0, 512, &mut rng(7)),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn bad_configurations_are_typed_errors() {
    let (source, target, _, _) = gaussian_problem();
    let wrong_dim = Measure::from_fn("3-D", 3, |r, n| toy::gaussian(r, n, &[0.0, 0.0, 0.0], 1.0));
    assert!(matches!(
        Nlot::builder(SquaredEuclidean { dim: 2 })
            .source(wrong_dim)
            .target(target.clone())
            .build(),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        Nlot::builder(SquaredEuclidean { dim: 2 })
            .target(target.clone())
            .build(),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        Nlot::builder(SquaredEuclidean { dim: 2 })
            .source(source)
            .target(target)
            .batch_size(0)
            .build(),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn a_diverging_run_stops_with_the_step() {
    let (source, target, _, _) = gaussian_problem();
    let result = Nlot::builder(SquaredEuclidean { dim: 2 })
        .source(source)
        .target(target)
        .optimizer(AdamConfig::with_lr(1e6))
        .batch_size(64)
        .iterations(200)
        .evaluation(0, 16)
        .progress(ProgressMode::Silent)
        .build()
        .unwrap()
        .fit();
    assert!(
        matches!(result, Err(Error::Diverged { .. }) | Err(Error::NonFinite(_))),
        "{:?}",
        result.err()
    );
}
