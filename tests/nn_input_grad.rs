//! The explicit input-gradient pass against an independent float64 oracle: the network is
//! re-evaluated on the host in f64 from its own weights, `∇ₓ f` by central differences, and the
//! weight gradient of `P = Σ |∇ₓ f|²` by central differences of that.

use dfdx::prelude::*;
use lagrangian_ot::device::default_device;
use lagrangian_ot::nn::{tensor_to_array, traced, Activation, Init, Mlp, Trainable};
use lagrangian_ot::Error;

/// The network's weights copied to f64: (W [in][out], b [out]) per layer.
struct HostMlp {
    layers: Vec<(Vec<Vec<f64>>, Vec<f64>)>,
    activation: Activation,
}

impl HostMlp {
    fn from(mlp: &Mlp) -> Self {
        let layers = mlp
            .layers()
            .iter()
            .map(|l| {
                let w = tensor_to_array(l.weight());
                let rows = w
                    .rows()
                    .into_iter()
                    .map(|r| r.iter().map(|&v| v as f64).collect())
                    .collect();
                (rows, l.bias().as_vec().iter().map(|&v| v as f64).collect())
            })
            .collect();
        HostMlp {
            layers,
            activation: mlp.activation(),
        }
    }

    fn sigma(&self, z: f64) -> f64 {
        match self.activation {
            Activation::Tanh => z.tanh(),
            Activation::Softplus => (1.0 + z.exp()).ln(),
            Activation::SiLU => z / (1.0 + (-z).exp()),
            Activation::ReLU => z.max(0.0),
            Activation::LeakyReLU(s) => {
                if z > 0.0 {
                    z
                } else {
                    s as f64 * z
                }
            }
            Activation::Identity => z,
        }
    }

    fn forward(&self, x: &[f64]) -> Vec<f64> {
        let mut h = x.to_vec();
        for (i, (w, b)) in self.layers.iter().enumerate() {
            let mut z = b.clone();
            for (hi, row) in h.iter().zip(w) {
                for (zj, wij) in z.iter_mut().zip(row) {
                    *zj += hi * wij;
                }
            }
            if i + 1 < self.layers.len() {
                z.iter_mut().for_each(|v| *v = self.sigma(*v));
            }
            h = z;
        }
        h
    }

    /// `∂f_j/∂x_i` by central differences, `[out][in]`.
    fn jacobian(&self, x: &[f64]) -> Vec<Vec<f64>> {
        let h = 1e-5;
        let columns: Vec<Vec<f64>> = (0..x.len())
            .map(|i| {
                let (mut up, mut down) = (x.to_vec(), x.to_vec());
                up[i] += h;
                down[i] -= h;
                let (fu, fd) = (self.forward(&up), self.forward(&down));
                fu.iter().zip(fd).map(|(a, b)| (a - b) / (2.0 * h)).collect()
            })
            .collect();
        (0..columns[0].len())
            .map(|j| columns.iter().map(|c| c[j]).collect())
            .collect()
    }

    /// `P = Σ_rows |∇ₓ f|²` (scalar output).
    fn penalty(&self, xs: &[Vec<f64>]) -> f64 {
        xs.iter()
            .map(|x| self.jacobian(x)[0].iter().map(|g| g * g).sum::<f64>())
            .sum()
    }
}

const ROWS: usize = 5;
const IN: usize = 3;

fn inputs() -> Vec<Vec<f64>> {
    (0..ROWS)
        .map(|r| {
            (0..IN)
                .map(|c| ((r * IN + c) as f64 * 0.37).sin() * 1.3)
                .collect()
        })
        .collect()
}

fn input_tensor(dev: &Cpu) -> Tensor<(usize, usize), f32, Cpu> {
    let flat: Vec<f32> = inputs().iter().flatten().map(|&v| v as f32).collect();
    dev.tensor_from_vec(flat, (ROWS, IN))
}

fn network(activation: Activation, outputs: usize, seed: u64) -> Mlp {
    Mlp::builder(IN)
        .hidden(&[6, 5])
        .output(outputs)
        .activation(activation)
        .init(Init::PyTorch)
        .build(&default_device(seed))
        .unwrap()
}

fn close(got: f64, want: f64, rel: f64, abs: f64) -> bool {
    (got - want).abs() <= abs + rel * want.abs()
}

#[test]
fn input_gradient_equals_finite_differences() {
    let dev = default_device(0);
    for activation in [
        Activation::Tanh,
        Activation::Softplus,
        Activation::SiLU,
        Activation::LeakyReLU(0.2),
    ] {
        let mlp = network(activation, 1, 1);
        let host = HostMlp::from(&mlp);
        let grad = tensor_to_array(&mlp.input_gradient(input_tensor(&dev)).unwrap());
        assert_eq!(grad.dim(), (ROWS, IN));
        for (r, x) in inputs().iter().enumerate() {
            let want = &host.jacobian(x)[0];
            for i in 0..IN {
                let got = grad[[r, i]] as f64;
                assert!(
                    close(got, want[i], 1e-4, 1e-5),
                    "{activation:?} row {r} dim {i}: {got} vs {}",
                    want[i]
                );
            }
        }
    }
}

#[test]
fn input_jacobian_of_a_vector_output_equals_finite_differences() {
    let dev = default_device(0);
    let mlp = network(Activation::SiLU, 2, 4);
    let host = HostMlp::from(&mlp);
    let jac = mlp.input_jacobian(input_tensor(&dev)).unwrap();
    assert_eq!(*jac.shape(), (ROWS, 2, IN));
    let values = jac.as_vec();
    for (r, x) in inputs().iter().enumerate() {
        let want = host.jacobian(x);
        for j in 0..2 {
            for i in 0..IN {
                let got = values[(r * 2 + j) * IN + i] as f64;
                assert!(
                    close(got, want[j][i], 1e-4, 1e-5),
                    "row {r} out {j} dim {i}: {got} vs {}",
                    want[j][i]
                );
            }
        }
    }
    assert!(matches!(
        mlp.input_gradient(input_tensor(&dev)),
        Err(Error::Shape { .. })
    ));
}

#[test]
fn input_gradient_without_hidden_layers_is_the_weight_row() {
    let dev = default_device(0);
    let mlp = Mlp::builder(IN)
        .output(1)
        .init(Init::PyTorch)
        .build(&dev)
        .unwrap();
    let grad = tensor_to_array(&mlp.input_gradient(input_tensor(&dev)).unwrap());
    let w = mlp.layers()[0].weight().as_vec();
    for row in grad.rows() {
        assert_eq!(row.to_vec(), w);
    }
    // P = N |w|², so dP/dW = 2 N w, and the tape reaches W through the broadcast alone.
    let penalty = mlp
        .input_gradient(traced(&input_tensor(&dev)))
        .unwrap()
        .square()
        .sum::<Rank0, _>();
    let mut grads = penalty.backward();
    let g = mlp.gradients(&mut grads).unwrap();
    for (gi, wi) in g[0].as_vec().iter().zip(&w) {
        assert!((gi - 2.0 * ROWS as f32 * wi).abs() < 1e-5);
    }
    assert!(g[1].as_vec().iter().all(|&v| v == 0.0));
}

/// The weight gradient of `P = Σ |∇ₓ f|²` through the traced input-gradient pass, for several
/// weights in every layer, against central differences of the f64 oracle.
#[test]
fn weight_gradient_of_the_gradient_penalty_equals_finite_differences() {
    let dev = default_device(0);
    // (parameter index, row, column): W1, b1, W2, b2, W3 and b3 all appear.
    let probes = [
        (0, 0, 1),
        (0, 2, 4),
        (1, 0, 3),
        (2, 3, 1),
        (3, 0, 0),
        (4, 2, 0),
        (4, 4, 0),
        (5, 0, 0),
    ];
    for activation in [Activation::Tanh, Activation::Softplus, Activation::SiLU] {
        let mlp = network(activation, 1, 2);
        let penalty = mlp
            .input_gradient(traced(&input_tensor(&dev)))
            .unwrap()
            .square()
            .sum::<Rank0, _>();
        let value = penalty.array() as f64;
        let mut grads = penalty.backward();
        let autodiff = mlp.gradients(&mut grads).unwrap();

        let host = HostMlp::from(&mlp);
        let xs = inputs();
        assert!(
            close(value, host.penalty(&xs), 1e-4, 1e-6),
            "{activation:?} value"
        );
        for &(param, row, col) in &probes {
            let h = 1e-4;
            let perturbed = |delta: f64| {
                let mut copy = HostMlp {
                    layers: host.layers.clone(),
                    activation,
                };
                let (w, b) = &mut copy.layers[param / 2];
                if param % 2 == 0 {
                    w[row][col] += delta;
                } else {
                    b[col] += delta;
                }
                copy.penalty(&xs)
            };
            let want = (perturbed(h) - perturbed(-h)) / (2.0 * h);
            let cols = autodiff[param].shape().1;
            let got = autodiff[param].as_vec()[row * cols + col] as f64;
            assert!(
                close(got, want, 2e-3, 2e-4),
                "{activation:?} param {param} [{row}, {col}]: autodiff {got} vs finite difference {want}"
            );
        }
    }
}

/// `σ'` itself is differentiable on the tape: its gradient is `σ''`, checked against central
/// differences of the analytic `σ'`; `σ'` also matches differences of `σ`.
#[test]
fn activation_derivatives_match_finite_differences() {
    let dev = default_device(0);
    let points = [-2.5_f32, -0.7, -0.1, 0.2, 0.9, 3.0];
    for activation in [
        Activation::Tanh,
        Activation::Softplus,
        Activation::SiLU,
        Activation::ReLU,
        Activation::LeakyReLU(0.3),
        Activation::Identity,
    ] {
        let z = dev.tensor_from_vec(points.to_vec(), (points.len(),));
        let slope = activation.derivative(z.clone()).as_vec();
        let eval = |shift: f32| activation.apply(z.clone() + shift).as_vec();
        let (up, down) = (eval(1e-2), eval(-1e-2));
        for k in 0..points.len() {
            let fd = (up[k] - down[k]) / 2e-2;
            assert!(
                (slope[k] - fd).abs() < 1e-3,
                "{activation:?} σ'({}) = {} vs {fd}",
                points[k],
                slope[k]
            );
        }

        let traced_z = z.leaky_trace();
        let mut grads = activation.derivative(traced_z).sum::<Rank0, _>().backward();
        // Piecewise-constant σ' records nothing that reaches z: its gradient is then all zeros.
        grads.try_alloc_for(&z).unwrap();
        let second = grads.get(&z).as_vec();
        let d = |shift: f32| activation.derivative(z.clone() + shift).as_vec();
        let (up, down) = (d(1e-2), d(-1e-2));
        for k in 0..points.len() {
            let fd = (up[k] - down[k]) / 2e-2;
            assert!(
                (second[k] - fd).abs() < 2e-3,
                "{activation:?} σ''({}) = {} vs {fd}",
                points[k],
                second[k]
            );
        }
    }
}

#[test]
fn input_gradient_checks_the_batch_width() {
    let dev = default_device(0);
    let mlp = network(Activation::Tanh, 1, 0);
    let wrong = dev.tensor_from_vec(vec![0.0_f32; 8], (4, 2));
    assert!(matches!(mlp.input_gradient(wrong), Err(Error::Shape { .. })));
}
