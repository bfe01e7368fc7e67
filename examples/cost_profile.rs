//! Where one evaluation of the NLOT Lagrangian cost spends its time (tuning aid, not a benchmark).
use lagrangian_ot::experiments::nlot::{obstacle_problem, strips, NlotSettings};
use lagrangian_ot::lagrangian::ObstacleShape;
use lagrangian_ot::prelude::*;
use std::time::Instant;

fn main() -> Result<()> {
    let batch: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(256);
    let hidden: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(128);
    let mut s = NlotSettings::paper();
    s.iterations = 1;
    s.batch_size = batch;
    s.amortiser_hidden = vec![hidden, hidden];
    s.amortiser.prefit_steps = 0;
    s.amortiser.refit_every = 0;
    s.eval_every = 0;
    let model = obstacle_problem(ObstacleShape::Box, &s, 0)?
        .progress(ProgressMode::Silent)
        .build()?
        .fit()?;
    let (src, tgt) = strips();
    let mut r: SeededRng = rng(1);
    let x = src.sample(&mut r, batch)?;
    let y = tgt.sample(&mut r, batch)?;
    let reps = 20;
    let t = Instant::now();
    for _ in 0..reps {
        model.cost.predict(&x, &y)?;
    }
    let predict = t.elapsed().as_secs_f64() / reps as f64;
    let params = model.cost.predict(&x, &y)?;
    let t = Instant::now();
    for _ in 0..reps {
        model
            .cost
            .amortiser
            .action()
            .cost_and_gradients(&model.cost.lagrangian, &x, &y, &params, None)?;
    }
    let action = t.elapsed().as_secs_f64() / reps as f64;
    let t = Instant::now();
    for _ in 0..reps {
        model.cost.cost_and_grad_y(&x, &y)?;
    }
    let total = t.elapsed().as_secs_f64() / reps as f64;
    println!(
        "batch {batch}, amortiser {hidden}: predict {:.2} ms, action+grad {:.2} ms, cost_and_grad_y {:.2} ms",
        1e3 * predict,
        1e3 * action,
        1e3 * total
    );
    Ok(())
}
