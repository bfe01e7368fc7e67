//! Lagrangians draw themselves: the penalty grid holds −U at the cell centres, metric arrows follow
//! the cheap direction, overlays appear in the SVG, and bad requests render as typed errors.

use lagrangian_ot::device::{default_device, Device};
use lagrangian_ot::lagrangian::{potential_at, Bounds, Lagrangian, Obstacle, ObstacleShape, ScarvelisMetric};
use lagrangian_ot::plot::Plot;
use ndarray::{array, Array2};

#[test]
fn penalty_grid_is_minus_u_at_cell_centres() {
    let lag = Lagrangian::euclidean(2).with_potential(Obstacle::new(ObstacleShape::Slit));
    let bounds = Bounds::cube(-1.0, 1.0, 2).unwrap();
    let plot = lag.plot_on(&bounds, 4, None);
    let grid = plot.penalty_grid().expect("a potential is drawn");
    // Cell (iy, ix) has centre (−0.75 + 0.5 ix, −0.75 + 0.5 iy).
    let dev: Device = default_device(0);
    let centres = Array2::from_shape_fn((16, 2), |(k, c)| {
        -0.75 + 0.5 * if c == 0 { (k % 4) as f32 } else { (k / 4) as f32 }
    });
    let u = potential_at(&Obstacle::new(ObstacleShape::Slit), &dev, &centres, None).unwrap();
    for k in 0..16 {
        assert_eq!(grid[[k / 4, k % 4]], -u[k]);
    }
    assert!(Lagrangian::euclidean(2).plot().penalty_grid().is_none());
}

#[test]
fn svg_holds_heatmap_arrows_samples_and_paths() {
    let lag = Lagrangian::new(ScarvelisMetric::circle(), Obstacle::new(ObstacleShape::Box));
    let x = array![[-1.0f32, 0.2], [-1.1, -0.4], [-1.2, 0.0]];
    let path = array![[-1.0f32, 0.0], [0.0, 0.8], [1.0, 0.0]];
    let svg = lag
        .plot()
        .samples(&x, "source")
        .paths(&[path], "geodesic")
        .to_svg()
        .unwrap();
    assert!(svg.matches("<rect").count() >= 64 * 64, "heatmap cells");
    assert!(svg.matches("<circle").count() >= 3, "samples");
    assert!(svg.contains("<polyline"), "path or arrows");
    assert!(
        svg.contains("source") && svg.contains("geodesic"),
        "legend labels"
    );
    // A metric-only Lagrangian still draws (arrows only).
    let svg = Lagrangian::new(ScarvelisMetric::xpath(), lagrangian_ot::lagrangian::NoPotential)
        .to_svg()
        .unwrap();
    assert!(svg.starts_with("<svg"));
}

#[test]
fn bad_plot_requests_are_errors_not_panics() {
    let lag = Lagrangian::euclidean(2).with_potential(Obstacle::new(ObstacleShape::Box));
    let three_d = Bounds::cube(-1.0, 1.0, 3).unwrap();
    assert!(lag.plot_on(&three_d, 16, None).to_svg().is_err());
    assert!(lag
        .plot_on(&Bounds::cube(-1.0, 1.0, 2).unwrap(), 1, None)
        .to_svg()
        .is_err());
    // A 3-D ball is drawn on its slice through the first two coordinates.
    let ball = Lagrangian::euclidean(3).with_potential(Obstacle::ball(3, 1.0).unwrap());
    let plot = ball.plot();
    let grid = plot.penalty_grid().unwrap();
    assert_eq!(grid[[32, 32]], 1.0); // centre of the domain: inside the ball
    assert_eq!(grid[[0, 0]], 0.0); // corner: outside
}
