//! Metric learning (NLOT Algorithm 2): a short run on a regenerated circle sequence must turn a
//! random metric towards the true one; the envelope gradient of the metric loss must match finite
//! differences; bad sequences are typed errors.

use lagrangian_ot::data::scarvelis::{self, ScarvelisConfig, ScarvelisKind};
use lagrangian_ot::experiments::metric_learning::quick_builder;
use lagrangian_ot::lagrangian::{Eigenvalues, GivensMetric, Lagrangian, NoPotential};
use lagrangian_ot::nn::Param;
use lagrangian_ot::path::{ActionKind, CubicSplinePath, Quadrature, SplineAction};
use lagrangian_ot::prelude::*;
use lagrangian_ot::solver::{alignment_on_grid, metric_cost_gradient, EnvelopeBatch, MetricLearning};
use ndarray::Array3;

#[test]
fn a_short_run_turns_the_metric_towards_the_circle_field() {
    // 9 slices (45° steps) of 32 points; small networks, few L-BFGS steps, one metric step per
    // iteration after 20 — everything but the algorithm is scaled down.
    let config = ScarvelisConfig::paper(ScarvelisKind::Circle, 0)
        .slices(9)
        .samples(32);
    let data = scarvelis::generate(&config).unwrap();
    // The same configuration `lot reproduce nlot-circle --quick` runs.
    let model = quick_builder(&data)
        .seed(0)
        .progress(ProgressMode::Silent)
        .build()
        .unwrap()
        .fit()
        .unwrap();
    let h = &model.history;
    assert_eq!(h.dual_objective.len(), 80);
    assert_eq!(h.metric_iteration.len(), 60);
    assert_eq!(h.eval_iteration, vec![0, 10, 20, 30, 40, 50, 60, 70, 80]);
    let (initial, last) = (h.alignment[0], *h.alignment.last().unwrap());
    eprintln!(
        "alignment {initial:.3} -> {last:.3} ({:?}); {:.3} s per iteration",
        h.alignment,
        h.seconds / 80.0
    );
    // No metric step before iteration 20: the alignment is unchanged until then.
    assert_eq!(h.alignment[2], initial);
    assert!(
        last > initial + 0.25 && last > 0.85,
        "alignment {initial} -> {last}"
    );
    // The model's own score agrees with the logged one.
    let again = model.alignment(&data.metric, 30).unwrap();
    assert!((again - last).abs() < 1e-9);
    // The learned transport of the first pair moves mass towards slice 1 (45° on).
    let pushed = model.transport(0, &data.slice(0).unwrap()).unwrap();
    let mean = pushed.mean_axis(ndarray::Axis(0)).unwrap();
    let angle = (mean[1] as f64).atan2(mean[0] as f64).to_degrees();
    assert!((angle - 45.0).abs() < 20.0, "first pair pushed to angle {angle}°");
    assert!(matches!(
        model.transport(8, &pushed),
        Err(Error::InvalidArgument(_))
    ));
    assert!(model.to_svg().unwrap().starts_with("<svg"));
}

fn envelope_setup() -> (
    SplineAction,
    Lagrangian<GivensMetric, NoPotential>,
    Vec<EnvelopeBatch>,
) {
    let dev = default_device(3);
    let metric = GivensMetric::builder(2)
        .hidden(&[16, 16])
        .eigenvalues(Eigenvalues::nlot())
        .build(&dev)
        .unwrap();
    let action = SplineAction::new(
        &dev,
        CubicSplinePath::new(2, 6).unwrap(),
        Quadrature::Reference { points: 12 },
        ActionKind::SquaredGeodesic,
    )
    .unwrap();
    let mut r: SeededRng = rng(5);
    // Two pairs of measures of different sizes: the loss is the mean over pairs of per-pair means.
    let batches = [12, 20]
        .iter()
        .map(|&n| EnvelopeBatch {
            x: toy::gaussian(&mut r, n, &[-0.5, 0.0], 0.3).unwrap(),
            y_hat: toy::gaussian(&mut r, n, &[0.5, 0.5], 0.3).unwrap(),
            params: toy::gaussian(&mut r, n, &vec![0.0; action.num_params()], 0.1).unwrap(),
            cond: None,
        })
        .collect();
    (action, Lagrangian::new(metric, NoPotential), batches)
}

fn loss(
    action: &SplineAction,
    lagrangian: &Lagrangian<GivensMetric, NoPotential>,
    batches: &[EnvelopeBatch],
) -> f64 {
    let per_pair: Vec<f64> = batches
        .iter()
        .map(|b| {
            let c = action
                .cost_array(lagrangian, &b.x, &b.y_hat, &b.params, None)
                .unwrap();
            c.iter().map(|&v| v as f64).sum::<f64>() / c.len() as f64
        })
        .collect();
    per_pair.iter().sum::<f64>() / per_pair.len() as f64
}

fn perturbed(param: &Param<Device>, index: usize, delta: f32) -> Vec<f32> {
    let mut values = param.as_vec();
    values[index] += delta;
    values
}

#[test]
fn envelope_gradient_matches_finite_differences() {
    let (action, mut lagrangian, batches) = envelope_setup();
    let (value, gradients) = metric_cost_gradient(&action, &lagrangian, &batches).unwrap();
    let reference = loss(&action, &lagrangian, &batches);
    assert!(
        (value - reference).abs() < 1e-5 * reference.abs().max(1.0),
        "{value} vs {reference}"
    );
    assert_eq!(gradients.len(), lagrangian.metric.params().len());
    // Check the largest first-layer weight gradient and a hidden-layer bias (central differences).
    for which in [0usize, 3] {
        let grad = gradients[which].as_vec();
        let index = (0..grad.len())
            .max_by(|&a, &b| grad[a].abs().total_cmp(&grad[b].abs()))
            .unwrap();
        assert!(
            grad[index].abs() > 1e-4,
            "parameter {which}: gradient {}",
            grad[index]
        );
        // Small steps: the leaky-ReLU kinks make larger differences curve away (f32 noise stays ~1e-4).
        let h = 3e-4f32;
        let original = lagrangian.metric.params()[which].as_vec();
        let mut at = |delta: f32| {
            let values = perturbed(lagrangian.metric.params()[which], index, delta);
            lagrangian.metric.params_mut()[which].copy_from(&values);
            let l = loss(&action, &lagrangian, &batches);
            lagrangian.metric.params_mut()[which].copy_from(&original);
            l
        };
        let finite = (at(h) - at(-h)) / (2.0 * h as f64);
        let analytic = grad[index] as f64;
        assert!(
            (finite - analytic).abs() < 0.01 * analytic.abs() + 2e-4,
            "parameter {which}[{index}]: finite {finite} vs envelope {analytic}"
        );
    }
}

#[test]
fn bad_sequences_are_typed_errors() {
    let two = Array3::<f32>::zeros((2, 8, 2)) + 0.5;
    let build = |slices: Array3<f32>| MetricLearning::builder(slices).progress(ProgressMode::Silent);
    assert!(matches!(
        build(Array3::zeros((1, 8, 2))).build(),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        build(Array3::zeros((0, 8, 2))).build(),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        build(Array3::zeros((3, 0, 2))).build(),
        Err(Error::Empty(_))
    ));
    let mut with_nan = two.clone();
    with_nan[[1, 3, 0]] = f32::NAN;
    assert!(matches!(build(with_nan).build(), Err(Error::NonFinite(_))));
    // 3-D slices against a 2-D truth, a 2-D box or the default 2-D learned metric.
    let three_d = Array3::<f32>::zeros((3, 8, 3));
    assert!(matches!(
        build(three_d.clone())
            .true_metric(ScarvelisMetric::circle())
            .build(),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        build(three_d.clone())
            .bounds(Bounds::cube(-1.0, 1.0, 2).unwrap())
            .build(),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        build(three_d).iterations(1).build().unwrap().fit(),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        build(two.clone()).iterations(0).build(),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        build(two).metric_schedule(0, 0).build(),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn alignment_on_grid_is_one_for_the_truth_and_zero_for_swapped_eigenvectors() {
    let bounds = Bounds::cube(-1.5, 1.5, 2).unwrap();
    let circle = ScarvelisMetric::circle();
    let same = alignment_on_grid(&circle, &circle, &bounds, 20).unwrap();
    assert!((same - 1.0).abs() < 1e-6, "{same}");
    // ε = 10 makes the tangent the expensive direction: the same eigenvectors in swapped order.
    let swapped = ScarvelisMetric {
        epsilon: 10.0,
        ..circle
    };
    let score = alignment_on_grid(&circle, &swapped, &bounds, 20).unwrap();
    assert!(score < 1e-3, "{score}");
    let three_d = Bounds::cube(-1.0, 1.0, 3).unwrap();
    assert!(matches!(
        alignment_on_grid(&circle, &circle, &three_d, 5),
        Err(Error::Shape { .. })
    ));
}
