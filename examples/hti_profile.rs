//! Times the pieces of one CLOT step on the semicircle geometry (learned metric + KDE potential) at
//! the fast preset's sizes: one path-cost evaluation with end-point gradients (what the c-transform
//! calls) and one amortiser step (what the path fits call), with the metric taped and frozen on the
//! host (`GivensMetric::frozen`, what the solver uses in those loops).
//! `cargo run --release --example hti_profile`
use std::time::Instant;

use lagrangian_ot::data::AnchoredDataset;
use lagrangian_ot::device::{default_device, Device};
use lagrangian_ot::lagrangian::{Eigenvalues, GivensMetric, KdePotential, Lagrangian, Metric, Potential};
use lagrangian_ot::path::{
    ActionKind, CubicSplinePath, PathPairs, Quadrature, SplineAction, SplineAmortiser, SplineAmortiserConfig,
};
use lagrangian_ot::surrogate::Anchors;
use ndarray::{concatenate, s, Axis};

const REPS: usize = 10;

fn time_pieces<M: Metric<Device>, P: Potential<Device>>(
    label: &str,
    lagrangian: &Lagrangian<M, P>,
    amortiser: &mut SplineAmortiser,
    pairs: &PathPairs,
) -> lagrangian_ot::Result<()> {
    let cond = pairs.cond.as_ref();
    let t = Instant::now();
    for _ in 0..REPS {
        let p = amortiser.predict(pairs)?;
        amortiser
            .action()
            .cost_and_gradients(lagrangian, &pairs.x, &pairs.y, &p, cond)?;
    }
    let eval = t.elapsed().as_secs_f64() / REPS as f64;
    let t = Instant::now();
    for _ in 0..REPS {
        amortiser.step(lagrangian, pairs)?;
    }
    let step = t.elapsed().as_secs_f64() / REPS as f64;
    println!(
        "{label}: predict + cost + ∇y {:.1} ms, amortiser step {:.1} ms",
        eval * 1e3,
        step * 1e3
    );
    Ok(())
}

fn main() -> lagrangian_ot::Result<()> {
    let dev = default_device(0);
    let anchors = Anchors::from_dataset(&AnchoredDataset::load_shared("semicircle")?)?;
    let views: Vec<_> = anchors.samples.iter().map(|y| y.view()).collect();
    let pool = concatenate(Axis(0), &views).unwrap();
    let labels: Vec<usize> = anchors
        .labels
        .as_ref()
        .unwrap()
        .iter()
        .flat_map(|l| l.iter().map(|&v| v as usize))
        .collect();
    let kde = KdePotential::builder(&pool)
        .bandwidth(0.05)
        .alpha(0.05)
        .categorical(&labels, 4)
        .build(&dev)?;
    for metric_width in [64usize, 128] {
        let metric = GivensMetric::builder(2)
            .hidden(&[metric_width, metric_width])
            .cond_hidden(&[32])
            .eigenvalues(Eigenvalues::hti())
            .condition(4)
            .build(&dev)?;
        let action = SplineAction::new(
            &dev,
            CubicSplinePath::new(2, 15)?,
            Quadrature::Reference { points: 20 },
            ActionKind::SquaredGeodesic,
        )?;
        let config = SplineAmortiserConfig {
            hidden: vec![256, 256],
            ..Default::default()
        };
        let mut amortiser = SplineAmortiser::new(action, 4, config)?;
        for n in [128usize, 400] {
            let pairs = PathPairs::new(
                anchors.samples[0].slice(s![..n, ..]).to_owned(),
                anchors.samples[1].slice(s![..n, ..]).to_owned(),
            )
            .with_condition(anchors.conditions[0].slice(s![..n, ..]).to_owned());
            let label = |kind: &str| format!("metric {metric_width}², {n} pairs, {kind}");
            time_pieces(
                &label("taped"),
                &Lagrangian::new(metric.clone(), kde.clone()),
                &mut amortiser,
                &pairs,
            )?;
            time_pieces(
                &label("frozen"),
                &Lagrangian::new(metric.frozen(), kde.clone()),
                &mut amortiser,
                &pairs,
            )?;
        }
    }
    Ok(())
}
