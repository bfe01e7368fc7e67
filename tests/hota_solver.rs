//! HOTA: the value network's derivatives against finite differences, the HJB residual's weight
//! gradient against finite differences, the replay buffer, and the solver on problems with closed forms.

use lagrangian_ot::data::{toy, HotaBenchmark, Measure};
use lagrangian_ot::device::{default_device, rng};
use lagrangian_ot::lagrangian::{NoPotential, Obstacle};
use lagrangian_ot::nn::{array_to_tensor, tensor_to_array, NoneTape, TimeValueNet, Trainable};
use lagrangian_ot::progress::ProgressMode;
use lagrangian_ot::solver::{hjb_residual_loss, Hota, HotaBuilder, HotaConfig, HotaPreset};
use lagrangian_ot::Error;
use ndarray::Array2;
use rand::Rng;

fn random_points(n: usize, d: usize, seed: u64) -> (Vec<f32>, Array2<f32>) {
    let mut r = rng(seed);
    let t: Vec<f32> = (0..n).map(|_| r.gen_range(0.05..0.95)).collect();
    let x = Array2::from_shape_fn((n, d), |_| r.gen_range(-2.0..2.0));
    (t, x)
}

#[test]
fn derivatives_match_finite_differences_of_the_value() {
    let dev = default_device(3);
    let net = TimeValueNet::builder(3)
        .hidden(&[32, 32])
        .film_width(16)
        .build(&dev)
        .unwrap();
    let (t, x) = random_points(40, 3, 1);
    let x_t = array_to_tensor(&dev, &x, "x").unwrap();
    let d = net.derivatives::<NoneTape>(&t, &x_t).unwrap();
    let (dt, grad, dt_grad) = (
        d.dt.as_vec(),
        tensor_to_array(&d.grad_x),
        tensor_to_array(&d.dt_grad_x),
    );

    let h = 1e-4f32;
    let shifted_t = |delta: f32| -> Vec<f32> { t.iter().map(|v| v + delta).collect() };
    let s_plus = net.value_array(&shifted_t(h), &x).unwrap();
    let s_minus = net.value_array(&shifted_t(-h), &x).unwrap();
    let g_plus = net.gradient_array(&shifted_t(h), &x).unwrap();
    let g_minus = net.gradient_array(&shifted_t(-h), &x).unwrap();
    let close = |fd: f32, exact: f32| (fd - exact).abs() <= 1e-2 * (0.1 + exact.abs());
    let mut agree = [0usize; 3];
    for i in 0..x.nrows() {
        agree[0] += close((s_plus[i] - s_minus[i]) / (2.0 * h), dt[i]) as usize;
        for j in 0..3 {
            let mut xp = x.row(i).to_owned().insert_axis(ndarray::Axis(0));
            let mut xm = xp.clone();
            xp[[0, j]] += h;
            xm[[0, j]] -= h;
            let fd = (net.value_array(&[t[i]], &xp).unwrap()[0] - net.value_array(&[t[i]], &xm).unwrap()[0])
                / (2.0 * h);
            agree[1] += close(fd, grad[[i, j]]) as usize;
            agree[2] += close((g_plus[[i, j]] - g_minus[[i, j]]) / (2.0 * h), dt_grad[[i, j]]) as usize;
        }
    }
    // A ±h step that crosses an activation kink makes that one difference quotient meaningless
    // (the network is piecewise linear), so a few disagreements are expected; a wrong formula
    // disagrees almost everywhere.
    let n = x.nrows();
    let fractions = [
        agree[0] as f64 / n as f64,
        agree[1] as f64 / (3 * n) as f64,
        agree[2] as f64 / (3 * n) as f64,
    ];
    assert!(
        fractions.iter().all(|&f| f >= 0.9),
        "fraction of agreeing entries (dt, grad, dt grad): {fractions:?}"
    );
}

#[test]
fn hjb_residual_weight_gradient_matches_finite_differences() {
    let dev = default_device(5);
    let mut online = TimeValueNet::builder(2)
        .hidden(&[24, 24])
        .film_width(12)
        .build(&dev)
        .unwrap();
    let reference = TimeValueNet::builder(2)
        .hidden(&[24, 24])
        .film_width(12)
        .build(&default_device(6))
        .unwrap();
    let mut config = HotaConfig::preset(HotaPreset::Quick, 2);
    config.acceleration_weight = 0.3;
    let (t, x) = random_points(16, 2, 2);
    let (loss, grads) = hjb_residual_loss(&online, &reference, &NoPotential, &config, &t, &x).unwrap();
    assert!(loss.is_finite() && loss > 0.0);

    let mut agree = 0;
    let n_params = online.params().len();
    for (p, gradient) in grads.iter().enumerate() {
        let analytic = gradient.as_vec();
        // The largest entry of each parameter, where a finite difference is well resolved.
        let (k, &g) = analytic
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap();
        let mut values = online.params()[p].as_vec();
        let original = values[k];
        let mut eval = |v: f32| {
            values[k] = v;
            online.params_mut()[p].copy_from(&values);
            hjb_residual_loss(&online, &reference, &NoPotential, &config, &t, &x)
                .unwrap()
                .0
        };
        // The loss jumps where a perturbation moves a point across an activation kink; the best of
        // three step sizes avoids such a crossing unless the gradient is wrong.
        let best = [1e-3f32, 3e-4, 1e-4]
            .into_iter()
            .map(|h| {
                let fd = (eval(original + h) - eval(original - h)) / (2.0 * h as f64);
                (fd - g as f64).abs() / (1e-3 + fd.abs().max(g.abs() as f64))
            })
            .fold(f64::INFINITY, f64::min);
        eval(original);
        agree += (best < 2e-2) as usize;
    }
    assert!(
        agree * 10 >= n_params * 9,
        "{agree} of {n_params} parameters agree with finite differences"
    );
}

#[test]
fn host_snapshot_gradient_matches_the_taped_one() {
    let dev = default_device(8);
    let net = TimeValueNet::builder(3)
        .hidden(&[32, 32])
        .film_width(16)
        .build(&dev)
        .unwrap();
    let (t, x) = random_points(150, 3, 4);
    let taped = net.gradient_array(&t, &x).unwrap();
    let host = net.host_snapshot().input_gradient(&t, &x).unwrap();
    let worst = (&taped - &host).iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(worst < 1e-4, "max difference {worst}");
    assert!(net.host_snapshot().input_gradient(&t[..10], &x).is_err());
}

#[test]
fn ema_tracking_moves_weights_by_the_rate() {
    let dev = default_device(0);
    let a = TimeValueNet::builder(2)
        .hidden(&[8])
        .film_width(4)
        .build(&dev)
        .unwrap();
    let mut b = TimeValueNet::builder(2)
        .hidden(&[8])
        .film_width(4)
        .build(&dev)
        .unwrap();
    let (pa, pb) = (a.params()[0].as_vec(), b.params()[0].as_vec());
    b.track(&a, 0.25).unwrap();
    let moved = b.params()[0].as_vec();
    for ((m, x), y) in moved.iter().zip(&pa).zip(&pb) {
        assert!((m - (0.75 * y + 0.25 * x)).abs() < 1e-6);
    }
    assert!(b.track(&a, 1.5).is_err());
}

fn translation_problem(shift: f32) -> (Measure, Measure) {
    let source = Measure::from_fn("N(-s, 0.3²)", 2, move |r, n| {
        toy::gaussian(r, n, &[-shift, 0.0], 0.3)
    });
    let target = Measure::from_fn("N(+s, 0.3²)", 2, move |r, n| {
        toy::gaussian(r, n, &[shift, 0.0], 0.3)
    });
    (source, target)
}

/// Without a potential the optimal control translates every point by 2s: kinetic energy ½(2s)² and
/// straight paths.
#[test]
fn free_transport_learns_the_translation() {
    let (source, target) = translation_problem(1.0);
    let model = Hota::builder(NoPotential, 2)
        .source(source.clone())
        .target(target.clone())
        .preset(HotaPreset::Quick)
        .sigma(0.05)
        .iterations(1500)
        .seed(0)
        .progress(ProgressMode::Silent)
        .build()
        .unwrap()
        .fit()
        .unwrap();
    let x0 = source.sample(&mut rng(9), 600).unwrap();
    let rollout = model.rollout(&x0, 1).unwrap();
    let end = rollout.end();
    let mean_shift = (end - &x0).mean_axis(ndarray::Axis(0)).unwrap();
    assert!(
        (mean_shift[0] - 2.0).abs() < 0.15,
        "mean displacement {mean_shift}"
    );
    assert!(mean_shift[1].abs() < 0.1, "mean displacement {mean_shift}");
    assert!(
        (rollout.kinetic - 2.0).abs() < 0.3,
        "kinetic {} vs ½·2² = 2",
        rollout.kinetic
    );
    let y = target.sample(&mut rng(10), 600).unwrap();
    let w2 = lagrangian_ot::metrics::sinkhorn_divergence(end, &y, 1e-2).unwrap();
    // Two independent 600-point samples of the target are about 0.02–0.03 apart at ε = 1e-2.
    assert!(w2 < 0.06, "Sinkhorn divergence to the target {w2}");
}

/// The balancing factor κ follows |g_pot|/|g_hjb| unless bounded, and then stays inside its bounds.
#[test]
fn balance_bounds_hold_kappa() {
    let (source, target) = translation_problem(1.0);
    let fit = |cap: Option<f32>, floor: Option<f32>| {
        let mut builder = Hota::builder(NoPotential, 2)
            .source(source.clone())
            .target(target.clone())
            .preset(HotaPreset::Quick)
            .iterations(60)
            .seed(3)
            .progress(ProgressMode::Silent);
        if let Some(cap) = cap {
            builder = builder.max_balance(cap);
        }
        if let Some(floor) = floor {
            builder = builder.min_balance(floor);
        }
        builder.build().unwrap().fit().unwrap().history().balance.clone()
    };
    let range = |kappa: &[f64]| {
        let low = kappa.iter().copied().fold(f64::INFINITY, f64::min);
        let high = kappa.iter().copied().fold(0.0f64, f64::max);
        (low, high)
    };
    let (free_low, free_high) = range(&fit(None, None));
    assert!(
        free_low > 0.0 && free_high > free_low,
        "κ did not move: {free_low}..{free_high}"
    );
    let cap = 0.5 * free_high as f32;
    let (_, capped_high) = range(&fit(Some(cap), None));
    assert!(
        capped_high <= cap as f64 + 1e-9,
        "capped max {capped_high} vs cap {cap}"
    );
    let floor = (free_low + 0.5 * (free_high - free_low)) as f32;
    let (floored_low, _) = range(&fit(None, Some(floor)));
    assert!(
        floored_low >= floor as f64 - 1e-9,
        "floored min {floored_low} vs floor {floor}"
    );
    // Floor equal to cap: κ is constant, as with balancing switched off.
    let (low, high) = range(&fit(Some(1.0), Some(1.0)));
    assert!(
        low == 1.0 && high == 1.0,
        "κ in {low}..{high} with floor = cap = 1"
    );
}

/// The sphere's per-task settings (floor on κ, learning-rate factor) survive a change of preset.
#[test]
fn sphere_tuning_survives_preset() {
    let sphere = HotaBenchmark::Sphere { dim: 10 };
    for preset in [HotaPreset::Fast, HotaPreset::Paper] {
        let builder = Hota::benchmark(sphere).unwrap().preset(preset);
        let config = builder.settings();
        let plain = HotaConfig::preset(preset, 10);
        assert_eq!(config.min_balance, Some(1.0));
        let expected = plain.learning_rate * sphere.learning_rate_factor();
        assert!((config.learning_rate - expected).abs() < 1e-12, "{preset:?}");
    }
    assert!(sphere.learning_rate_factor() < 1.0);
    let vneck = Hota::benchmark(HotaBenchmark::VNeck).unwrap();
    assert_eq!(vneck.settings().min_balance, None);
    assert_eq!(vneck.settings().learning_rate, 1e-3);
}

#[test]
fn long_tasks_get_longer_fast_runs() {
    let fast = HotaConfig::preset(HotaPreset::Fast, 2).iterations;
    let paper = HotaConfig::preset(HotaPreset::Paper, 2).iterations;
    for benchmark in HotaBenchmark::TABLE_1 {
        let wanted = benchmark.fast_iterations().unwrap_or(fast);
        let builder = Hota::benchmark(benchmark).unwrap();
        assert_eq!(builder.settings().iterations, wanted, "{benchmark:?}");
        // Set again after another preset, and only for Fast.
        let builder = builder.preset(HotaPreset::Quick).preset(HotaPreset::Fast);
        assert_eq!(builder.settings().iterations, wanted, "{benchmark:?}");
        let builder = builder.preset(HotaPreset::Paper);
        assert_eq!(builder.settings().iterations, paper, "{benchmark:?}");
    }
    assert!(HotaBenchmark::VNeck.fast_iterations().unwrap() > fast);
    assert!(HotaBenchmark::BabyMaze.fast_iterations().unwrap() > fast);
    assert!(HotaBenchmark::Gmm.fast_iterations().unwrap() > fast);
    assert_eq!(HotaBenchmark::Box.fast_iterations(), None);
}

#[test]
fn bad_configurations_are_typed_errors() {
    let (source, _) = translation_problem(1.0);
    let wrong_dim = Measure::from_fn("3-D", 3, |r, n| toy::gaussian(r, n, &[0.0; 3], 1.0));
    let err = Hota::builder(NoPotential, 2)
        .source(source.clone())
        .target(wrong_dim)
        .build()
        .err()
        .unwrap();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    let err = Hota::builder(NoPotential, 2)
        .source(source.clone())
        .build()
        .err()
        .unwrap();
    assert!(err.to_string().contains("target"), "{err}");
    let err = Hota::benchmark(HotaBenchmark::VNeck)
        .unwrap()
        .sigma(f32::NAN)
        .build()
        .err()
        .unwrap();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    type Bound = fn(HotaBuilder<Obstacle>, f32) -> HotaBuilder<Obstacle>;
    let bounds: [(&str, Bound); 2] = [
        ("max_balance", |b, v| b.max_balance(v)),
        ("min_balance", |b, v| b.min_balance(v)),
    ];
    let build_error = |builder: HotaBuilder<Obstacle>| builder.build().err().unwrap().to_string();
    for value in [0.0, -1.0, f32::NAN] {
        for (name, set) in bounds {
            let err = build_error(set(Hota::benchmark(HotaBenchmark::VNeck).unwrap(), value));
            assert!(err.contains(name), "{name} = {value}: {err}");
        }
    }
    let err = build_error(
        Hota::benchmark(HotaBenchmark::VNeck)
            .unwrap()
            .max_balance(1.0)
            .min_balance(2.0),
    );
    assert!(err.contains("above max_balance"), "{err}");
    assert!(HotaBenchmark::from_name("sphere-1").is_err());
    assert!(HotaBenchmark::from_name("maze").is_err());
}

#[test]
fn a_saved_model_loads_back_into_another() {
    let fit = |seed| {
        Hota::benchmark(HotaBenchmark::Slit)
            .unwrap()
            .preset(HotaPreset::Quick)
            .iterations(4)
            .seed(seed)
            .progress(ProgressMode::Silent)
            .build()
            .unwrap()
            .fit()
            .unwrap()
    };
    let (a, mut b) = (fit(0), fit(1));
    let x = HotaBenchmark::Slit.source().sample(&mut rng(3), 20).unwrap();
    let (va, vb) = (a.velocity(0.3, &x).unwrap(), b.velocity(0.3, &x).unwrap());
    assert!(
        (&va - &vb).iter().any(|v| v.abs() > 1e-4),
        "different seeds should differ"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hota.npz");
    a.save(&path).unwrap();
    b.load(&path).unwrap();
    assert_eq!(b.velocity(0.3, &x).unwrap(), va);
    assert!(b.load(dir.path().join("missing.npz")).is_err());
}
