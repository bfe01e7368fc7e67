//! NCTM: the hypernetwork layer against a hand computation, typed errors on bad input, determinism,
//! and the learned conditional map against the closed-form Brenier map on held-out conditions.

use dfdx::prelude::*;
use lagrangian_ot::data::toy;
use lagrangian_ot::device::default_device;
use lagrangian_ot::experiments::nctm::{
    conditions_at, evaluate_gaussian, gaussian_builder, NctmSettings, HELDOUT_HORIZONS,
};
use lagrangian_ot::nn::{tensor_to_array, traced, HyperLinear, Trainable};
use lagrangian_ot::progress::ProgressMode;
use lagrangian_ot::solver::{Conditioning, Conditions, ContinuousEncoding, Nctm, NctmBuilder};
use lagrangian_ot::Error;
use ndarray::{array, Array2};

#[test]
fn hyper_linear_output_is_the_hand_computed_per_sample_affine_map() {
    let dev = default_device(3);
    let (k, m, c) = (3usize, 2usize, 2usize);
    let layer = HyperLinear::new(&dev, k, m, c).unwrap();
    let e = [[0.5f32, -1.0, 2.0], [1.5, 0.25, -0.75]];
    let code = [[0.3f32, -0.7], [-1.2, 0.4]];
    let e_t = dev.tensor_from_vec(e.concat(), (2, k));
    let code_t = dev.tensor_from_vec(code.concat(), (2, c));
    let out = tensor_to_array(&layer.forward(e_t, code_t).unwrap());

    let a = layer.generator().weight().as_vec(); // [c, k·m + m], row-major
    let bias = layer.generator().bias().as_vec();
    let width = k * m + m;
    for b in 0..2 {
        let g: Vec<f32> = (0..width)
            .map(|o| bias[o] + (0..c).map(|i| code[b][i] * a[i * width + o]).sum::<f32>())
            .collect();
        for j in 0..m {
            let w = |i: usize| g[i * m + j] / (k as f32).sqrt();
            let expected = g[k * m + j] + (0..k).map(|i| e[b][i] * w(i)).sum::<f32>();
            assert!(
                (out[[b, j]] - expected).abs() < 1e-5,
                "row {b} col {j}: {} vs {expected}",
                out[[b, j]]
            );
        }
    }
    // Different codes give different weights: the same input row under the two codes differs.
    let same = dev.tensor_from_vec([e[0], e[0]].concat(), (2, k));
    let out = tensor_to_array(
        &layer
            .forward(same, dev.tensor_from_vec(code.concat(), (2, c)))
            .unwrap(),
    );
    assert!((out[[0, 0]] - out[[1, 0]]).abs() > 1e-4);
}

#[test]
fn hyper_linear_gradients_reach_the_generator_and_bad_shapes_are_typed() {
    let dev = default_device(0);
    let layer = HyperLinear::new(&dev, 4, 3, 2).unwrap();
    let e = dev.tensor_from_vec(vec![0.5f32; 20], (5, 4));
    let code = dev.tensor_from_vec(vec![0.2f32; 10], (5, 2));
    let loss = layer
        .forward(traced(&e), code.retaped())
        .unwrap()
        .square()
        .sum::<Rank0, _>();
    let mut grads = loss.backward();
    let g = layer.gradients(&mut grads).unwrap();
    assert!(g[0].as_vec().iter().any(|v| v.abs() > 1e-6));
    assert_eq!(g[0].shape(), &(2, 4 * 3 + 3));

    let wide = dev.tensor_from_vec(vec![0.5f32; 25], (5, 5));
    assert!(matches!(
        layer.forward(wide, code.clone()),
        Err(Error::Shape { .. })
    ));
    let short = dev.tensor_from_vec(vec![0.2f32; 8], (4, 2));
    assert!(matches!(layer.forward(e, short), Err(Error::Shape { .. })));
    assert!(matches!(
        HyperLinear::new(&dev, 0, 3, 2),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn conditions_reject_bad_input() {
    assert!(matches!(
        Conditions::new(array![[0usize], [1]], array![[0.5f32]]),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        Conditions::new(array![[0usize]], array![[f32::NAN]]),
        Err(Error::NonFinite(_))
    ));
    assert!(matches!(
        Conditions::new(Array2::<usize>::zeros((0, 1)), Array2::<f32>::zeros((0, 1))),
        Err(Error::Empty(_))
    ));
    let grid = Conditions::grid(&[vec![0], vec![2]], &[vec![0.0], vec![0.5], vec![1.0]]).unwrap();
    assert_eq!(grid.len(), 6);
    assert_eq!(grid.row(4).unwrap(), (vec![2], vec![0.5]));
    assert!(matches!(grid.row(6), Err(Error::InvalidArgument(_))));
    assert_eq!(
        grid.select(&[4, 0]).unwrap().row(0).unwrap(),
        (vec![2], vec![0.5])
    );
    assert!(matches!(grid.select(&[6]), Err(Error::InvalidArgument(_))));
    assert!(matches!(grid.select(&[]), Err(Error::Empty(_))));
}

fn shift_target(
    r: &mut lagrangian_ot::device::SeededRng,
    c: &Conditions,
) -> lagrangian_ot::Result<Array2<f32>> {
    let mut y = toy::gaussian(r, c.len(), &[0.0, 0.0], 1.0)?;
    for (i, mut row) in y.rows_mut().into_iter().enumerate() {
        row[0] += 2.0 * c.categorical()[[i, 0]] as f32 + c.continuous()[[i, 0]];
    }
    Ok(y)
}

fn tiny(conditioning: Conditioning) -> NctmBuilder {
    Nctm::builder(2)
        .categorical(&[2])
        .continuous(1)
        .conditioning(conditioning)
        .target(shift_target)
        .train_conditions(Conditions::new(array![[0], [1]], array![[0.0], [1.0]]).unwrap())
        .pretrain_steps(3)
        .iterations(3)
        .batch_size(16)
        .progress(ProgressMode::Silent)
}

#[test]
fn builder_and_model_give_typed_errors_on_bad_input() {
    let no_target = Nctm::builder(2)
        .categorical(&[2])
        .train_conditions(Conditions::repeat(&[0], &[], 1).unwrap())
        .build();
    assert!(matches!(no_target, Err(Error::InvalidArgument(_))));
    assert!(matches!(
        tiny(Conditioning::Hypernetwork).batch_size(0).build(),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        tiny(Conditioning::Hypernetwork)
            .continuous(0)
            .categorical(&[])
            .build(),
        Err(Error::InvalidArgument(_))
    ));
    let unknown = Conditions::new(array![[5]], array![[0.0]]).unwrap();
    assert!(matches!(
        tiny(Conditioning::Hypernetwork)
            .train_conditions(unknown.clone())
            .build(),
        Err(Error::InvalidArgument(_))
    ));
    let two_continuous = Conditions::new(array![[0]], array![[0.0, 1.0]]).unwrap();
    assert!(matches!(
        tiny(Conditioning::Hypernetwork)
            .train_conditions(two_continuous)
            .build(),
        Err(Error::Shape { .. })
    ));

    let model = tiny(Conditioning::Hypernetwork).build().unwrap().fit().unwrap();
    let x = Array2::<f32>::zeros((4, 2));
    assert_eq!(model.transport_at(&x, &[1], &[0.5]).unwrap().dim(), (4, 2));
    assert!(matches!(
        model.transport_at(&Array2::zeros((4, 3)), &[1], &[0.5]),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        model.transport_at(&x, &[2], &[0.5]),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        model.transport_at(&x, &[1], &[f32::NAN]),
        Err(Error::NonFinite(_))
    ));
    let mut bad = x.clone();
    bad[[1, 1]] = f32::NAN;
    assert!(matches!(
        model.transport_at(&bad, &[1], &[0.5]),
        Err(Error::NonFinite(_))
    ));
    let three = Conditions::repeat(&[1], &[0.5], 3).unwrap();
    assert!(matches!(model.transport(&x, &three), Err(Error::Shape { .. })));
    assert!(matches!(
        model.transport_at(&Array2::zeros((0, 2)), &[1], &[0.5]),
        Err(Error::Empty(_))
    ));
}

#[test]
fn overflowing_target_is_reported_as_divergence() {
    let result = tiny(Conditioning::Film)
        .target(|_, c: &Conditions| Ok(Array2::from_elem((c.len(), 2), 1e30f32)))
        .build()
        .unwrap()
        .fit();
    assert!(
        matches!(result, Err(Error::Diverged { step: 0, .. })),
        "{:?}",
        result.err()
    );
}

#[test]
fn every_conditioning_trains_and_a_seed_fixes_the_result() {
    let x = array![[0.3f32, -0.2], [1.0, 0.5]];
    for conditioning in [
        Conditioning::Hypernetwork,
        Conditioning::Film,
        Conditioning::Concatenation,
    ] {
        let fit = || {
            tiny(conditioning)
                .encoding(ContinuousEncoding::Scalar)
                .seed(11)
                .build()
                .unwrap()
                .fit()
                .unwrap()
        };
        let (a, b) = (fit(), fit());
        assert_eq!(a.map.conditioning(), conditioning);
        let (ya, yb) = (
            a.transport_at(&x, &[1], &[0.3]).unwrap(),
            b.transport_at(&x, &[1], &[0.3]).unwrap(),
        );
        assert_eq!(ya, yb, "{conditioning:?}: same seed, different maps");
        assert!(a.history.critic_loss.iter().all(|v| v.is_finite()));
        // The condition encoder is trained: T's embedding table moved away from its initial value.
        let c = tiny(conditioning)
            .encoding(ContinuousEncoding::Scalar)
            .seed(11)
            .iterations(1)
            .pretrain_steps(0);
        let untrained = c.build().unwrap().fit().unwrap();
        let first = |m: &lagrangian_ot::solver::NctmModel| m.map.condition_encoder().params()[0].as_vec();
        assert_ne!(
            first(&a),
            first(&untrained),
            "{conditioning:?}: embedding never trained"
        );
    }
}

#[test]
fn learned_map_is_close_to_the_brenier_map_on_held_out_conditions() {
    let settings = NctmSettings::quick();
    let model = gaussian_builder(&settings, 0)
        .unwrap()
        .build()
        .unwrap()
        .fit()
        .unwrap();
    let heldout = conditions_at(&HELDOUT_HORIZONS).unwrap();
    let e = evaluate_gaussian(&model, &heldout, 256, 1).unwrap();
    eprintln!("held-out: {e:?} ({:.1} s)", model.history.seconds);
    // The identity is far from T* (E|x − T*(x)|² ≈ 5); the learned map must get most of the way.
    assert!(e.map_error_identity > 3.0, "{e:?}");
    // Measured 0.034 (seed 0; 0.046 and 0.034 for seeds 1, 2); W2 0.29 against a sampling floor of 0.22.
    assert!(e.map_error < 0.12, "map error {e:?}");
    assert!(e.map_error < 0.03 * e.map_error_identity, "{e:?}");
    assert!(e.w2 < 0.4, "{e:?}");
    assert!(e.w2 < 0.25 * e.w2_identity, "{e:?}");
    assert!(e.w2_true_map < e.w2 + 0.02, "{e:?}");
    assert!(e.rho > 0.98, "{e:?}");
}

/// The shift of the weak-cost task: category 0 or 1 moves the target along the first axis, the
/// horizon along the second.
fn weak_shift(c: &Conditions, i: usize) -> [f32; 2] {
    let sign = if c.categorical()[[i, 0]] == 0 { -1.5 } else { 1.5 };
    [sign, c.continuous()[[i, 0]]]
}

fn weak_task() -> NctmBuilder {
    Nctm::builder(2)
        .categorical(&[2])
        .continuous(1)
        .source(|r, c: &Conditions| toy::gaussian(r, c.len(), &[0.0, 0.0], 0.5))
        .target(|r, c: &Conditions| {
            let mut y = toy::gaussian(r, c.len(), &[0.0, 0.0], 1.0)?;
            for (i, mut row) in y.rows_mut().into_iter().enumerate() {
                let m = weak_shift(c, i);
                row[0] += m[0];
                row[1] += m[1];
            }
            Ok(y)
        })
        .train_conditions(Conditions::grid(&[vec![0], vec![1]], &[vec![0.0], vec![0.5], vec![1.0]]).unwrap())
        .pretrain_steps(100)
        .iterations(600)
        .batch_size(128)
        .progress(ProgressMode::Silent)
}

/// Conditional mean error `E|E_z T(x, z, c) − (x + m(c))|²` and mean conditional variance per
/// coordinate, over 64 source points × 32 latent draws at two conditions.
fn conditional_moments(model: &lagrangian_ot::solver::NctmModel) -> (f64, f64) {
    let mut r = lagrangian_ot::device::rng(11);
    let (points, draws) = (64, 32);
    let (mut mean_error, mut variance) = (0.0, 0.0);
    for (cat, u) in [(0usize, 0.25f32), (1, 0.75)] {
        let x = toy::gaussian(&mut r, points, &[0.0, 0.0], 0.5).unwrap();
        let repeated = x.select(
            ndarray::Axis(0),
            &(0..points * draws).map(|k| k / draws).collect::<Vec<_>>(),
        );
        let cond = Conditions::repeat(&[cat], &[u], points * draws).unwrap();
        let y = model.sample_transport(&mut r, &repeated, &cond).unwrap();
        let m = weak_shift(&cond, 0);
        for i in 0..points {
            let block = y.slice(ndarray::s![i * draws..(i + 1) * draws, ..]);
            let mean = block.mean_axis(ndarray::Axis(0)).unwrap();
            for d in 0..2 {
                let expected = x[[i, d]] + m[d];
                mean_error += ((mean[d] - expected) as f64).powi(2);
                variance += block
                    .column(d)
                    .iter()
                    .map(|v| ((v - mean[d]) as f64).powi(2))
                    .sum::<f64>()
                    / draws as f64;
            }
        }
    }
    (
        mean_error / (2.0 * points as f64),
        variance / (4.0 * points as f64),
    )
}

#[test]
fn weak_cost_learns_the_one_to_many_plan_of_a_narrow_to_wide_gaussian() {
    use lagrangian_ot::solver::WeakCost;
    // Source N(0, ¼I), target N(m(c), I). Under the γ = 1 weak cost only E[y | x] is charged, and the
    // optimum keeps it at x + m(c) (the law of x + m(c) is below the target in convex order), spreading
    // each point with conditional variance 1 − ¼ = 0.75 per coordinate. The strong cost's Brenier map
    // y = m + 2x is deterministic: conditional variance 0, conditional mean error E|x|² = 0.5.
    let weak = weak_task()
        .weak_cost(WeakCost::default())
        .build()
        .unwrap()
        .fit()
        .unwrap();
    let (mean_error, variance) = conditional_moments(&weak);
    eprintln!(
        "weak: mean error {mean_error:.4}, conditional variance {variance:.4} ({:.1} s)",
        weak.history.seconds
    );
    let strong = weak_task().build().unwrap().fit().unwrap();
    let (strong_error, strong_variance) = conditional_moments(&strong);
    eprintln!("strong: mean error {strong_error:.4}, conditional variance {strong_variance:.4}");
    // Measured at 600 iterations (seed 0): weak mean error 0.272, conditional variance 0.573; strong
    // 0.542 and 0. The weak map is halfway from the Brenier map to the weak optimum in its mean and
    // has 3/4 of the optimum's spread (latent std 1.0 instead of NOT's 0.1: 0.216 and 0.528). A latent
    // the map ignores gives variance 0; a map that ignores the weak cost gives the strong error.
    assert!(variance > 0.4 && variance < 1.05, "{variance}");
    assert!(
        mean_error < 0.7 * strong_error,
        "{mean_error} vs strong {strong_error}"
    );
    assert!(
        strong_variance < 1e-9 && strong_error > 0.3,
        "{strong_error} {strong_variance}"
    );
}

#[test]
fn weak_cost_settings_are_validated_and_models_save_and_load() {
    use lagrangian_ot::solver::WeakCost;
    for bad in [
        WeakCost::with_gamma(f32::NAN),
        WeakCost::with_gamma(-1.0),
        WeakCost {
            samples: 1,
            ..WeakCost::default()
        },
        WeakCost {
            latent_dim: 0,
            ..WeakCost::default()
        },
        WeakCost {
            latent_std: 0.0,
            ..WeakCost::default()
        },
    ] {
        assert!(
            matches!(
                tiny(Conditioning::Film).weak_cost(bad).build(),
                Err(Error::InvalidArgument(_))
            ),
            "{bad:?}"
        );
    }
    let model = tiny(Conditioning::Hypernetwork)
        .weak_cost(WeakCost::default())
        .build()
        .unwrap()
        .fit()
        .unwrap();
    assert_eq!(model.latent_dim(), 2);
    let x = toy::gaussian(&mut lagrangian_ot::device::rng(3), 8, &[0.0, 0.0], 1.0).unwrap();
    let cond = Conditions::repeat(&[1], &[0.5], 8).unwrap();
    assert!(matches!(
        model.transport_with_latent(&x, &Array2::zeros((8, 3)), &cond),
        Err(Error::Shape { .. })
    ));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nctm.npz");
    model.save(&path).unwrap();
    let mut other = tiny(Conditioning::Hypernetwork)
        .weak_cost(WeakCost::default())
        .seed(9)
        .build()
        .unwrap()
        .fit()
        .unwrap();
    assert_ne!(
        other.transport(&x, &cond).unwrap(),
        model.transport(&x, &cond).unwrap()
    );
    other.load(&path).unwrap();
    assert_eq!(
        other.transport(&x, &cond).unwrap(),
        model.transport(&x, &cond).unwrap()
    );
    assert_eq!(
        other.critic_at(&x, &cond).unwrap(),
        model.critic_at(&x, &cond).unwrap()
    );
    // A deterministic map has a narrower input layer: its checkpoint does not fit.
    let mut strong = tiny(Conditioning::Hypernetwork).build().unwrap().fit().unwrap();
    let before = strong.transport(&x, &cond).unwrap();
    assert!(matches!(strong.load(&path), Err(Error::Checkpoint { .. })));
    assert_eq!(strong.transport(&x, &cond).unwrap(), before);
}
