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
