//! Figures: element counts for known input, geometry of equal-aspect and log axes, colour maps,
//! ranges, the evcxr wire format and typed errors.

use lagrangian_ot::plot::*;
use lagrangian_ot::Error;
use ndarray::{array, Array2};

/// Axes and tick marks are black polylines; everything else is data.
fn data_polylines(svg: &str) -> usize {
    svg.lines()
        .filter(|l| l.starts_with("<polyline") && !l.contains("stroke=\"#000000\""))
        .count()
}

fn count(svg: &str, tag: &str) -> usize {
    svg.lines().filter(|l| l.starts_with(tag)).count()
}

fn attr(line: &str, name: &str) -> f64 {
    let key = format!(" {name}=\"");
    let start = line.find(&key).expect("attribute present") + key.len();
    let end = start + line[start..].find('"').unwrap();
    line[start..end].parse().unwrap()
}

/// `(cx, cy)` of every circle, in document order.
fn circle_centres(svg: &str) -> Vec<(f64, f64)> {
    svg.lines()
        .filter(|l| l.starts_with("<circle"))
        .map(|l| (attr(l, "cx"), attr(l, "cy")))
        .collect()
}

fn hex(rgb: Rgb) -> String {
    format!("#{:02X}{:02X}{:02X}", rgb.0, rgb.1, rgb.2)
}

fn cloud(n: usize, shift: f32) -> Array2<f32> {
    Array2::from_shape_fn((n, 2), |(i, j)| (i as f32 * 0.37 + j as f32).sin() + shift)
}

fn path(t: usize, offset: f32) -> Array2<f32> {
    Array2::from_shape_fn((t, 2), |(i, j)| {
        if j == 0 {
            i as f32
        } else {
            (i as f32).sqrt() + offset
        }
    })
}

#[test]
fn scatter_draws_one_circle_per_point_in_its_colour() {
    let svg = Figure::new()
        .scatter(&cloud(5, 0.0), "a")
        .scatter(&cloud(7, 3.0), "b")
        .to_svg()
        .unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(count(&svg, "<circle"), 12);
    let in_colour = |c: Rgb| {
        svg.lines()
            .filter(|l| l.starts_with("<circle") && l.contains(&hex(c)))
            .count()
    };
    assert_eq!((in_colour(PALETTE[0]), in_colour(PALETTE[1])), (5, 7));
    assert_eq!(data_polylines(&svg), 0);
}

#[test]
fn explicit_colour_and_groups_colour_by_label() {
    let red = Rgb(200, 10, 20);
    let pts = cloud(6, 0.0);
    let svg = Figure::new().scatter(&pts, "").color(red).to_svg().unwrap();
    assert_eq!(
        svg.lines()
            .filter(|l| l.starts_with("<circle") && l.contains(&hex(red)))
            .count(),
        6
    );

    let labels = [0i64, 1, 1, 2, 2, 2];
    let svg = Figure::new().scatter_groups(&pts, &labels).to_svg().unwrap();
    for (group, expected) in [(0, 1), (1, 2), (2, 3)] {
        let c = hex(palette(group));
        assert_eq!(
            svg.lines()
                .filter(|l| l.starts_with("<circle") && l.contains(&c))
                .count(),
            expected,
            "group {group}"
        );
    }
    // One legend entry per group.
    assert!(svg.lines().any(|l| l == "group 2"));
}

#[test]
fn paths_draw_one_polyline_each_or_one_per_segment_by_time() {
    let paths = vec![path(4, 0.0), path(4, 1.0), path(4, 2.0)];
    let solid = Figure::new().paths(&paths, "paths").to_svg().unwrap();
    assert_eq!(data_polylines(&solid), 3);
    let timed = Figure::new()
        .paths_by_time(&paths, ColorMap::Viridis)
        .to_svg()
        .unwrap();
    assert_eq!(data_polylines(&timed), 9);
    // First and last segments of a 4-point path sit at t = 1/6 and 5/6 of the map.
    assert!(timed.contains(&hex(ColorMap::Viridis.at(1.0 / 6.0))));
    assert!(timed.contains(&hex(ColorMap::Viridis.at(5.0 / 6.0))));
}

#[test]
fn fixed_ranges_hide_points_outside_and_clip_lines() {
    let pts = array![[0.0f32, 0.0], [1.0, 1.0], [5.0, 1.0]];
    let svg = Figure::new()
        .scatter(&pts, "")
        .x_range(-0.5, 2.0)
        .y_range(-0.5, 2.0)
        .to_svg()
        .unwrap();
    assert_eq!(count(&svg, "<circle"), 2);
    // A line leaving and re-entering the box is split into two visible runs.
    let zigzag = [array![[0.0f32, 0.0], [1.0, 5.0], [2.0, 0.0]]];
    let svg = Figure::new()
        .paths(&zigzag, "")
        .y_range(-1.0, 1.0)
        .x_range(-1.0, 3.0)
        .to_svg()
        .unwrap();
    assert_eq!(data_polylines(&svg), 2);
}

#[test]
fn quiver_draws_one_arrow_polyline_per_vector() {
    let points = array![[0.0f32, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
    let vectors = array![[1.0f32, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, 0.0]];
    let svg = Figure::new()
        .quiver(&points, &vectors, Some(0.3))
        .to_svg()
        .unwrap();
    let arrows: Vec<&str> = svg
        .lines()
        .filter(|l| l.starts_with("<polyline") && !l.contains("#000000"))
        .collect();
    assert_eq!(arrows.len(), 4);
    // Shaft plus two barbs: 5 vertices; the zero vector is a bare 2-vertex stub.
    let vertices = |l: &str| {
        l.split("points=\"")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .filter(|p| p.contains(','))
            .count()
    };
    assert_eq!(arrows.iter().filter(|l| vertices(l) == 5).count(), 3);
}

#[test]
fn equal_aspect_gives_equal_pixels_per_unit() {
    let pts = array![[0.0f32, 0.0], [4.0, 0.0], [0.0, 1.0]];
    let pixels = |fig: Figure| {
        let c = circle_centres(&fig.to_svg().unwrap());
        ((c[1].0 - c[0].0).abs() / 4.0, (c[2].1 - c[0].1).abs())
    };
    let (px_x, px_y) = pixels(Figure::new().scatter(&pts, "").equal_aspect());
    assert!((px_x - px_y).abs() <= 1.0, "x {px_x} px/unit, y {px_y} px/unit");
    let (px_x, px_y) = pixels(Figure::new().scatter(&pts, ""));
    assert!(px_y > 2.0 * px_x, "without equal aspect the y unit is stretched");
}

#[test]
fn log_y_spaces_decades_evenly() {
    let pts = array![[0.0f32, 1.0], [1.0, 10.0], [2.0, 100.0]];
    let c = circle_centres(&Figure::new().scatter(&pts, "").log_y().to_svg().unwrap());
    let (d1, d2) = (c[0].1 - c[1].1, c[1].1 - c[2].1);
    assert!(d1 > 50.0 && (d1 - d2).abs() <= 1.0, "{d1} vs {d2}");
}

#[test]
fn heatmap_cells_span_the_colour_map() {
    let svg = Figure::new()
        .heatmap_fn(|x, _| x, (0.0, 1.0), (0.0, 1.0), 10)
        .to_svg()
        .unwrap();
    let low = hex(ColorMap::Viridis.at(0.0));
    let high = hex(ColorMap::Viridis.at(1.0));
    // Each of the 10 columns has 10 cells; the lowest and highest columns get the map's ends
    // (plus one colour-bar step each whose colour rounds to the same value, at most).
    let cells_with = |c: &str| {
        svg.lines()
            .filter(|l| l.starts_with("<rect") && l.contains(c))
            .count()
    };
    assert!((10..=11).contains(&cells_with(&low)), "{}", cells_with(&low));
    assert!((10..=11).contains(&cells_with(&high)), "{}", cells_with(&high));

    let grid = array![[0.0f32, 1.0], [2.0, 3.0]];
    let svg = Figure::new()
        .heatmap(&grid, (0.0, 2.0), (0.0, 2.0))
        .colormap(ColorMap::Plasma)
        .to_svg()
        .unwrap();
    assert!(
        svg.contains(&hex(ColorMap::Plasma.at(0.0))) && svg.contains(&hex(ColorMap::Plasma.at(1.0 / 3.0)))
    );
}

#[test]
fn grid_puts_panels_in_one_svg() {
    let a = Figure::new().title("a").scatter(&cloud(3, 0.0), "");
    let b = Figure::new().title("b").scatter(&cloud(4, 0.0), "");
    let c = Figure::new().title("c").loss_curve(&[3.0, 2.0, 1.0], "train");
    let fig = Figure::grid(2, vec![a, b, c]).suptitle("three");
    assert_eq!(fig.grid_shape(), (2, 2));
    let (w, h) = fig.size_px();
    assert_eq!((w, h), (2 * DEFAULT_PANEL_SIZE.0, 2 * DEFAULT_PANEL_SIZE.1 + 32));
    let svg = fig.to_svg().unwrap();
    assert_eq!(svg.matches("<svg").count(), 1);
    assert!(svg.starts_with(&format!("<svg width=\"{w}\" height=\"{h}\"")));
    assert_eq!(count(&svg, "<circle"), 7);
    assert_eq!(data_polylines(&svg), 1);
    // The chained form builds the same layout.
    let chained = Figure::new()
        .scatter(&cloud(3, 0.0), "")
        .next_panel()
        .scatter(&cloud(4, 0.0), "");
    assert_eq!(chained.num_panels(), 2);
    assert_eq!(Figure::new().panel(chained).num_panels(), 2);
}

#[test]
fn evcxr_output_has_exactly_the_two_blocks() {
    let fig = Figure::new().title("t").scatter(&cloud(3, 0.0), "");
    let out = fig.evcxr_output();
    let svg = fig.to_svg().unwrap();
    let expected = format!(
        "EVCXR_BEGIN_CONTENT text/plain\n{}\nEVCXR_END_CONTENT\nEVCXR_BEGIN_CONTENT image/svg+xml\n{}\nEVCXR_END_CONTENT\n",
        fig.summary(),
        svg.trim_end()
    );
    assert_eq!(out, expected);
    assert!(fig.summary().contains("1 panel") && fig.summary().contains("scatter"));
    // A figure that cannot be drawn shows its error as text only.
    let broken = Figure::new()
        .scatter(&Array2::<f32>::zeros((0, 2)), "")
        .evcxr_output();
    assert!(broken.starts_with("EVCXR_BEGIN_CONTENT text/plain\nfigure not drawn: empty input"));
    assert!(!broken.contains("image/svg+xml") && broken.ends_with("\nEVCXR_END_CONTENT\n"));
}

#[test]
fn bad_input_gives_typed_errors() {
    let nan = array![[0.0f32, f32::NAN]];
    assert!(matches!(
        Figure::new().scatter(&nan, "").to_svg(),
        Err(Error::NonFinite(_))
    ));
    assert!(matches!(
        Figure::new().scatter(&Array2::<f32>::zeros((0, 2)), "").to_svg(),
        Err(Error::Empty(_))
    ));
    assert!(matches!(
        Figure::new().scatter(&Array2::<f32>::zeros((3, 3)), "").to_svg(),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        Figure::new().scatter_groups(&cloud(3, 0.0), &[0i64, 1]).to_svg(),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        Figure::new().loss_curve(&[1.0, f64::NAN], "").to_svg(),
        Err(Error::NonFinite(_))
    ));
    assert!(matches!(
        Figure::new().loss_curve(&[1.0, -1.0], "").log_y().to_svg(),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        Figure::new().paths(&[array![[0.0f32, 0.0]]], "").to_svg(),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        Figure::new()
            .heatmap_fn(|_, _| f32::NAN, (0.0, 1.0), (0.0, 1.0), 4)
            .to_svg(),
        Err(Error::NonFinite(_))
    ));
    assert!(matches!(
        Figure::new()
            .scatter(&cloud(3, 0.0), "")
            .x_range(1.0, 1.0)
            .to_svg(),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(Figure::new().to_svg(), Err(Error::Empty(_))));
    // The first error of a sub-figure survives composition.
    let grid = Figure::grid(
        2,
        vec![
            Figure::new().scatter(&nan, ""),
            Figure::new().scatter(&cloud(3, 0.0), ""),
        ],
    );
    assert!(matches!(grid.to_svg(), Err(Error::NonFinite(_))));
}

#[test]
fn save_svg_writes_the_rendered_document_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fig.svg");
    let fig = Figure::new().scatter(&cloud(4, 0.0), "");
    fig.save_svg(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), fig.to_svg().unwrap());
    let entries = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(entries, 1, "no temporary file left behind");
    assert!(Figure::new().save_svg(dir.path().join("empty.svg")).is_err());
    assert!(!dir.path().join("empty.svg").exists());
}

struct TwoClouds;

impl Plot for TwoClouds {
    fn figure(&self) -> Figure {
        Figure::new()
            .scatter(&cloud(2, 0.0), "x")
            .scatter(&cloud(3, 1.0), "y")
    }
}

#[test]
fn plot_trait_gives_svg_for_free() {
    let svg = TwoClouds.to_svg().unwrap();
    assert_eq!(count(&svg, "<circle"), 5);
}

#[test]
fn colour_maps_and_palette_give_the_published_stops() {
    assert_eq!(ColorMap::Viridis.at(0.5), Rgb(0x21, 0x91, 0x8c));
    // Halfway between the first two of the nine stops.
    let mid = ColorMap::Viridis.at(1.0 / 16.0);
    assert_eq!(
        mid,
        Rgb(
            ((0x44 + 0x47) as f64 / 2.0).round() as u8,
            ((0x01 + 0x2d) as f64 / 2.0).round() as u8,
            ((0x54 + 0x7b) as f64 / 2.0).round() as u8
        )
    );
    assert_eq!(ColorMap::Coolwarm.at(0.5), Rgb(0xdd, 0xdc, 0xdc));
    assert_eq!(ColorMap::Plasma.at(-3.0), ColorMap::Plasma.at(0.0));
    assert_eq!(
        ColorMap::Viridis.scaled(7.5, 5.0, 10.0),
        ColorMap::Viridis.at(0.5)
    );
    assert_eq!(palette(3), Rgb(0xd6, 0x27, 0x28));
    assert_eq!(palette(13), palette(3));
    assert_eq!(Rgb::from_hex("#1f77b4"), Some(PALETTE[0]));
}

#[test]
fn range_helpers_match_closed_forms() {
    assert_eq!(padded_range(2.0, 4.0, 0.25).unwrap(), (1.5, 4.5));
    assert_eq!(padded_range(10.0, 10.0, 0.1).unwrap(), (9.5, 10.5));
    assert!(matches!(
        padded_range(f64::NAN, 1.0, 0.1),
        Err(Error::NonFinite(_))
    ));
    assert_eq!(finite_bounds([3.0, f64::NAN, -1.0, 2.0]), Some((-1.0, 3.0)));
    assert_eq!(finite_bounds([f64::NAN]), None);
    // y needs widening: [0,4]x[0,1] on 400x400 px becomes [0,4]x[-1.5,2.5].
    assert_eq!(
        equal_aspect((0.0, 4.0), (0.0, 1.0), 400, 400),
        ((0.0, 4.0), (-1.5, 2.5))
    );
    assert_eq!(format_tick(1234.56), "1235");
    assert_eq!(format_tick(12.3456), "12.35");
    assert_eq!(format_tick(-0.125), "-0.125");
    assert_eq!(format_tick(1e-5), "1e-5");
    assert_eq!(format_log_tick(2.0, 4.0), "100");
}
