//! FiLM conditioning, categorical embeddings and Fourier features: values against their
//! definitions, gradients against closed forms or finite differences, and input validation.

use dfdx::prelude::*;
use lagrangian_ot::device::default_device;
use lagrangian_ot::nn::{
    tensor_to_array, traced, Activation, Embedding, Film, FilmMlp, FourierFeatures, Init, NoneTape, Taped,
    Trainable,
};
use lagrangian_ot::Error;
use ndarray::{s, Array2};

type Dev = Cpu;

fn tensor(
    dev: &Dev,
    rows: usize,
    cols: usize,
    f: impl Fn(usize, usize) -> f32,
) -> Tensor<(usize, usize), f32, Dev> {
    let data = (0..rows * cols).map(|k| f(k / cols, k % cols)).collect();
    dev.tensor_from_vec(data, (rows, cols))
}

#[test]
fn film_applies_gamma_times_h_plus_beta() {
    let dev = default_device(2);
    let film = Film::new(&dev, 2, 3, &[5], Activation::Tanh, Init::PyTorch).unwrap();
    let h = tensor(&dev, 4, 3, |r, c| (r as f32 - 1.5) * 0.7 + c as f32 * 0.3);
    let cond = tensor(&dev, 4, 2, |r, c| ((r * 2 + c) as f32).cos());
    let out = tensor_to_array(&film.forward(h.clone(), &cond).unwrap());

    let raw = tensor_to_array(&film.condition_net().forward(cond.clone()).unwrap());
    let gamma = raw.slice(s![.., 0..3]).mapv(|v| 1.0 + v);
    let beta = raw.slice(s![.., 3..6]).to_owned();
    let want = &tensor_to_array(&h) * &gamma + &beta;
    for (a, b) in out.iter().zip(want.iter()) {
        assert!((a - b).abs() < 1e-6);
    }
    // The condition really modulates: another condition gives another output.
    let other = tensor(&dev, 4, 2, |_, _| 3.0);
    assert_ne!(tensor_to_array(&film.forward(h, &other).unwrap()), out);
}

#[test]
fn film_mlp_composes_trunk_and_film_layers() {
    let dev = default_device(3);
    let net = FilmMlp::builder(2, 1)
        .hidden(&[6, 4])
        .output(1)
        .activation(Activation::SiLU)
        .cond_hidden(&[3])
        .init(Init::PyTorch)
        .build(&dev)
        .unwrap();
    assert_eq!((net.in_dim(), net.out_dim(), net.cond_dim()), (2, 1, Some(1)));
    assert_eq!(net.films().len(), 2);
    assert_eq!(net.films()[1].features(), 4);
    let trunk_params = net.trunk().num_params();
    let film_params: usize = net.films().iter().map(|f| f.num_params()).sum();
    assert_eq!(net.num_params(), trunk_params + film_params);
    // Each condition net maps 1 -> 3 -> 2·features.
    let condition_net = |features: usize| (3 + 3) + (3 * 2 * features + 2 * features);
    assert_eq!(film_params, condition_net(6) + condition_net(4));

    let x = tensor(&dev, 5, 2, |r, c| 0.4 * r as f32 - 0.8 * c as f32);
    let cond = tensor(&dev, 5, 1, |r, _| r as f32 / 4.0);
    let got = tensor_to_array(&net.forward(x.clone(), &cond).unwrap());
    let layers = net.trunk().layers();
    let mut h = x;
    for (layer, film) in layers.iter().zip(net.films()) {
        h = Activation::SiLU.apply(film.forward(layer.forward(h).unwrap(), &cond).unwrap());
    }
    let want = tensor_to_array(&layers[2].forward(h).unwrap());
    for (a, b) in got.iter().zip(want.iter()) {
        assert!((a - b).abs() < 1e-6);
    }
}

#[test]
fn film_mlp_gradients_reach_the_condition_nets() {
    let dev = default_device(4);
    let mut net = FilmMlp::builder(2, 2)
        .hidden(&[5])
        .activation(Activation::Tanh)
        .init(Init::PyTorch)
        .build(&dev)
        .unwrap();
    let x = tensor(&dev, 3, 2, |r, c| (r + 2 * c) as f32 * 0.3 - 0.5);
    let cond = tensor(&dev, 3, 2, |r, c| (r as f32 - c as f32) * 0.5);
    let loss_of = |net: &FilmMlp| {
        net.forward(x.clone(), &cond)
            .unwrap()
            .square()
            .sum::<Rank0, _>()
            .array()
    };

    let loss = net.forward(traced(&x), &cond).unwrap().square().sum::<Rank0, _>();
    let mut grads = loss.backward();
    let autodiff = net.gradients(&mut grads).unwrap();
    // Parameters 4.. belong to the FiLM condition net ([2, 10] weight, [1, 10] bias).
    for (param, index) in [(4, 3), (4, 17), (5, 2), (5, 8), (0, 5), (2, 1)] {
        let h = 1e-2_f32;
        let mut shifted = |delta: f32| {
            let mut values = net.params()[param].as_vec();
            let original = values.clone();
            values[index] += delta;
            net.params_mut()[param].copy_from(&values);
            let l = loss_of(&net);
            net.params_mut()[param].copy_from(&original);
            l
        };
        let fd = (shifted(h) - shifted(-h)) / (2.0 * h);
        let got = autodiff[param].as_vec()[index];
        assert!(
            (got - fd).abs() < 2e-3 + 1e-2 * fd.abs(),
            "param {param}[{index}]: {got} vs {fd}"
        );
    }
}

#[test]
fn film_inputs_are_checked() {
    let dev = default_device(0);
    let film = Film::new(&dev, 2, 3, &[], Activation::Tanh, Init::LecunNormal).unwrap();
    let h = tensor(&dev, 4, 3, |_, _| 1.0);
    assert!(matches!(
        film.forward(h.clone(), &tensor(&dev, 4, 1, |_, _| 0.0)),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        film.forward(h, &tensor(&dev, 3, 2, |_, _| 0.0)),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        film.forward(tensor(&dev, 4, 2, |_, _| 1.0), &tensor(&dev, 4, 2, |_, _| 0.0)),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        Film::new(&dev, 0, 3, &[], Activation::Tanh, Init::LecunNormal),
        Err(Error::InvalidArgument(_))
    ));
    let net = FilmMlp::builder(2, 3).hidden(&[4]).build(&dev).unwrap();
    assert!(matches!(
        net.forward(tensor(&dev, 2, 2, |_, _| 0.0), &tensor(&dev, 2, 2, |_, _| 0.0)),
        Err(Error::Shape { .. })
    ));
}

#[test]
fn embedding_looks_up_rows_and_accumulates_gradients_per_label() {
    let dev = default_device(5);
    let mut emb = Embedding::new(&dev, 4, 3).unwrap();
    assert_eq!((emb.num_categories(), emb.dim(), emb.num_params()), (4, 3, 12));
    let table = tensor_to_array(emb.table());
    let labels = [2, 0, 2, 3, 2];
    let rows = tensor_to_array(&emb.forward::<NoneTape>(&labels).unwrap());
    for (i, &l) in labels.iter().enumerate() {
        assert_eq!(rows.row(i), table.row(l));
    }
    // d/dE Σ (looked-up entries) = how often each label occurs, in every column.
    let loss = emb.forward::<Taped<Dev>>(&labels).unwrap().sum::<Rank0, _>();
    let mut grads = loss.backward();
    let g = tensor_to_array(&emb.gradients(&mut grads).unwrap()[0]);
    let counts = [1.0_f32, 0.0, 3.0, 1.0];
    assert_eq!(g, Array2::from_shape_fn((4, 3), |(r, _)| counts[r]));

    assert!(matches!(
        emb.forward::<NoneTape>(&[1, 4]),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(emb.forward::<NoneTape>(&[]), Err(Error::Empty(_))));
    assert!(matches!(
        Embedding::new(&dev, 0, 3),
        Err(Error::InvalidArgument(_))
    ));
    emb.params_mut()[0].fill_with_zeros();
    assert!(emb.table().as_vec().iter().all(|&v| v == 0.0));
}

#[test]
fn embedding_init_has_variance_one_over_dim() {
    let dev = default_device(8);
    let emb = Embedding::new(&dev, 500, 64).unwrap();
    let values = emb.table().as_vec();
    let var = values.iter().map(|v| v * v).sum::<f32>() / values.len() as f32;
    assert!((var * 64.0 - 1.0).abs() < 0.03, "variance {var}");
}

#[test]
fn fourier_features_match_the_formula_and_its_derivative() {
    let dev = default_device(0);
    let omegas = [1.0_f32, 2.5, 7.0];
    let ff = FourierFeatures::new(&dev, &omegas, true).unwrap();
    assert_eq!(ff.out_dim(2), 2 * 7);
    let x = tensor(&dev, 3, 2, |r, c| 0.3 * r as f32 - 0.45 * c as f32 + 0.1);
    let xs = tensor_to_array(&x);
    let features = tensor_to_array(&ff.forward(x.clone()).unwrap());
    assert_eq!(features.dim(), (3, 14));
    for r in 0..3 {
        for i in 0..2 {
            let xi = xs[[r, i]];
            assert_eq!(features[[r, i]], xi);
            for (k, w) in omegas.iter().enumerate() {
                assert!((features[[r, 2 + i * 3 + k]] - (w * xi).sin()).abs() < 1e-6);
                assert!((features[[r, 8 + i * 3 + k]] - (w * xi).cos()).abs() < 1e-6);
            }
        }
    }
    // d/dx_i of the feature sum = 1 + Σ_k ω_k (cos ω_k x_i − sin ω_k x_i).
    let loss = ff.forward(x.leaky_trace()).unwrap().sum::<Rank0, _>();
    let grads = loss.backward();
    let g = tensor_to_array(&grads.get(&x));
    for ((r, i), got) in g.indexed_iter() {
        let xi = xs[[r, i]];
        let want = 1.0
            + omegas
                .iter()
                .map(|w| w * ((w * xi).cos() - (w * xi).sin()))
                .sum::<f32>();
        assert!((got - want).abs() < 1e-4, "{got} vs {want}");
    }

    let plain = FourierFeatures::dyadic(&dev, 4, false).unwrap();
    assert_eq!(plain.num_frequencies(), 4);
    let y = tensor_to_array(&plain.forward(tensor(&dev, 1, 1, |_, _| 0.125)).unwrap());
    let expected: Vec<f32> = (0..4)
        .map(|k| (std::f32::consts::PI * 2f32.powi(k) * 0.125).sin())
        .chain((0..4).map(|k| (std::f32::consts::PI * 2f32.powi(k) * 0.125).cos()))
        .collect();
    for (a, b) in y.iter().zip(expected) {
        assert!((a - b).abs() < 1e-6);
    }
    assert!(matches!(
        FourierFeatures::<Dev>::new(&dev, &[], true),
        Err(Error::Empty(_))
    ));
    assert!(matches!(
        FourierFeatures::<Dev>::new(&dev, &[f32::NAN], true),
        Err(Error::NonFinite(_))
    ));
}
