//! Colours for figures: a categorical palette for series and continuous colour maps for fields
//! and time.
//!
//! The palette is the ten-colour "tab10" set, so series read the same as in matplotlib figures of
//! the papers. The maps are piecewise-linear interpolations of a few published stops of the
//! perceptually uniform maps (viridis, plasma) and a diverging map (coolwarm) for signed fields.

use plotters::style::RGBColor;

/// An opaque 8-bit RGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Parses `#rrggbb` (the `#` is optional). Returns `None` for anything else.
    ///
    /// ```
    /// use lagrangian_ot::plot::Rgb;
    /// assert_eq!(Rgb::from_hex("#ff8000"), Some(Rgb(255, 128, 0)));
    /// assert_eq!(Rgb::from_hex("nope"), None);
    /// ```
    pub fn from_hex(hex: &str) -> Option<Rgb> {
        let digits = hex.strip_prefix('#').unwrap_or(hex);
        if digits.len() != 6 || !digits.is_ascii() {
            return None;
        }
        let channel = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16).ok();
        Some(Rgb(channel(0)?, channel(2)?, channel(4)?))
    }

    pub(crate) fn to_plotters(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }
}

/// The categorical palette ("tab10"): series `i` gets `PALETTE[i % 10]`.
pub const PALETTE: [Rgb; 10] = [
    Rgb(0x1f, 0x77, 0xb4),
    Rgb(0xff, 0x7f, 0x0e),
    Rgb(0x2c, 0xa0, 0x2c),
    Rgb(0xd6, 0x27, 0x28),
    Rgb(0x94, 0x67, 0xbd),
    Rgb(0x8c, 0x56, 0x4b),
    Rgb(0xe3, 0x77, 0xc2),
    Rgb(0x7f, 0x7f, 0x7f),
    Rgb(0xbc, 0xbd, 0x22),
    Rgb(0x17, 0xbe, 0xcf),
];

/// The palette colour of series (or group) `index`; negative indices wrap around too.
///
/// ```
/// use lagrangian_ot::plot::{palette, PALETTE};
/// assert_eq!(palette(0), PALETTE[0]);
/// assert_eq!(palette(12), PALETTE[2]);
/// assert_eq!(palette(-1), PALETTE[9]);
/// ```
pub fn palette(index: i64) -> Rgb {
    PALETTE[index.rem_euclid(PALETTE.len() as i64) as usize]
}

/// A continuous colour map from `[0, 1]` to colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorMap {
    /// Dark purple → teal → yellow; perceptually uniform, the default.
    #[default]
    Viridis,
    /// Dark blue → magenta → yellow; perceptually uniform.
    Plasma,
    /// Blue → light grey → red; diverging, for fields whose sign matters.
    Coolwarm,
}

const VIRIDIS: [Rgb; 9] = [
    Rgb(0x44, 0x01, 0x54),
    Rgb(0x47, 0x2d, 0x7b),
    Rgb(0x3b, 0x52, 0x8b),
    Rgb(0x2c, 0x72, 0x8e),
    Rgb(0x21, 0x91, 0x8c),
    Rgb(0x28, 0xae, 0x80),
    Rgb(0x5e, 0xc9, 0x62),
    Rgb(0xad, 0xdc, 0x30),
    Rgb(0xfd, 0xe7, 0x25),
];

const PLASMA: [Rgb; 9] = [
    Rgb(0x0d, 0x08, 0x87),
    Rgb(0x4c, 0x02, 0xa1),
    Rgb(0x7e, 0x03, 0xa8),
    Rgb(0xa9, 0x23, 0x95),
    Rgb(0xcc, 0x47, 0x78),
    Rgb(0xe5, 0x6b, 0x5d),
    Rgb(0xf8, 0x95, 0x40),
    Rgb(0xfd, 0xc5, 0x27),
    Rgb(0xf0, 0xf9, 0x21),
];

const COOLWARM: [Rgb; 5] = [
    Rgb(0x3b, 0x4c, 0xc0),
    Rgb(0x8d, 0xb0, 0xfe),
    Rgb(0xdd, 0xdc, 0xdc),
    Rgb(0xf4, 0x9a, 0x7b),
    Rgb(0xb4, 0x04, 0x26),
];

impl ColorMap {
    fn stops(self) -> &'static [Rgb] {
        match self {
            ColorMap::Viridis => &VIRIDIS,
            ColorMap::Plasma => &PLASMA,
            ColorMap::Coolwarm => &COOLWARM,
        }
    }

    /// The colour at `t`, clamped to `[0, 1]`; NaN maps to the low end.
    ///
    /// ```
    /// use lagrangian_ot::plot::{ColorMap, Rgb};
    /// assert_eq!(ColorMap::Viridis.at(0.0), Rgb(0x44, 0x01, 0x54));
    /// assert_eq!(ColorMap::Viridis.at(1.0), Rgb(0xfd, 0xe7, 0x25));
    /// assert_eq!(ColorMap::Viridis.at(7.0), ColorMap::Viridis.at(1.0));
    /// ```
    pub fn at(self, t: f64) -> Rgb {
        let stops = self.stops();
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let position = t * (stops.len() - 1) as f64;
        let lower = (position.floor() as usize).min(stops.len() - 2);
        let frac = position - lower as f64;
        let (a, b) = (stops[lower], stops[lower + 1]);
        let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * frac).round() as u8;
        Rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    /// The colour of `value` when `[lo, hi]` is stretched over the map; a degenerate range maps
    /// everything to the middle colour.
    ///
    /// ```
    /// use lagrangian_ot::plot::ColorMap;
    /// let cmap = ColorMap::Viridis;
    /// assert_eq!(cmap.scaled(15.0, 10.0, 20.0), cmap.at(0.5));
    /// assert_eq!(cmap.scaled(3.0, 3.0, 3.0), cmap.at(0.5));
    /// ```
    pub fn scaled(self, value: f64, lo: f64, hi: f64) -> Rgb {
        if hi > lo {
            self.at((value - lo) / (hi - lo))
        } else {
            self.at(0.5)
        }
    }
}
