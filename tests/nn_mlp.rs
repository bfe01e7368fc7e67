//! Runtime-shaped MLP: construction, forward values against a host computation, input checks,
//! initialisation statistics, and the parameter/gradient bookkeeping of `Trainable`.

use dfdx::prelude::*;
use lagrangian_ot::device::default_device;
use lagrangian_ot::nn::{check_loss, tensor_to_array, traced, Activation, Init, Mlp, Trainable};
use lagrangian_ot::Error;
use ndarray::{array, Array2, ShapeBuilder};

fn host_activation(a: Activation, z: f32) -> f32 {
    match a {
        Activation::ReLU => z.max(0.0),
        Activation::LeakyReLU(s) => {
            if z > 0.0 {
                z
            } else {
                s * z
            }
        }
        Activation::SiLU => z / (1.0 + (-z).exp()),
        Activation::Tanh => z.tanh(),
        Activation::Softplus => (1.0 + z.exp()).ln(),
        Activation::Identity => z,
    }
}

/// The network evaluated with ndarray from its own weights.
fn host_forward(mlp: &Mlp, x: &Array2<f32>) -> Array2<f32> {
    let layers = mlp.layers();
    let mut h = x.clone();
    for (i, layer) in layers.iter().enumerate() {
        let w = tensor_to_array(layer.weight());
        let b = tensor_to_array(layer.bias());
        h = h.dot(&w) + &b;
        if i + 1 < layers.len() {
            h.mapv_inplace(|z| host_activation(mlp.activation(), z));
        }
    }
    h
}

#[test]
fn forward_matches_host_computation_for_every_activation() {
    let dev = default_device(3);
    let x = array![
        [0.3_f32, -1.2, 0.7],
        [2.0, 0.1, -0.4],
        [-0.9, 0.0, 1.5],
        [0.05, -0.6, -2.2]
    ];
    for activation in [
        Activation::ReLU,
        Activation::LeakyReLU(0.1),
        Activation::SiLU,
        Activation::Tanh,
        Activation::Softplus,
        Activation::Identity,
    ] {
        let mlp = Mlp::builder(3)
            .hidden(&[7, 5])
            .output(2)
            .activation(activation)
            .init(Init::PyTorch)
            .build(&dev)
            .unwrap();
        let got = mlp.forward_array(&x).unwrap();
        let want = host_forward(&mlp, &x);
        for (g, w) in got.iter().zip(want.iter()) {
            assert!((g - w).abs() < 1e-5, "{activation:?}: {g} vs {w}");
        }
        // The tensor path and the traced path give the same numbers as the array path.
        let xt = dev.tensor_from_vec(x.iter().copied().collect(), (4, 3));
        let plain = tensor_to_array(&mlp.forward(xt.clone()).unwrap());
        let taped = tensor_to_array(&mlp.forward(traced(&xt)).unwrap());
        assert_eq!(plain, got);
        assert_eq!(taped, got);
    }
}

#[test]
fn softplus_is_stable_for_large_inputs() {
    let dev = default_device(0);
    let z = dev.tensor_from_vec(vec![-200.0_f32, -30.0, 0.0, 30.0, 200.0], (5,));
    let y = Activation::Softplus.apply(z).as_vec();
    let want = [0.0_f32, (-30.0_f32).exp(), 2f32.ln(), 30.0, 200.0];
    for (g, w) in y.iter().zip(want) {
        assert!((g - w).abs() <= 1e-6 * w.abs().max(1.0), "{g} vs {w}");
    }
}

#[test]
fn builder_reports_widths_and_parameter_count() {
    let dev = default_device(0);
    let mlp = Mlp::builder(4).hidden(&[16, 8]).output(3).build(&dev).unwrap();
    assert_eq!(mlp.widths(), vec![4, 16, 8, 3]);
    assert_eq!((mlp.in_dim(), mlp.out_dim()), (4, 3));
    assert_eq!(mlp.num_params(), 4 * 16 + 16 + 16 * 8 + 8 + 8 * 3 + 3);
    assert_eq!(mlp.params().len(), 6);
    let shapes: Vec<_> = mlp.params().iter().map(|p| *p.shape()).collect();
    assert_eq!(shapes, vec![(4, 16), (1, 16), (16, 8), (1, 8), (8, 3), (1, 3)]);
}

#[test]
fn zero_widths_are_rejected() {
    let dev = default_device(0);
    for spec in [
        Mlp::builder(0).hidden(&[4]),
        Mlp::builder(2).hidden(&[4, 0]),
        Mlp::builder(2).hidden(&[4]).output(0),
    ] {
        assert!(
            matches!(spec.build(&dev), Err(Error::InvalidArgument(_))),
            "{spec:?}"
        );
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    let dev = default_device(0);
    let mlp = Mlp::builder(2).hidden(&[4]).build(&dev).unwrap();
    assert!(matches!(
        mlp.forward_array(&Array2::zeros((3, 5))),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        mlp.forward_array(&Array2::zeros((0, 2))),
        Err(Error::Empty(_))
    ));
    let mut nan = Array2::zeros((3, 2));
    nan[[1, 1]] = f32::NAN;
    assert!(matches!(mlp.forward_array(&nan), Err(Error::NonFinite(_))));
    let wrong = dev.tensor_from_vec(vec![0.0_f32; 9], (3, 3));
    assert!(matches!(mlp.forward(wrong), Err(Error::Shape { .. })));
}

#[test]
fn forward_array_accepts_any_memory_layout() {
    let dev = default_device(1);
    let mlp = Mlp::builder(3).hidden(&[5]).output(2).build(&dev).unwrap();
    let x = array![[0.1_f32, 0.2, 0.3], [-1.0, 0.5, 2.0]];
    let column_major = Array2::from_shape_vec((2, 3).f(), vec![0.1_f32, -1.0, 0.2, 0.5, 0.3, 2.0]).unwrap();
    assert_eq!(column_major, x);
    assert!(!column_major.is_standard_layout());
    assert_eq!(
        mlp.forward_array(&column_major).unwrap(),
        mlp.forward_array(&x).unwrap()
    );
}

fn stats(values: &[f32]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

#[test]
fn initialisations_follow_their_definitions() {
    let dev = default_device(11);
    let fan_in = 256;
    let bound = 1.0 / (fan_in as f32).sqrt();

    let lecun = Mlp::builder(fan_in)
        .output(256)
        .init(Init::LecunNormal)
        .build(&dev)
        .unwrap();
    let (mean, std) = stats(&lecun.layers()[0].weight().as_vec());
    assert!(mean.abs() < 2e-3, "mean {mean}");
    assert!((std / bound as f64 - 1.0).abs() < 0.03, "std {std} vs {bound}");
    assert!(lecun.layers()[0]
        .weight()
        .as_vec()
        .iter()
        .all(|w| w.abs() <= 2.0 * bound / 0.8796 + 1e-6));
    assert!(lecun.layers()[0].bias().as_vec().iter().all(|&b| b == 0.0));

    let torch = Mlp::builder(fan_in)
        .output(256)
        .init(Init::PyTorch)
        .build(&dev)
        .unwrap();
    let w = torch.layers()[0].weight().as_vec();
    assert!(w.iter().all(|v| v.abs() <= bound));
    let (_, std) = stats(&w);
    // Uniform on ±bound has standard deviation bound / √3.
    assert!(
        (std / (bound as f64 / 3f64.sqrt()) - 1.0).abs() < 0.03,
        "std {std}"
    );
    let b = torch.layers()[0].bias().as_vec();
    assert!(b.iter().all(|v| v.abs() <= bound) && b.iter().any(|&v| v != 0.0));

    let zeros = Mlp::builder(3)
        .hidden(&[4])
        .init(Init::Zeros)
        .build(&dev)
        .unwrap();
    assert!(zeros
        .params()
        .iter()
        .all(|p| p.as_vec().iter().all(|&v| v == 0.0)));
}

#[test]
fn construction_is_deterministic_given_the_device_seed() {
    let spec = Mlp::builder(2).hidden(&[8, 8]);
    let a = spec.build(&default_device(5)).unwrap();
    let b = spec.build(&default_device(5)).unwrap();
    let c = spec.build(&default_device(6)).unwrap();
    let flat = |m: &Mlp| m.params().iter().flat_map(|p| p.as_vec()).collect::<Vec<f32>>();
    assert_eq!(flat(&a), flat(&b));
    assert_ne!(flat(&a), flat(&c));
}

#[test]
fn gradients_follow_parameter_order_and_are_zero_for_unused_parameters() {
    let dev = default_device(2);
    let pair = (
        Mlp::builder(2)
            .hidden(&[4])
            .init(Init::PyTorch)
            .build(&dev)
            .unwrap(),
        Mlp::builder(2)
            .hidden(&[3])
            .init(Init::PyTorch)
            .build(&dev)
            .unwrap(),
    );
    let x = dev.tensor_from_vec(vec![0.5_f32, -0.25, 1.0, 2.0], (2, 2));
    // Only the first network enters the loss, a plain sum: d loss / d b_out = number of rows.
    let loss = pair.0.forward(traced(&x)).unwrap().sum::<Rank0, _>();
    let mut grads = loss.backward();
    let g = pair.gradients(&mut grads).unwrap();
    assert_eq!(g.len(), pair.params().len());
    for (gi, p) in g.iter().zip(pair.params()) {
        assert_eq!(gi.shape(), p.shape());
    }
    assert_eq!(g[3].as_vec(), vec![2.0]);
    // The output weight's gradient is the column sum of the hidden activations.
    let hidden = pair.0.layers()[0].forward(x.clone()).unwrap();
    let h = Activation::Softplus.apply(hidden).as_vec();
    let column_sums: Vec<f32> = (0..4).map(|j| h[j] + h[4 + j]).collect();
    for (a, b) in g[2].as_vec().iter().zip(column_sums) {
        assert!((a - b).abs() < 1e-5);
    }
    assert!(g[4..].iter().all(|t| t.as_vec().iter().all(|&v| v == 0.0)));
}

#[test]
fn check_loss_flags_non_finite_losses() {
    assert!(check_loss(0, 1.5_f32).is_ok());
    assert!(check_loss(0, -1e30_f64).is_ok());
    match check_loss(7, f32::NAN) {
        Err(Error::Diverged { step, loss }) => assert!(step == 7 && loss.is_nan()),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        check_loss(8, f64::INFINITY),
        Err(Error::Diverged { step: 8, .. })
    ));
}
