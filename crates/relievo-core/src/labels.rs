//! Soft-edge labels derived from a height map (seed 000, §3.2 and Table 1), so that any
//! dataset with depth also has edge labels. The paper projects 3-D curvature highlights
//! onto the image; we measure curvature directly on the heightfield:
//!
//! 1. Normalise the height to its range, `h = (z − min) / (max − min)` (a flat map gives
//!    all zeros), which makes the labels invariant to adding a constant and to scaling
//!    the height by a positive factor.
//! 2. Smooth lightly with a Gaussian of `σ = L / 256` px, `L` the larger image dimension,
//!    padding the borders by odd (point) reflection, `f(−k) = 2·f(0) − f(k)`, which keeps
//!    planar ramps exactly planar up to the border.
//! 3. Take the Hessian by central differences in coordinates normalised by `L`
//!    (`u = x / L`, so `∂²h/∂u² = L²·∂²h/∂x²`) and its largest absolute eigenvalue
//!    `κ = |(hxx + hyy) / 2| + √(((hxx − hyy) / 2)² + hxy²)`: creases, ridges, carved
//!    outlines and both lips of a step are large; planes and ramps are exactly zero.
//! 4. Map with a fixed saturating log curve,
//!    `v = round(255 · min(1, ln(1 + κ / κ0) / ln(1 + κ_sat / κ0)))` with
//!    `κ0 = CURVATURE_KNEE = 15` and `κ_sat = CURVATURE_SATURATION = 3000`, so the
//!    class boundaries of Table 1 fall at `κ ≈ 27, 105, 325, 945, 2700`. For scale: a
//!    full-height hemispherical dome of radius `R` (in units of `L`) has `κ = 1 / R²`
//!    at its top, 16 for `R = 1/4` and 400 for `R = 1/20`; a smoothed full-range step
//!    has `κ ≈ 0.24 / (1/256)² ≈ 15 900` on its lips.
//!
//! Because σ and the derivatives both scale with `L`, a 2× downsampled map gives
//! similar values (a step edge saturates at any resolution; a dome's curvature in
//! normalised coordinates does not depend on the pixel count). The value `v` then maps to
//! the six ordered classes of Table 1: `class = min(v / 50, 5)`, `value = 51 · class`.

use crate::grid::Grid;

/// Number of ordered soft-edge classes (Table 1).
pub const EDGE_CLASSES: usize = 6;
/// Number of semantic classes; names in [`SEMANTIC_NAMES`].
pub const SEMANTIC_CLASSES: usize = 4;
/// Semantic class names by id.
pub const SEMANTIC_NAMES: [&str; SEMANTIC_CLASSES] = [
    "background plane",
    "figures",
    "vegetation & ornament",
    "architecture & frames",
];

/// A semantic class; its id (`as u8`, the value in a semantics raster) indexes
/// [`SEMANTIC_NAMES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SemanticClass {
    Background = 0,
    Figure = 1,
    Ornament = 2,
    Architecture = 3,
}

impl SemanticClass {
    pub const ALL: [SemanticClass; SEMANTIC_CLASSES] = [
        SemanticClass::Background,
        SemanticClass::Figure,
        SemanticClass::Ornament,
        SemanticClass::Architecture,
    ];

    /// The value that stands for this class in a semantics raster.
    pub fn id(self) -> u8 {
        self as u8
    }

    pub fn name(self) -> &'static str {
        SEMANTIC_NAMES[self as usize]
    }
}

/// Curvature (height range per squared normalised length) below which values stay near 0.
const CURVATURE_KNEE: f32 = 15.0;
/// Curvature that maps to 255; a smoothed full-range step exceeds it at any resolution.
const CURVATURE_SATURATION: f32 = 3000.0;
/// Pre-smoothing standard deviation as a fraction of the larger image dimension.
const SMOOTHING_FRACTION: f32 = 1.0 / 256.0;

/// Table 1: grey value 0–49 → 0, 50–99 → 1, …, 200–249 → 4, 250–255 → 5.
pub fn edge_class(value: u8) -> u8 {
    (value / 50).min(5)
}

/// Table 1: the grey value that represents a class, `51 · class`.
pub fn edge_class_value(class: u8) -> u8 {
    51 * class.min(5)
}

/// Per-pixel curvature measure mapped to 0–255 (formula in the module doc).
pub fn soft_edge_values(height: &Grid<f32>) -> Grid<u8> {
    let (w, h) = (height.width, height.height);
    if w == 0 || h == 0 {
        return Grid::from_vec(w, h, Vec::new());
    }
    let (lo, hi) = height.min_max();
    let range = hi - lo;
    if range <= 0.0 || !range.is_finite() {
        return Grid::filled(w, h, 0);
    }
    let normalised: Vec<f32> = height.data.iter().map(|&z| (z - lo) / range).collect();
    let length_px = w.max(h) as f32;
    let sigma_px = length_px * SMOOTHING_FRACTION;
    // Smoothed map with a one-pixel odd-reflected border for the Hessian stencil.
    let smooth = smooth_with_border(&normalised, w, h, sigma_px);
    let pw = w + 2;
    let to_normalised = length_px * length_px;
    let log_saturation = (1.0 + CURVATURE_SATURATION / CURVATURE_KNEE).ln();
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        let row = (y + 1) * pw;
        let (up, down) = (row - pw, row + pw);
        for x in 0..w {
            let c = row + x + 1;
            let f = smooth[c];
            let hxx = (smooth[c + 1] - 2.0 * f + smooth[c - 1]) * to_normalised;
            let hyy = (smooth[down + x + 1] - 2.0 * f + smooth[up + x + 1]) * to_normalised;
            let hxy =
                (smooth[down + x + 2] - smooth[up + x + 2] - smooth[down + x] + smooth[up + x]) * 0.25 * to_normalised;
            let half_trace = 0.5 * (hxx + hyy);
            let half_diff = 0.5 * (hxx - hyy);
            let curvature = half_trace.abs() + (half_diff * half_diff + hxy * hxy).sqrt();
            let v = ((1.0 + curvature / CURVATURE_KNEE).ln() / log_saturation).min(1.0);
            out.push((255.0 * v).round() as u8);
        }
    }
    Grid::from_vec(w, h, out)
}

/// Soft-edge classes 0..5 of a height map: [`edge_class`] of [`soft_edge_values`].
pub fn soft_edge_classes(height: &Grid<f32>) -> Grid<u8> {
    soft_edge_values(height).map(edge_class)
}

/// Index of the sample that position `i` (in `-n+1..2n-1`) mirrors, and whether it lies
/// outside `0..n` so that the value must be odd-reflected: `f(i) = 2·f(end) − f(mirror)`.
fn mirror_index(n: usize, i: isize) -> (usize, Option<usize>) {
    if i < 0 {
        (((-i) as usize).min(n - 1), Some(0))
    } else if i as usize >= n {
        ((2 * (n - 1)).saturating_sub(i as usize), Some(n - 1))
    } else {
        (i as usize, None)
    }
}

/// Pads a `w × h` map by `pad` pixels on every side with odd reflection (rows first, then
/// columns), which extends any plane `a + b·x + c·y` exactly.
fn pad_odd(src: &[f32], w: usize, h: usize, pad: usize) -> Vec<f32> {
    let (pw, ph) = (w + 2 * pad, h + 2 * pad);
    let mut out = vec![0.0f32; pw * ph];
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        for i in 0..pw {
            let (m, end) = mirror_index(w, i as isize - pad as isize);
            out[(y + pad) * pw + i] = end.map_or(row[m], |e| 2.0 * row[e] - row[m]);
        }
    }
    for j in (0..pad).chain(h + pad..ph) {
        let (m, end) = mirror_index(h, j as isize - pad as isize);
        let e = end.expect("row outside the map");
        for i in 0..pw {
            out[j * pw + i] = 2.0 * out[(e + pad) * pw + i] - out[(m + pad) * pw + i];
        }
    }
    out
}

/// Separable Gaussian blur of a `w × h` map, returned with a one-pixel border on every
/// side (`(w + 2) × (h + 2)`), the borders extended by odd reflection.
fn smooth_with_border(src: &[f32], w: usize, h: usize, sigma_px: f32) -> Vec<f32> {
    let radius = if sigma_px > 0.05 {
        (3.0 * sigma_px).ceil() as usize
    } else {
        0
    };
    let kernel: Vec<f32> = {
        let r = radius as isize;
        let k: Vec<f32> = (-r..=r)
            .map(|i| (-((i * i) as f32) / (2.0 * sigma_px * sigma_px).max(1e-6)).exp())
            .collect();
        let sum: f32 = k.iter().sum();
        k.iter().map(|v| v / sum).collect()
    };
    let pad = radius + 1;
    let padded = pad_odd(src, w, h, pad);
    let (pw_in, ph_in) = (w + 2 * pad, h + 2 * pad);
    // Horizontal pass keeps every padded row and the columns -1..w+1.
    let pw = w + 2;
    let mut horizontal = vec![0.0f32; pw * ph_in];
    for y in 0..ph_in {
        let row = &padded[y * pw_in..(y + 1) * pw_in];
        for x in 0..pw {
            let window = &row[x + pad - 1 - radius..];
            horizontal[y * pw + x] = kernel.iter().zip(window).map(|(k, v)| k * v).sum();
        }
    }
    // Vertical pass: rows -1..h+1.
    let ph = h + 2;
    let mut out = vec![0.0f32; pw * ph];
    for y in 0..ph {
        let start = y + pad - 1 - radius;
        for (j, k) in kernel.iter().enumerate() {
            let src_row = &horizontal[(start + j) * pw..(start + j + 1) * pw];
            for (o, v) in out[y * pw..(y + 1) * pw].iter_mut().zip(src_row) {
                *o += k * v;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_one_boundaries() {
        let cases = [
            (0, 0),
            (49, 0),
            (50, 1),
            (99, 1),
            (100, 2),
            (149, 2),
            (150, 3),
            (199, 3),
        ];
        for (v, c) in cases.into_iter().chain([(200, 4), (249, 4), (250, 5), (255, 5)]) {
            assert_eq!(edge_class(v), c, "value {v}");
        }
        let values: Vec<u8> = (0..6).map(edge_class_value).collect();
        assert_eq!(values, [0, 51, 102, 153, 204, 255]);
        assert!((0..6).all(|c| edge_class(edge_class_value(c)) == c));
    }

    #[test]
    fn flat_and_ramp_are_class_zero() {
        let flat = Grid::filled(40, 30, 3.5f32);
        assert!(soft_edge_classes(&flat).data.iter().all(|&c| c == 0));
        let ramp = Grid::from_fn(64, 48, |x, y| 0.7 * x as f32 - 0.3 * y as f32 + 5.0);
        assert!(
            soft_edge_values(&ramp).data.iter().all(|&v| v == 0),
            "a plane has no curvature"
        );
    }

    #[test]
    fn step_edge_is_high_on_the_step_and_zero_far_away() {
        for size in [64usize, 128, 256] {
            let step = Grid::from_fn(size, size, |x, _| if x < size / 2 { 0.0 } else { 1.0 });
            let classes = soft_edge_classes(&step);
            let y = size / 3;
            let on_step = classes.get(size / 2 - 1, y).max(classes.get(size / 2, y));
            assert!(on_step >= 4, "size {size}: class {on_step} on the step");
            assert_eq!(classes.get(size / 8, y), 0);
            assert_eq!(classes.get(size - 1 - size / 8, y), 0);
        }
    }

    #[test]
    fn invariant_to_offset_and_positive_scale() {
        let dome = Grid::from_fn(96, 80, |x, y| {
            let (dx, dy) = (x as f32 - 40.0, y as f32 - 45.0);
            (1.0 - (dx * dx + dy * dy) / 900.0).max(0.0).sqrt() + 0.002 * x as f32
        });
        let base = soft_edge_values(&dome);
        let shifted = soft_edge_values(&dome.map(|z| z * 2.5 + 0.75));
        let differing = base
            .data
            .iter()
            .zip(&shifted.data)
            .filter(|(a, b)| a.abs_diff(**b) > 1)
            .count();
        assert_eq!(differing, 0, "values may differ only by float rounding");
        let classes = soft_edge_classes(&dome);
        let shifted_classes = soft_edge_classes(&dome.map(|z| z * 2.5 + 0.75));
        let mismatched = classes
            .data
            .iter()
            .zip(&shifted_classes.data)
            .filter(|(a, b)| a != b)
            .count();
        assert!(mismatched * 1000 <= classes.len(), "{mismatched} class changes");
    }

    #[test]
    fn a_two_times_downsample_gives_similar_classes() {
        let dome = |size: usize| {
            Grid::from_fn(size, size, |x, y| {
                let s = size as f32;
                let (dx, dy) = ((x as f32 + 0.5) / s - 0.5, (y as f32 + 0.5) / s - 0.5);
                (1.0 - (dx * dx + dy * dy) / 0.09).max(0.0).sqrt()
            })
        };
        let fine = soft_edge_classes(&dome(256));
        let coarse = soft_edge_classes(&dome(128));
        let close = (0..128 * 128)
            .filter(|&i| {
                let (x, y) = (i % 128, i / 128);
                fine.get(2 * x, 2 * y).abs_diff(coarse.get(x, y)) <= 1
            })
            .count();
        assert!(
            close as f32 >= 0.95 * (128.0 * 128.0),
            "only {close} of 128² within one class"
        );
    }
}
