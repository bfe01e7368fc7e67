//! Times the pieces of one CLOT step on the semicircle geometry (learned metric + KDE potential):
//! one path-cost evaluation with gradients, one amortiser step, at 200 and 400 pairs.
//! `cargo run --release --example hti_profile`
use std::time::Instant;

use lagrangian_ot::data::AnchoredDataset;
use lagrangian_ot::device::default_device;
use lagrangian_ot::lagrangian::{Eigenvalues, GivensMetric, KdePotential, Lagrangian};
use lagrangian_ot::path::{
    ActionKind, CubicSplinePath, PathPairs, Quadrature, SplineAction, SplineAmortiser, SplineAmortiserConfig,
};
use lagrangian_ot::surrogate::Anchors;
use ndarray::{concatenate, s, Axis};

fn main() -> lagrangian_ot::Result<()> {
    let dev = default_device(0);
    let anchors = Anchors::from_dataset(&AnchoredDataset::load_shared("semicircle")?)?;
    let metric = GivensMetric::builder(2)
        .hidden(&[128, 128])
        .cond_hidden(&[32])
        .eigenvalues(Eigenvalues::hti())
        .condition(4)
        .build(&dev)?;
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
    for quad in [
        Quadrature::Reference { points: 20 },
        Quadrature::Reference { points: 10 },
    ] {
        for hidden in [vec![256usize, 256], vec![128, 128]] {
            let action = SplineAction::new(
                &dev,
                CubicSplinePath::new(2, 15)?,
                quad,
                ActionKind::SquaredGeodesic,
            )?;
            let mut amortiser = SplineAmortiser::new(
                action,
                4,
                SplineAmortiserConfig {
                    hidden: hidden.clone(),
                    ..Default::default()
                },
            )?;
            for (name, lag) in [("metric+kde", true), ("metric only", false)] {
                for n in [200usize, 400] {
                    let y0 = anchors.samples[0].slice(s![..n, ..]).to_owned();
                    let y1 = anchors.samples[1].slice(s![..n, ..]).to_owned();
                    let c = anchors.conditions[0].slice(s![..n, ..]).to_owned();
                    let pairs = PathPairs::new(y0.clone(), y1.clone()).with_condition(c.clone());
                    let reps = 5;
                    let t = Instant::now();
                    for _ in 0..reps {
                        let p = amortiser.predict(&pairs)?;
                        if lag {
                            amortiser.action().cost_and_gradients(
                                &Lagrangian::new(metric.clone(), kde.clone()),
                                &y0,
                                &y1,
                                &p,
                                Some(&c),
                            )?;
                        } else {
                            amortiser.action().cost_and_gradients(
                                &Lagrangian::new(metric.clone(), lagrangian_ot::lagrangian::NoPotential),
                                &y0,
                                &y1,
                                &p,
                                Some(&c),
                            )?;
                        }
                    }
                    let eval = t.elapsed().as_secs_f64() / reps as f64;
                    let t = Instant::now();
                    for _ in 0..reps {
                        if lag {
                            amortiser.step(&Lagrangian::new(metric.clone(), kde.clone()), &pairs)?;
                        } else {
                            amortiser.step(
                                &Lagrangian::new(metric.clone(), lagrangian_ot::lagrangian::NoPotential),
                                &pairs,
                            )?;
                        }
                    }
                    let step = t.elapsed().as_secs_f64() / reps as f64;
                    println!("{quad:?} amortiser {hidden:?} {name} n={n}: predict+cost+grad {:.1} ms, amortiser step {:.1} ms", eval * 1e3, step * 1e3);
                }
            }
        }
    }
    Ok(())
}
