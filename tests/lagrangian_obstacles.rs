//! Obstacle potentials: the spot values and annealing examples of the NLOT spec §5, HOTA's softplus
//! forms computed by hand, gradients against finite differences, mixtures and typed errors.

use dfdx::prelude::*;
use lagrangian_ot::device::{default_device, Device};
use lagrangian_ot::lagrangian::{
    potential_at, Annealing, Bounds, Mixture, Obstacle, ObstacleShape, Potential,
};
use lagrangian_ot::nn::{array_to_tensor, traced};
use lagrangian_ot::Error;
use ndarray::{array, Array2};

fn at(p: &Obstacle, q: [f32; 2]) -> f32 {
    let dev = default_device(0);
    potential_at(
        p,
        &dev,
        &Array2::from_shape_vec((1, 2), q.to_vec()).unwrap(),
        None,
    )
    .unwrap()[0]
}

fn close(got: f32, want: f32, tol: f32) {
    assert!((got - want).abs() <= tol, "got {got}, want {want} (tol {tol})");
}

#[test]
fn nlot_spot_values_at_final_constants() {
    use ObstacleShape::*;
    close(at(&Obstacle::new(Box), [0.0, 0.0]), -0.01, 1e-7);
    close(at(&Obstacle::new(Slit), [0.05, 0.6]), -0.993307, 2e-6);
    close(at(&Obstacle::new(Hill), [0.05, 0.6]), -0.034797, 1e-6);
    close(at(&Obstacle::new(Well), [1.0, 1.0]), -0.02, 1e-7);
    close(at(&Obstacle::new(GmmDiscs), [6.0, 6.0]), -0.1, 1e-6);
    close(at(&Obstacle::new(GmmDiscs), [-5.0, -6.0]), -0.099331, 1e-6);
    close(at(&Obstacle::new(VNeck), [0.0, 0.0]), -0.00266, 1e-5);
    close(at(&Obstacle::new(VNeck), [0.05, 0.6]), -0.046879, 1e-6);
    // S-tunnel: inside the first ellipse's centre, σ(90/0.1) = 1.
    close(at(&Obstacle::new(STunnel), [5.0, 6.0]), -0.1, 1e-6);
    close(at(&Obstacle::new(STunnel), [0.0, 0.0]), 0.0, 1e-7);
    // Baby maze: inside the left wall (x = −0.4, y = 1) away from its opening: −M = −10.
    // w(−0.4; −0.5, −0.3) = σ(10) − σ(−10) = 0.999909.
    close(at(&Obstacle::new(BabyMaze), [-0.4, 1.0]), -9.99909, 1e-3);
    close(at(&Obstacle::new(BabyMaze), [-0.4, -1.0]), 0.0, 1e-4);
    close(at(&Obstacle::new(BabyMaze), [0.0, 1.0]), 0.0, 1e-4);
    // The box and the slit are (nearly) zero far from their walls.
    close(at(&Obstacle::new(Box), [1.0, 0.8]), 0.0, 1e-7);
    close(at(&Obstacle::new(Slit), [0.05, 0.0]), 0.0, 1e-5);
}

#[test]
fn hota_softplus_obstacles_match_hand_computation() {
    let softplus = |z: f32| (1.0 + z.exp()).ln();
    let stunnel = Obstacle::new(ObstacleShape::HotaSTunnel);
    close(
        at(&stunnel, [5.0, 6.0]),
        -(90.0 + softplus(90.0 - 20.0 * 100.0 - 144.0)),
        1e-3,
    );
    // 20·0.5² + 1 = 6 → softplus(84) for the first ellipse.
    close(at(&stunnel, [5.5, 7.0]), -84.0, 1e-3);
    let vneck = Obstacle::new(ObstacleShape::HotaVNeck);
    close(at(&vneck, [0.0, 1.0]), -softplus(0.64), 1e-5); // kept: 0.53 < s < 5
    close(at(&vneck, [0.0, 3.0]), -5.0, 1e-5); // capped
    close(at(&vneck, [0.0, 0.0]), 0.0, 1e-7); // s = softplus(−0.36) = 0.52 < 0.53: dropped
    let gmm = Obstacle::new(ObstacleShape::HotaGmm);
    close(at(&gmm, [6.0, 7.4]), -softplus(10.0), 1e-3);
    close(at(&gmm, [6.0, 7.6]), 0.0, 1e-7); // outside the disc: the indicator cuts it
    let ball = Obstacle::ball(3, 0.98).unwrap();
    let dev = default_device(0);
    let u = potential_at(&ball, &dev, &array![[0.5f32, 0.5, 0.5], [0.6, 0.6, 0.6]], None).unwrap();
    assert_eq!(u.to_vec(), vec![-1.0, 0.0]);
    let smooth = Obstacle::ball(3, 1.0).unwrap().with_temperature(0.1).unwrap();
    let u = potential_at(&smooth, &dev, &array![[1.0f32, 0.0, 0.0]], None).unwrap();
    close(u[0], -0.5, 1e-5);
    assert_eq!(Obstacle::hota_set().len(), 7);
    close(Obstacle::hota_box().temperature(), 2e-3, 0.0);
}

#[test]
fn annealing_examples_of_the_spec() {
    let schedule = Annealing::for_obstacle(&Obstacle::new(ObstacleShape::Box));
    for (it, m, tau) in [
        (200, 1.80e-4, 0.0984),
        (500, 7.59e-4, 0.0932),
        (1000, 0.005, 0.055),
        (1500, 9.24e-3, 0.0168),
    ] {
        let (got_m, got_tau) = schedule.at(it);
        // The spec quotes three significant digits: half a unit of the third is at most 0.5% off.
        close(got_m, m, 5e-3 * m);
        close(got_tau, tau, 5e-3 * tau);
    }
    assert_eq!(schedule.at(0), (0.0, 0.1));
    assert_eq!(schedule.at(1999), (0.01, 0.01)); // 1 − t < 1e-3
    assert_eq!(schedule.at(10_000), (0.01, 0.01));
    let gsb = Annealing::for_obstacle(&Obstacle::new(ObstacleShape::VNeck));
    assert_eq!(gsb.temperature, (1.0, 0.1));
    let mut slit = Obstacle::new(ObstacleShape::Slit);
    schedule.apply(&mut slit, 1000).unwrap();
    close(slit.strength(), 0.005, 1e-7);
}

/// dfdx gradient of Σ U(q) against central finite differences of U on the host.
fn check_gradient(p: &Obstacle, q: Array2<f32>, h: f32, tol: f32) {
    let dev: Device = default_device(0);
    let q_t = array_to_tensor(&dev, &q, "q").unwrap();
    let u = Potential::<Device>::value(p, traced(&q_t), None).unwrap();
    let grads = u.sum::<Rank0, _>().backward();
    let g = grads.get(&q_t).as_vec();
    for r in 0..q.nrows() {
        for c in 0..q.ncols() {
            let mut plus = q.clone();
            plus[[r, c]] += h;
            let mut minus = q.clone();
            minus[[r, c]] -= h;
            let fd = (potential_at(p, &dev, &plus, None).unwrap()[r]
                - potential_at(p, &dev, &minus, None).unwrap()[r])
                / (2.0 * h);
            let ad = g[r * q.ncols() + c];
            assert!(
                (ad - fd).abs() <= tol * (1.0 + fd.abs()),
                "{}: d/dq[{r},{c}] autodiff {ad} vs finite difference {fd}",
                p.shape().name()
            );
        }
    }
}

#[test]
fn gradients_match_finite_differences() {
    use ObstacleShape::*;
    // Points on the walls, where the gradients are large and non-trivial.
    let soft = |shape| {
        Obstacle::new(shape)
            .with_temperature(0.1)
            .unwrap()
            .with_strength(1.0)
            .unwrap()
    };
    check_gradient(&soft(Box), array![[0.45f32, 0.1], [-0.52, 0.48]], 1e-3, 2e-2);
    check_gradient(&soft(Slit), array![[0.08f32, 0.3], [-0.1, 0.2]], 1e-3, 2e-2);
    check_gradient(&Obstacle::new(Hill), array![[0.3f32, -0.7]], 1e-3, 1e-2);
    check_gradient(&Obstacle::new(Well), array![[0.3f32, -0.7]], 1e-3, 1e-2);
    check_gradient(&soft(GmmDiscs), array![[6.0f32, 7.4], [-5.0, -6.2]], 1e-3, 2e-2);
    check_gradient(&soft(VNeck), array![[0.2f32, 0.9]], 1e-3, 2e-2);
    check_gradient(
        &Obstacle::new(STunnel).with_temperature(50.0).unwrap(),
        array![[4.0f32, 4.0]],
        1e-2,
        2e-2,
    );
    check_gradient(&soft(BabyMaze), array![[-0.35f32, 0.2], [0.42, -0.1]], 1e-3, 2e-2);
    check_gradient(&Obstacle::new(HotaSTunnel), array![[5.0f32, 13.0]], 1e-2, 2e-2);
    check_gradient(&Obstacle::new(HotaVNeck), array![[0.1f32, 1.2]], 1e-3, 2e-2);
}

#[test]
fn mixture_is_the_weighted_sum_of_its_parts() {
    let dev = default_device(0);
    let q = array![[0.1f32, 0.2], [0.45, -0.3], [1.2, 0.9]];
    let (a, b) = (
        Obstacle::new(ObstacleShape::Box),
        Obstacle::new(ObstacleShape::Hill),
    );
    let mix = Mixture::new().with(2.0, a.clone()).with(-0.5, b.clone());
    let got = potential_at(&mix, &dev, &q, None).unwrap();
    let want =
        potential_at(&a, &dev, &q, None).unwrap() * 2.0 - potential_at(&b, &dev, &q, None).unwrap() * 0.5;
    for (g, w) in got.iter().zip(want.iter()) {
        close(*g, *w, 1e-7);
    }
    assert_eq!(
        Potential::<Device>::bounds(&mix),
        Some(Bounds::cube(-1.5, 1.5, 2).unwrap())
    );
}

#[test]
fn typed_errors_for_bad_input() {
    let dev: Device = default_device(0);
    let wrong = array_to_tensor(&dev, &array![[0.0f32, 0.0, 0.0]], "q").unwrap();
    let err =
        Potential::<Device>::value(&Obstacle::new(ObstacleShape::Box), traced(&wrong), None).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    assert!(matches!(
        Obstacle::new(ObstacleShape::Box).with_temperature(0.0),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        Obstacle::new(ObstacleShape::Box).with_strength(f32::NAN),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        Obstacle::from_name("pyramid"),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(Obstacle::ball(0, 1.0), Err(Error::InvalidArgument(_))));
    let nan = array![[f32::NAN, 0.0]];
    assert!(matches!(
        potential_at(&Obstacle::new(ObstacleShape::Box), &dev, &nan, None),
        Err(Error::NonFinite(_))
    ));
    assert_eq!(
        Obstacle::from_name("gsb_vneck").unwrap().shape(),
        ObstacleShape::VNeck
    );
}
