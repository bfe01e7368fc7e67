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

/// A box run of `iterations` on batches of `batch` with a `hidden`-wide amortiser pre-fitted for
/// `prefit` steps, never refitted, the obstacle annealed over 40 iterations, evaluated every `eval_every`.
fn tiny_box_settings(
    iterations: usize,
    batch: usize,
    hidden: usize,
    prefit: usize,
    eval_every: usize,
) -> NlotSettings {
    let mut settings = NlotSettings::quick();
    settings.iterations = iterations;
    settings.batch_size = batch;
    settings.amortiser_hidden = vec![hidden, hidden];
    settings.amortiser.prefit_steps = prefit;
    settings.amortiser.batch = batch;
    settings.amortiser.refit_every = 0;
    settings.annealing_steps = 40;
    settings.eval_every = eval_every;
    settings
}

#[test]
fn tiny_box_run_moves_the_source_strip_onto_the_target_strip() {
    let settings = tiny_box_settings(120, 128, 64, 100, 40);
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

/// A checkpoint taken mid-annealing reloads into the same model: same transport bit for bit, same
/// history, and the obstacle at the strength it had (the default obstacle is at full strength, so a
/// load that skipped the annealing step would price paths through the box differently).
#[test]
fn a_saved_box_model_loads_back_identically() {
    let settings = tiny_box_settings(20, 64, 32, 20, 10);
    let problem = || {
        obstacle_problem(ObstacleShape::Box, &settings, 5)
            .unwrap()
            .progress(ProgressMode::Silent)
    };
    let model = problem().build().unwrap().fit().unwrap();
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path()).unwrap();
    let loaded = problem().build().unwrap().load(dir.path()).unwrap();

    assert_eq!(loaded.history, model.history);
    assert_eq!(loaded.eval_target, model.eval_target);
    let x = &model.eval_source;
    assert_eq!(loaded.transport(x).unwrap(), model.transport(x).unwrap());
    // Straight through the box, where the obstacle's annealed strength decides the cost.
    let (from, to) = (ndarray::array![[-1.0f32, 0.0]], ndarray::array![[1.0f32, 0.05]]);
    let cost = model.cost.cost(&from, &to).unwrap()[0];
    assert_eq!(loaded.cost.cost(&from, &to).unwrap()[0], cost);
    let fresh = problem().build().unwrap().fit().unwrap_or_else(|e| panic!("{e}"));
    // Training is deterministic given the seed (the wall time aside).
    assert_eq!(fresh.history.dual_objective, model.history.dual_objective);
    assert_eq!(
        fresh.history.eval_sinkhorn_w2_x100,
        model.history.eval_sinkhorn_w2_x100
    );

    // A configuration with other widths does not fit the checkpoint.
    let mut wider = settings.clone();
    wider.amortiser_hidden = vec![64, 64];
    let err = obstacle_problem(ObstacleShape::Box, &wider, 5)
        .unwrap()
        .build()
        .unwrap()
        .load(dir.path())
        .err()
        .expect("an amortiser of other widths must not load");
    assert!(matches!(err, Error::Checkpoint { .. }), "{err}");
    let missing = problem().build().unwrap().load(dir.path().join("nothing here"));
    assert!(matches!(missing, Err(Error::Checkpoint { .. })));
}
