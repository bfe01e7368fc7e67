//! NLOT on the box task at a tiny size: the pushforward must cross the 2.25-wide gap between the
//! strips (W2² × 100 starts near 480) and the registered experiments must exist.

use lagrangian_ot::experiments::nlot::{obstacle_problem, NlotSettings};
use lagrangian_ot::experiments::{find, REGISTRY};
use lagrangian_ot::lagrangian::ObstacleShape;
use lagrangian_ot::prelude::*;

#[test]
fn nlot_experiments_are_registered() {
    for name in [
        "nlot-box",
        "nlot-slit",
        "nlot-hill",
        "nlot-well",
        "nlot-gmm",
        "nlot-circle",
        "nlot-mass-split",
        "nlot-xpath",
    ] {
        assert!(
            find(name).is_ok(),
            "{name} missing from {:?}",
            REGISTRY.iter().map(|e| e.name).collect::<Vec<_>>()
        );
    }
}

#[test]
fn tiny_box_run_moves_the_source_strip_onto_the_target_strip() {
    let mut settings = NlotSettings::quick();
    settings.iterations = 120;
    settings.batch_size = 128;
    settings.amortiser_hidden = vec![64, 64];
    settings.amortiser.prefit_steps = 100;
    settings.amortiser.batch = 128;
    settings.amortiser.refit_every = 0;
    settings.annealing_steps = 40;
    settings.eval_every = 40;
    let model = obstacle_problem(ObstacleShape::Box, &settings, 0)
        .unwrap()
        .progress(ProgressMode::Silent)
        .build()
        .unwrap()
        .fit()
        .unwrap();
    let h = &model.history;
    let (first, last) = (h.eval_exact_w2_x100[0], *h.eval_exact_w2_x100.last().unwrap());
    eprintln!(
        "exact W2² x100: {first:.1} -> {last:.1}; sinkhorn x100 {:?}",
        h.eval_sinkhorn_w2_x100
    );
    assert!(
        first > 200.0,
        "the untrained map should leave the mass in the left strip: {first}"
    );
    assert!(
        last < 40.0,
        "after 120 iterations the pushforward should sit on the target strip: {last}"
    );
    // The pushforward stays inside the clip box of the task.
    let pushed = model.transport(&model.eval_source).unwrap();
    assert!(pushed.iter().all(|v| v.abs() <= 1.5));
}
