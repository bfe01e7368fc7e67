//! The host snapshot of an Mlp gives the same values and input gradients as the taped dfdx pass.

use lagrangian_ot::nn::{array_to_tensor, tensor_to_array, Activation, HostMlp, Mlp};
use lagrangian_ot::prelude::*;

#[test]
fn host_snapshot_matches_the_dfdx_pass_for_every_activation() {
    let dev = default_device(3);
    let mut r: SeededRng = rng(4);
    let x = toy::gaussian(&mut r, 37, &[0.3, -0.2, 0.5], 1.5).unwrap();
    for activation in [
        Activation::ReLU,
        Activation::LeakyReLU(0.01),
        Activation::SiLU,
        Activation::Tanh,
        Activation::Softplus,
        Activation::Identity,
    ] {
        let mlp = Mlp::builder(3)
            .hidden(&[16, 8])
            .output(1)
            .activation(activation)
            .build(&dev)
            .unwrap();
        let host = HostMlp::snapshot(&mlp);
        let x_t = array_to_tensor(&dev, &x, "x").unwrap();
        let value = tensor_to_array(&mlp.forward(x_t.clone()).unwrap());
        let grad = tensor_to_array(&mlp.input_gradient(x_t).unwrap());
        let (host_value, host_grad) = host.value_and_gradient(&x).unwrap();
        let value_err = (&value.column(0) - &host_value)
            .mapv(f32::abs)
            .fold(0.0f32, |a, &b| a.max(b));
        let grad_err = (&grad - &host_grad).mapv(f32::abs).fold(0.0f32, |a, &b| a.max(b));
        assert!(
            value_err < 1e-5 && grad_err < 1e-5,
            "{activation:?}: value {value_err}, grad {grad_err}"
        );
        assert_eq!(host.forward(&x).unwrap().column(0), host_value);
    }
}

#[test]
fn host_snapshot_rejects_bad_shapes() {
    let dev = default_device(0);
    let mlp = Mlp::builder(2).hidden(&[4]).output(2).build(&dev).unwrap();
    let host = HostMlp::snapshot(&mlp);
    assert!(matches!(
        host.forward(&ndarray::Array2::zeros((3, 5))),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        host.value_and_gradient(&ndarray::Array2::zeros((3, 2))),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        host.forward(&ndarray::Array2::zeros((0, 2))),
        Err(Error::Empty(_))
    ));
}

/// The host copy of a FiLM network gives the taped pass's values, and its pull-back gives the input
/// gradient a backward pass returns, for one-hot (repeated) and continuous (distinct) condition rows
/// and for the plain network.
#[test]
fn host_film_snapshot_matches_the_dfdx_pass() {
    use dfdx::prelude::{Backward, Rank0, SumTo};
    use lagrangian_ot::nn::{traced, FilmMlp, HostFilmMlp};
    let dev = default_device(7);
    let mut r: SeededRng = rng(8);
    let rows = 41;
    let x = toy::gaussian(&mut r, rows, &[0.2, -0.1], 1.0).unwrap();
    let weights = toy::gaussian(&mut r, rows, &[0.0, 0.0, 0.0], 1.0).unwrap();
    let one_hot = ndarray::Array2::from_shape_fn((rows, 3), |(i, c)| if i % 3 == c { 1.0 } else { 0.0 });
    let continuous = toy::gaussian(&mut r, rows, &[0.0, 0.5], 1.0).unwrap();
    for cond in [Some(one_hot), Some(continuous), None] {
        let width = cond.as_ref().map_or(0, |c| c.ncols());
        let net = FilmMlp::builder(2, width)
            .hidden(&[16, 16])
            .output(3)
            .activation(Activation::LeakyReLU(0.2))
            .cond_hidden(&[8])
            .build_conditional(&dev)
            .unwrap();
        let host = HostFilmMlp::snapshot(&net);
        let x_t = array_to_tensor(&dev, &x, "x").unwrap();
        let c_t = cond.as_ref().map(|c| array_to_tensor(&dev, c, "c").unwrap());
        let out = net.forward(traced(&x_t), c_t.as_ref()).unwrap();
        let taped_value = tensor_to_array(&out);
        let w_t = array_to_tensor(&dev, &weights, "w").unwrap();
        let taped_grad = tensor_to_array(&(out * w_t).sum::<Rank0, _>().backward().get(&x_t));
        let (host_value, trace) = host.forward_traced(&x, cond.as_ref()).unwrap();
        let host_grad = host.pull_back(&trace, &weights).unwrap();
        let max_diff = |a: &ndarray::Array2<f32>, b: &ndarray::Array2<f32>| {
            (a - b).mapv(f32::abs).fold(0.0f32, |m, &v| m.max(v))
        };
        assert!(max_diff(&host_value, &taped_value) < 1e-5, "width {width}: value");
        assert!(
            max_diff(&host_grad, &taped_grad) < 1e-5,
            "width {width}: gradient"
        );
        assert_eq!(host.forward(&x, cond.as_ref()).unwrap(), host_value);
        if width > 0 {
            assert!(
                host.forward(&x, None).is_err(),
                "a conditional net needs its condition"
            );
        }
    }
}

#[test]
fn blas_forward_matches_the_dfdx_pass_and_rows_do_not_interact() {
    // 1024-wide layers as in the reference's spline amortiser, where the summation order differs most;
    // 600 rows, so that OpenBLAS splits them between threads.
    let dev = default_device(5);
    let mut r: SeededRng = rng(6);
    let x = toy::gaussian(&mut r, 600, &[0.3, -0.2, 0.5, 0.1], 1.5).unwrap();
    let mlp = Mlp::builder(4)
        .hidden(&[1024, 1024])
        .output(56)
        .activation(Activation::ReLU)
        .build(&dev)
        .unwrap();
    let reference = mlp.forward_array(&x).unwrap();
    let blas = HostMlp::snapshot(&mlp).with_blas().forward(&x).unwrap();
    let scale = reference.mapv(f32::abs).fold(0.0f32, |a, &b| a.max(b));
    let err = (&reference - &blas).mapv(f32::abs).fold(0.0f32, |a, &b| a.max(b));
    assert!(scale > 0.1, "a degenerate network: outputs up to {scale}");
    assert!(
        err < 1e-5 * scale.max(1.0),
        "max |dfdx − blas| = {err} on outputs up to {scale}"
    );
    // Rows do not interact: any block of rows gives the same values as inside the whole batch.
    let part = x.slice(ndarray::s![250..300, ..]).to_owned();
    let alone = HostMlp::snapshot(&mlp).with_blas().forward(&part).unwrap();
    assert_eq!(alone, blas.slice(ndarray::s![250..300, ..]));
}

#[test]
fn blas_affine_checks_shapes() {
    use lagrangian_ot::nn::blas::affine;
    let a = ndarray::Array2::<f32>::ones((3, 4));
    let w = ndarray::Array2::<f32>::ones((5, 2));
    let bias = ndarray::Array1::<f32>::zeros(2);
    assert!(matches!(
        affine(a.view(), w.view(), bias.view()),
        Err(Error::Shape { .. })
    ));
    // Transposed (non-standard) views are accepted and equal ndarray's product.
    let w = ndarray::Array2::from_shape_fn((2, 4), |(i, j)| (i * 4 + j) as f32 * 0.5);
    let out = affine(a.view(), w.t(), bias.view()).unwrap();
    assert_eq!(out, a.dot(&w.t()));
}
