//! Adam/AdamW: single steps against the update rule computed by hand, clipping, weight decay,
//! schedules, and actual minimisation (a quadratic and a small regression).

use dfdx::prelude::*;
use lagrangian_ot::device::default_device;
use lagrangian_ot::nn::{
    check_loss, traced, Activation, Adam, AdamConfig, LrSchedule, Mlp, Param, Taped, Trainable,
};
use lagrangian_ot::Error;

type Dev = Cpu;

fn param(dev: &Dev, values: &[f32]) -> Param<Dev> {
    dev.tensor_from_vec(values.to_vec(), (1, values.len()))
}

/// Reference Adam/AdamW in f64 for one parameter vector and a given gradient sequence.
struct HandAdam {
    p: Vec<f64>,
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl HandAdam {
    fn step(&mut self, g: &[f64], lr: f64, [b1, b2]: [f64; 2], eps: f64, wd: f64, max_norm: Option<f64>) {
        let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
        let scale = max_norm.map_or(1.0, |c| if norm > c { c / norm } else { 1.0 });
        self.t += 1;
        let moments = self.m.iter_mut().zip(self.v.iter_mut());
        for ((p, gi), (m, v)) in self.p.iter_mut().zip(g).zip(moments) {
            let gi = gi * scale;
            *m = b1 * *m + (1.0 - b1) * gi;
            *v = b2 * *v + (1.0 - b2) * gi * gi;
            let m_hat = *m / (1.0 - b1.powi(self.t));
            let v_hat = *v / (1.0 - b2.powi(self.t));
            *p = *p - lr * wd * *p - lr * m_hat / (v_hat.sqrt() + eps);
        }
    }
}

#[test]
fn steps_on_a_traced_quadratic_match_the_formula() {
    let dev = default_device(0);
    let start = [0.5_f32, -1.0, 2.0];
    let curvature = [1.0_f32, 3.0, 0.5];
    let mut p = param(&dev, &start);
    let c = param(&dev, &curvature);
    let config = AdamConfig::with_lr(0.1)
        .betas(0.8, 0.95)
        .eps(1e-6)
        .weight_decay(0.2);
    let mut adam = Adam::new(config).unwrap();
    let mut hand = HandAdam {
        p: start.iter().map(|&v| v as f64).collect(),
        m: vec![0.0; 3],
        v: vec![0.0; 3],
        t: 0,
    };
    for _ in 0..4 {
        // loss = ½ Σ c p², gradient c ⊙ p, taken through the tape.
        let loss = (p.retaped::<Taped<Dev>>().square() * c.clone()).sum::<Rank0, _>() * 0.5;
        let mut grads = loss.backward();
        let g: Vec<f64> = hand.p.iter().zip(curvature).map(|(p, c)| p * c as f64).collect();
        adam.step(&mut p, &mut grads).unwrap();
        hand.step(&g, 0.1, [0.8, 0.95], 1e-6, 0.2, None);
        for (got, want) in p.as_vec().iter().zip(&hand.p) {
            assert!((*got as f64 - want).abs() < 1e-5, "{got} vs {want}");
        }
    }
    assert_eq!(adam.steps_taken(), 4);
}

#[test]
fn clipping_rescales_the_global_norm_before_the_moments() {
    let dev = default_device(0);
    let start = [0.0_f32, 1.0];
    let mut p = param(&dev, &start);
    let mut adam = Adam::new(AdamConfig::with_lr(0.05).clip_grad_norm(1.0)).unwrap();
    let mut hand = HandAdam {
        p: vec![0.0, 1.0],
        m: vec![0.0; 2],
        v: vec![0.0; 2],
        t: 0,
    };
    // A large gradient (norm 5, clipped to 1) then a small one (norm 0.5, untouched): the second
    // update depends on the clipped first moment.
    for (g, clipped) in [([3.0_f32, -4.0], true), ([0.3, 0.4], false)] {
        let stats = adam.step_with(&mut p, &[param(&dev, &g)]).unwrap();
        let g64: Vec<f64> = g.iter().map(|&v| v as f64).collect();
        hand.step(&g64, 0.05, [0.9, 0.999], 1e-8, 0.0, Some(1.0));
        assert_eq!(stats.clipped, clipped);
        let norm = g64.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((stats.grad_norm - norm).abs() < 1e-6);
        for (got, want) in p.as_vec().iter().zip(&hand.p) {
            assert!((*got as f64 - want).abs() < 1e-6, "{got} vs {want}");
        }
    }
    // Without clipping the second step would differ measurably.
    let mut unclipped = HandAdam {
        p: vec![0.0, 1.0],
        m: vec![0.0; 2],
        v: vec![0.0; 2],
        t: 0,
    };
    unclipped.step(&[3.0, -4.0], 0.05, [0.9, 0.999], 1e-8, 0.0, None);
    unclipped.step(&[0.3, 0.4], 0.05, [0.9, 0.999], 1e-8, 0.0, None);
    assert!((unclipped.p[0] - hand.p[0]).abs() > 1e-3);
}

#[test]
fn decoupled_weight_decay_shrinks_parameters_without_gradient() {
    let dev = default_device(0);
    let mut p = param(&dev, &[2.0, -4.0]);
    let mut adam = Adam::new(AdamConfig::with_lr(0.1).weight_decay(0.5)).unwrap();
    for _ in 0..3 {
        adam.step_with(&mut p, &[param(&dev, &[0.0, 0.0])]).unwrap();
    }
    let factor = 0.95_f32.powi(3);
    for (got, want) in p.as_vec().iter().zip([2.0 * factor, -4.0 * factor]) {
        assert!((got - want).abs() < 1e-6);
    }
}

#[test]
fn schedules_follow_their_formulas_and_drive_the_step() {
    let constant = LrSchedule::Constant(0.3);
    assert_eq!(constant.lr_at(0), 0.3);
    assert_eq!(constant.lr_at(10_000), 0.3);
    let cosine = LrSchedule::warmup_cosine(1e-2, 1e-4, 4, 20);
    assert!((cosine.lr_at(1) - 0.5e-2).abs() < 1e-15);
    assert_eq!(cosine.lr_at(4), 1e-2);
    let quarter = 1e-4 + (1e-2 - 1e-4) * 0.5 * (1.0 + (std::f64::consts::PI * 0.25).cos());
    assert!((cosine.lr_at(8) - quarter).abs() < 1e-15);
    assert!((cosine.lr_at(20) - 1e-4).abs() < 1e-15);
    assert!((cosine.lr_at(99) - 1e-4).abs() < 1e-15);
    let no_warmup = LrSchedule::warmup_cosine(1.0, 0.0, 0, 10);
    assert_eq!(no_warmup.lr_at(0), 1.0);

    let dev = default_device(0);
    let mut p = param(&dev, &[1.0]);
    let mut adam = Adam::new(AdamConfig::with_lr(0.0).schedule(cosine)).unwrap();
    for step in 0..6 {
        let stats = adam.step_with(&mut p, &[param(&dev, &[1.0])]).unwrap();
        assert_eq!(stats.step, step);
        assert_eq!(stats.lr, cosine.lr_at(step));
    }
}

#[test]
fn invalid_hyperparameters_are_rejected() {
    let bad = [
        AdamConfig::with_lr(-1.0),
        AdamConfig::with_lr(f64::NAN),
        AdamConfig::with_lr(1e-3).betas(1.0, 0.999),
        AdamConfig::with_lr(1e-3).eps(0.0),
        AdamConfig::with_lr(1e-3).weight_decay(-0.1),
        AdamConfig::with_lr(1e-3).clip_grad_norm(0.0),
        AdamConfig::with_lr(1e-3).schedule(LrSchedule::warmup_cosine(1e-3, 0.0, 10, 10)),
    ];
    for config in bad {
        assert!(
            matches!(Adam::<Dev>::new(config), Err(Error::InvalidArgument(_))),
            "{config:?}"
        );
    }
}

#[test]
fn non_finite_gradients_and_changed_models_are_errors() {
    let dev = default_device(0);
    let mut p = param(&dev, &[1.0, 2.0]);
    let mut adam = Adam::new(AdamConfig::with_lr(0.1)).unwrap();
    let err = adam.step_with(&mut p, &[param(&dev, &[f32::NAN, 0.0])]);
    assert!(matches!(err, Err(Error::NonFinite(_))));
    assert_eq!(p.as_vec(), vec![1.0, 2.0]);
    assert!(matches!(
        adam.step_with(&mut p, &[param(&dev, &[1.0])]),
        Err(Error::Shape { .. })
    ));
    adam.step_with(&mut p, &[param(&dev, &[1.0, 1.0])]).unwrap();
    let mut other = param(&dev, &[1.0, 2.0, 3.0]);
    let err = adam.step_with(&mut other, &[param(&dev, &[1.0, 1.0, 1.0])]);
    assert!(matches!(err, Err(Error::Shape { .. })));
    adam.reset();
    assert!(adam
        .step_with(&mut other, &[param(&dev, &[1.0, 1.0, 1.0])])
        .is_ok());
}

#[test]
fn minimises_a_quadratic_in_a_matrix_parameter() {
    let dev = default_device(7);
    let target: Param<Dev> = dev.sample_like(&(3, 4), rand_distr::StandardNormal);
    let mut p: Param<Dev> = dev.zeros_like(&(3, 4));
    let schedule = LrSchedule::warmup_cosine(0.1, 1e-3, 10, 400);
    let mut adam = Adam::new(AdamConfig::with_lr(0.0).schedule(schedule)).unwrap();
    for _ in 0..400 {
        let loss = (p.retaped::<Taped<Dev>>() - target.clone())
            .square()
            .sum::<Rank0, _>();
        let mut grads = loss.backward();
        adam.step(&mut p, &mut grads).unwrap();
    }
    for (a, b) in p.as_vec().iter().zip(target.as_vec()) {
        assert!((a - b).abs() < 1e-2, "{a} vs {b}");
    }
}

#[test]
fn fits_a_small_regression() {
    let dev = default_device(1);
    let mut mlp = Mlp::builder(1)
        .hidden(&[32, 32])
        .output(1)
        .activation(Activation::Tanh)
        .build(&dev)
        .unwrap();
    let xs: Vec<f32> = (0..128).map(|i| -1.0 + 2.0 * i as f32 / 127.0).collect();
    let ys: Vec<f32> = xs.iter().map(|x| (3.0 * x).sin() + 0.5 * x * x).collect();
    let var = {
        let mean = ys.iter().sum::<f32>() / ys.len() as f32;
        ys.iter().map(|y| (y - mean).powi(2)).sum::<f32>() / ys.len() as f32
    };
    let x = dev.tensor_from_vec(xs, (128, 1));
    let y = dev.tensor_from_vec(ys, (128, 1));
    let mut adam = Adam::new(AdamConfig::with_lr(1e-2).clip_grad_norm(10.0)).unwrap();
    let mut mse = f32::INFINITY;
    for step in 0..600 {
        let loss = (mlp.forward(traced(&x)).unwrap() - y.clone())
            .square()
            .mean::<Rank0, _>();
        mse = loss.array();
        check_loss(step, mse).unwrap();
        let mut grads = loss.backward();
        adam.step(&mut mlp, &mut grads).unwrap();
    }
    assert!(
        mse < 1e-3 * var.max(1.0),
        "final mse {mse}, target variance {var}"
    );
    assert!(mlp.num_params() > 0);
}
