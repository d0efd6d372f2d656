//! The app's library side: pure functions and plain data with no egui in them, so a test or a
//! script can do what the GUI does. The photo's apparent light direction
//! ([`estimate_light`]: a least-squares Lambertian fit of luminance over the depth's normals),
//! the relief presets, the heights the 3D preview displaces its grid with
//! ([`preview_heights`]), the hover readout, STL size estimates and the frame-time statistics
//! the debug overlay and the tests report.

use std::collections::VecDeque;
use std::path::Path;

use crate::grid::Grid;
use crate::labels::{EDGE_CLASSES, SEMANTIC_NAMES, edge_class_value};
use crate::layers::Layers;
use crate::relief::ReliefParams;

// ---------------------------------------------------------------------------------------------
// Light direction from the photo

/// The light a photo appears to be lit by, in the relief's mesh frame (x right, y towards the
/// photo's top edge, z up out of the relief).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LightFit {
    /// Direction the light comes from, counter-clockwise from +x (the photo's right edge):
    /// 90° = from the top edge, 180° = from the left. In 0..360.
    pub azimuth_deg: f32,
    /// Angle of the light above the relief's plane, in 0..90.
    pub elevation_deg: f32,
    /// `a` of `luminance ≈ a + b·(n·l)`.
    pub ambient: f32,
    /// `b` of `luminance ≈ a + b·(n·l)`.
    pub strength: f32,
    /// Fraction of the luminance variance the fit explains (R²), over the lit samples used.
    pub r_squared: f32,
    /// Samples the final fit used.
    pub samples: usize,
}

/// Unit surface normal of a height map (mm) at pixel (x, y), in the mesh frame, by central
/// differences. `mm_per_px_x` / `mm_per_px_y` are the pixel pitches. Row 0 is the photo's top,
/// which is the mesh's largest y, so the y slope changes sign.
/// The signed difference to a scan in a diverging map, as unmultiplied sRGB RGBA per
/// pixel: blue where material was lost since the photo, red where some was added, deeper
/// with |difference| (up to the largest, also returned, mm); transparent within
/// `tolerance_mm` and where the scan has no data. The layers view draws it over the layers
/// and the 3D view over the relief's top.
pub fn difference_rgba(difference: &Grid<f32>, tolerance_mm: f32) -> (Vec<[u8; 4]>, f32) {
    let range = crate::compare::largest_difference(difference);
    let pixels = difference
        .data
        .iter()
        .map(|&v| {
            if !v.is_finite() || v.abs() <= tolerance_mm {
                return [0; 4];
            }
            let t = (v.abs() / range).clamp(0.0, 1.0);
            let mix = |a: f32, b: f32| (a + (b - a) * (0.35 + 0.65 * t)) as u8;
            if v < 0.0 {
                [mix(255.0, 30.0), mix(255.0, 80.0), mix(255.0, 220.0), 255]
            } else {
                [mix(255.0, 220.0), mix(255.0, 40.0), mix(255.0, 30.0), 255]
            }
        })
        .collect();
    (pixels, range)
}

pub fn normal_at(height_mm: &Grid<f32>, x: usize, y: usize, mm_per_px_x: f32, mm_per_px_y: f32) -> [f32; 3] {
    let (xi, yi) = (x as isize, y as isize);
    let dz_dx = (height_mm.get_clamped(xi + 1, yi) - height_mm.get_clamped(xi - 1, yi)) / (2.0 * mm_per_px_x);
    // d/d(pixel y) points down the photo; mesh y points up it.
    let dz_dy_mesh = -(height_mm.get_clamped(xi, yi + 1) - height_mm.get_clamped(xi, yi - 1)) / (2.0 * mm_per_px_y);
    let n = [-dz_dx, -dz_dy_mesh, 1.0];
    let length = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
    n.map(|c| c / length)
}

/// Unit vector towards a light at `azimuth_deg` (counter-clockwise from +x) and `elevation_deg`
/// (above the xy plane).
pub fn light_direction(azimuth_deg: f32, elevation_deg: f32) -> [f32; 3] {
    let (az, el) = (azimuth_deg.to_radians(), elevation_deg.to_radians());
    [el.cos() * az.cos(), el.cos() * az.sin(), el.sin()]
}

/// Estimates where the light comes from in a photo of a relief, given the relief's heights.
///
/// Fits `luminance ≈ a + b·(n·l)` (Lambert with an ambient term) by linear least squares in
/// `(a, b·lx, b·ly, b·lz)` over the normals `n` of `height_mm` (same size as `luminance`, in mm,
/// with pixel pitches `mm_per_px_x` × `mm_per_px_y`), then refits twice on the samples the
/// previous fit says are lit (`n·l > 0`), since shadowed pixels do not follow the linear model.
/// Samples are taken on a regular lattice of at most ~200 k pixels, borders excluded. Returns
/// `None` when the grids differ in size, are too small, or the photo shows no shading that the
/// relief explains (`b ≤ 0`).
pub fn estimate_light(
    luminance: &Grid<f32>,
    height_mm: &Grid<f32>,
    mm_per_px_x: f32,
    mm_per_px_y: f32,
) -> Option<LightFit> {
    let (w, h) = (luminance.width, luminance.height);
    if (w, h) != (height_mm.width, height_mm.height) || w < 5 || h < 5 {
        return None;
    }
    let stride = ((((w - 2) * (h - 2)) as f64 / 200_000.0).sqrt().ceil() as usize).max(1);
    let mut samples: Vec<([f64; 4], f64)> = Vec::new();
    for y in (1..h - 1).step_by(stride) {
        for x in (1..w - 1).step_by(stride) {
            let [nx, ny, nz] = normal_at(height_mm, x, y, mm_per_px_x, mm_per_px_y);
            let l = f64::from(luminance.get(x, y));
            if l.is_finite() {
                samples.push(([1.0, f64::from(nx), f64::from(ny), f64::from(nz)], l));
            }
        }
    }
    let mut coefficients = least_squares(samples.iter().map(|s| (&s.0, s.1)))?;
    let mut used = samples.len();
    for _ in 0..2 {
        let [_, p, q, r] = coefficients;
        let b = (p * p + q * q + r * r).sqrt();
        if b <= 1e-9 {
            return None;
        }
        let lit: Vec<&([f64; 4], f64)> = samples
            .iter()
            .filter(|(f, _)| (f[1] * p + f[2] * q + f[3] * r) / b > 0.02)
            .collect();
        if lit.len() < 16 {
            break;
        }
        coefficients = least_squares(lit.iter().map(|s| (&s.0, s.1)))?;
        used = lit.len();
    }
    let [a, p, q, r] = coefficients;
    let b = (p * p + q * q + r * r).sqrt();
    if !(b > 1e-9) {
        return None;
    }
    let (lx, ly, lz) = (p / b, q / b, r / b);
    let azimuth_deg = (ly.atan2(lx).to_degrees() as f32).rem_euclid(360.0);
    let elevation_deg = (lz.clamp(-1.0, 1.0).asin().to_degrees() as f32).clamp(0.0, 90.0);
    // R² over the samples the final fit used.
    let (mut n, mut sum, mut sum2, mut residual2) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (f, l) in &samples {
        let shade = (f[1] * p + f[2] * q + f[3] * r) / b;
        if used < samples.len() && shade <= 0.02 {
            continue;
        }
        let predicted = a + f[1] * p + f[2] * q + f[3] * r;
        n += 1.0;
        sum += l;
        sum2 += l * l;
        residual2 += (l - predicted).powi(2);
    }
    let variance = sum2 - sum * sum / n.max(1.0);
    let r_squared = if variance > 0.0 {
        (1.0 - residual2 / variance) as f32
    } else {
        0.0
    };
    Some(LightFit {
        azimuth_deg,
        elevation_deg,
        ambient: a as f32,
        strength: b as f32,
        r_squared,
        samples: used,
    })
}

/// Solves the 4 × 4 normal equations of `target ≈ features · c` (Gaussian elimination with
/// partial pivoting and a tiny ridge for stability). `None` if they are (nearly) singular, e.g.
/// when every normal is the same.
fn least_squares<'a>(rows: impl Iterator<Item = (&'a [f64; 4], f64)>) -> Option<[f64; 4]> {
    let mut m = [[0.0f64; 5]; 4];
    let mut count = 0usize;
    for (f, t) in rows {
        count += 1;
        for i in 0..4 {
            for j in 0..4 {
                m[i][j] += f[i] * f[j];
            }
            m[i][4] += f[i] * t;
        }
    }
    if count < 4 {
        return None;
    }
    let trace: f64 = (0..4).map(|i| m[i][i]).sum();
    for (i, row) in m.iter_mut().enumerate() {
        row[i] += 1e-12 * trace;
    }
    for col in 0..4 {
        let pivot = (col..4).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-9 * trace.max(1e-300) {
            return None;
        }
        m.swap(col, pivot);
        for row in 0..4 {
            if row != col {
                let factor = m[row][col] / m[col][col];
                for k in col..5 {
                    m[row][k] -= factor * m[col][k];
                }
            }
        }
    }
    let solution = [0, 1, 2, 3].map(|i| m[i][4] / m[i][i]);
    solution.iter().all(|v| v.is_finite()).then_some(solution)
}

// ---------------------------------------------------------------------------------------------
// Relief parameters

/// A named starting point for the relief parameters.
pub struct Preset {
    pub name: &'static str,
    pub hint: &'static str,
    /// The parameters after choosing the preset, from the current ones.
    pub apply: fn(&ReliefParams) -> ReliefParams,
}

/// The presets offered in the relief panel.
pub const PRESETS: [Preset; 3] = [
    Preset {
        name: "Printable bas-relief 150 mm",
        hint: "150 mm wide, 5 mm relief on a 2 mm base, 0.02 mm detail: prints in a few hours on an FDM printer",
        apply: |p| ReliefParams {
            width_mm: 150.0,
            height_mm: None,
            relief_mm: 5.0,
            base_mm: 2.0,
            smoothing_px: 0.5,
            max_error_mm: 0.02,
            ..p.clone()
        },
    },
    Preset {
        name: "Heritage replica 1:1",
        hint: "Life-size carving depth (40 mm on a 15 mm base, 0.1 mm detail); set the width to the panel's measured width",
        apply: |p| ReliefParams {
            width_mm: p.width_mm.max(600.0),
            height_mm: None,
            relief_mm: 40.0,
            base_mm: 15.0,
            smoothing_px: 0.0,
            max_error_mm: 0.1,
            invert: false,
            ..p.clone()
        },
    },
    Preset {
        name: "Lithophane-like thin",
        hint: "A thin 100 mm plate (2.4 mm relief on 0.8 mm) that shows the carving when held against light",
        apply: |p| ReliefParams {
            width_mm: 100.0,
            height_mm: None,
            relief_mm: 2.4,
            base_mm: 0.8,
            smoothing_px: 1.0,
            max_error_mm: 0.01,
            ..p.clone()
        },
    },
];

/// Height of the solid's footprint (mm) when it keeps the depth map's aspect ratio, as
/// `relief::build` computes it: pixel centres span `(width_px − 1) × (height_px − 1)`.
pub fn linked_height_mm(width_mm: f32, width_px: usize, height_px: usize) -> f32 {
    width_mm * (height_px.max(2) - 1) as f32 / (width_px.max(2) - 1) as f32
}

/// The footprint (width, height) in mm of `params` on a `width_px × height_px` depth map.
pub fn footprint_mm(params: &ReliefParams, width_px: usize, height_px: usize) -> [f32; 2] {
    let height = params
        .height_mm
        .unwrap_or_else(|| linked_height_mm(params.width_mm, width_px, height_px));
    [params.width_mm, height]
}

/// Size in bytes of a binary STL of `triangles` triangles (80-byte header, count, 50 per facet).
pub fn binary_stl_bytes(triangles: usize) -> u64 {
    84 + 50 * triangles as u64
}

/// "1.2 MB", "850 kB", "120 B".
pub fn format_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{:.2} GB", b as f64 / 1e9),
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.0} kB", b as f64 / 1e3),
        b => format!("{b} B"),
    }
}

/// "1 234 567" (no-break-space thousands, as in the relief panel).
pub fn format_count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{a0}');
        }
        out.push(c);
    }
    out
}

/// "0.42 s", "2 min 05 s".
pub fn format_secs(secs: f64) -> String {
    if secs < 60.0 {
        format!("{secs:.2} s")
    } else if secs < 3600.0 {
        format!("{} min {:02} s", (secs / 60.0) as u64, (secs % 60.0) as u64)
    } else {
        format!(
            "{} h {:02} min",
            (secs / 3600.0) as u64,
            ((secs % 3600.0) / 60.0) as u64
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The 3D preview's heights

/// Longest side of the height texture the 3D preview displaces its grid with.
pub const PREVIEW_MAX_SIDE_PX: usize = 1024;
/// Most triangles of the preview grid's top surface (the brief's "1 M-triangle relief").
pub const PREVIEW_MAX_TRIANGLES: usize = 1_000_000;

/// The heights the 3D preview shows, in 0..1 (0 on the base top, 1 at the highest point), as
/// `relief::build` maps them before scaling to mm: the depth map area-averaged down to at most
/// `max_side_px` on its longer side, smoothed with the same Gaussian (its σ scaled to the smaller
/// grid), then stretched to 0..1. Invert, mirror and the mm sizes are applied by the shader.
pub fn preview_heights(depth: &Grid<f32>, smoothing_px: f32, max_side_px: usize) -> Grid<f32> {
    let factor = preview_factor(depth, max_side_px);
    let small = preview_grid(depth, max_side_px);
    let sigma = smoothing_px / factor as f32;
    let smooth = if sigma > 0.05 {
        crate::filter::blur(&small, sigma)
    } else {
        small
    };
    smooth.stretched()
}

fn preview_factor(grid: &Grid<f32>, max_side_px: usize) -> usize {
    grid.width.max(grid.height).div_ceil(max_side_px.max(2)).max(1)
}

/// `grid` area-averaged down to the preview's grid (at most `max_side_px` on its longer
/// side), pixel for pixel where [`preview_heights`] puts the depth.
pub fn preview_grid(grid: &Grid<f32>, max_side_px: usize) -> Grid<f32> {
    let factor = preview_factor(grid, max_side_px);
    if factor > 1 {
        box_downsample(grid, factor)
    } else {
        grid.clone()
    }
}

/// Averages `factor × factor` blocks (partial blocks at the right and bottom edges too).
pub fn box_downsample(src: &Grid<f32>, factor: usize) -> Grid<f32> {
    let (w, h) = (src.width.div_ceil(factor).max(2), src.height.div_ceil(factor).max(2));
    Grid::from_fn(w, h, |x, y| {
        let (x0, y0) = ((x * factor).min(src.width - 1), (y * factor).min(src.height - 1));
        let (x1, y1) = ((x0 + factor).min(src.width), (y0 + factor).min(src.height));
        let mut sum = 0.0f32;
        for yy in y0..y1 {
            sum += src.data[yy * src.width + x0..yy * src.width + x1].iter().sum::<f32>();
        }
        sum / ((x1 - x0) * (y1 - y0)) as f32
    })
}

/// Vertices per side of the preview grid for a `width_px × height_px` height texture: every texel
/// when that stays within `max_triangles`, otherwise evenly fewer in both directions.
pub fn preview_grid_size(width_px: usize, height_px: usize, max_triangles: usize) -> [usize; 2] {
    let cells = 2.0 * (width_px.max(2) - 1) as f64 * (height_px.max(2) - 1) as f64;
    let scale = (max_triangles as f64 / cells).sqrt().min(1.0);
    [
        (((width_px - 1) as f64 * scale).floor() as usize + 1).max(2),
        (((height_px - 1) as f64 * scale).floor() as usize + 1).max(2),
    ]
}

// ---------------------------------------------------------------------------------------------
// Hover readout

/// What the inspector reports under the cursor.
#[derive(Clone, Debug, PartialEq)]
pub struct Readout {
    pub x_px: usize,
    pub y_px: usize,
    /// Height of the solid's top surface at this pixel (base included), in mm, as the relief
    /// parameters map the depth (smoothing aside).
    pub height_mm: Option<f32>,
    /// Soft-edge class 0..5.
    pub edge_class: Option<u8>,
    /// Semantic class id 0..3.
    pub semantic: Option<u8>,
}

impl Readout {
    /// One line for the status bar, e.g.
    /// "x 120 y 48 px · 5.31 mm · edge class 3 (153) · figures".
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("x {} y {} px", self.x_px, self.y_px)];
        if let Some(h) = self.height_mm {
            parts.push(format!("height {h:.2} mm"));
        }
        if let Some(c) = self.edge_class {
            parts.push(format!(
                "edge class {c} ({})",
                edge_class_value(c.min(EDGE_CLASSES as u8 - 1))
            ));
        }
        if let Some(s) = self.semantic {
            parts.push(
                SEMANTIC_NAMES
                    .get(usize::from(s))
                    .copied()
                    .unwrap_or("unlabelled")
                    .to_owned(),
            );
        }
        parts.join(" · ")
    }
}

/// Height in mm of the top surface at depth value `d`, for a depth map whose values span
/// `lo..hi` (as `relief::build` maps them).
pub fn height_mm_of(d: f32, (lo, hi): (f32, f32), params: &ReliefParams) -> f32 {
    let range = hi - lo;
    let t = if range > 0.0 {
        if params.invert {
            (hi - d) / range
        } else {
            (d - lo) / range
        }
    } else {
        0.0
    };
    params.base_mm + t * params.relief_mm
}

/// The readout at image pixel (x, y); `None` outside the image.
/// The dabs of a brush stroke from the last dab (`None` at the stroke's start) to `at`:
/// a quarter of the radius apart, so that a fast drag leaves no gaps.
pub fn dabs_towards(last: Option<[f32; 2]>, at: [f32; 2], radius_px: f32) -> Vec<[f32; 2]> {
    let from = last.unwrap_or(at);
    let gap = (radius_px / 4.0).max(0.5);
    let steps = ((at[0] - from[0]).hypot(at[1] - from[1]) / gap).ceil().max(1.0) as usize;
    (usize::from(last.is_some())..=steps)
        .map(|i| {
            let t = i as f32 / steps as f32;
            [from[0] + t * (at[0] - from[0]), from[1] + t * (at[1] - from[1])]
        })
        .collect()
}

/// Where a ray of the 3D view (`eye`, unit `dir`, mm) first meets the relief's top: the
/// depth pixel under it (centres at integers). The top is `top_mm(x, y)` mm above the
/// base top (`base_mm`) at depth pixel (x, y) of a `size_px` map, in the photo's
/// orientation; the solid spans `size_mm` with x to the right and y up the photo, and
/// `mirror` flips x as the view does.
pub fn pick_relief(
    eye: [f32; 3],
    dir: [f32; 3],
    top_mm: &dyn Fn(usize, usize) -> f32,
    size_px: [usize; 2],
    size_mm: [f32; 2],
    base_mm: f32,
    mirror: bool,
) -> Option<[f32; 2]> {
    let [w, h] = size_px;
    if w < 2 || h < 2 || size_mm[0] <= 0.0 || size_mm[1] <= 0.0 {
        return None;
    }
    let to_px = |x: f32, y: f32| {
        let (u, v) = (x / size_mm[0], 1.0 - y / size_mm[1]);
        ((0.0..=1.0).contains(&u) && (0.0..=1.0).contains(&v)).then(|| {
            let u = if mirror { 1.0 - u } else { u };
            [u * (w - 1) as f32, v * (h - 1) as f32]
        })
    };
    let surface = |[px, py]: [f32; 2]| {
        let (x0, y0) = (px.floor() as usize, py.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
        let (fx, fy) = (px - x0 as f32, py - y0 as f32);
        let top = (1.0 - fx) * top_mm(x0, y0) + fx * top_mm(x1, y0);
        let bottom = (1.0 - fx) * top_mm(x0, y1) + fx * top_mm(x1, y1);
        base_mm + (1.0 - fy) * top + fy * bottom
    };
    // Where the ray is over the footprint and above the plate's bottom (z = 0), marched
    // at half a pixel until it is below the top. No upper bound on z: scanning the whole
    // map for its highest point would cost more per frame than the march from the eye.
    let (mut t0, mut t1) = (0.0f32, f32::INFINITY);
    for (axis, (lo, hi)) in [(0.0, size_mm[0]), (0.0, size_mm[1]), (0.0, f32::INFINITY)]
        .into_iter()
        .enumerate()
    {
        if dir[axis].abs() < 1e-12 {
            if eye[axis] < lo || eye[axis] > hi {
                return None;
            }
            continue;
        }
        let (a, b) = ((lo - eye[axis]) / dir[axis], (hi - eye[axis]) / dir[axis]);
        t0 = t0.max(a.min(b));
        t1 = t1.min(a.max(b));
    }
    if t0 > t1 || !t1.is_finite() {
        return None;
    }
    let at = |t: f32| [eye[0] + dir[0] * t, eye[1] + dir[1] * t, eye[2] + dir[2] * t];
    let below = |t: f32| {
        let p = at(t);
        to_px(p[0], p[1]).is_some_and(|px| p[2] <= surface(px))
    };
    let step = 0.5 * (size_mm[0] / (w - 1) as f32).min(size_mm[1] / (h - 1) as f32);
    let (mut before, mut t) = (t0, t0);
    while t <= t1 + step {
        if below(t) {
            let mut after = t;
            for _ in 0..24 {
                let mid = 0.5 * (before + after);
                if below(mid) {
                    after = mid;
                } else {
                    before = mid;
                }
            }
            let p = at(after);
            return to_px(p[0], p[1]);
        }
        before = t;
        t += step;
    }
    None
}

pub fn readout(
    depth: Option<&Grid<f32>>,
    depth_range: (f32, f32),
    layers: Option<&Layers>,
    params: &ReliefParams,
    x: f32,
    y: f32,
    size_px: [usize; 2],
) -> Option<Readout> {
    if !(x >= 0.0 && y >= 0.0 && (x as usize) < size_px[0] && (y as usize) < size_px[1]) {
        return None;
    }
    let (x_px, y_px) = (x as usize, y as usize);
    let at = |w: usize, h: usize| ((x_px * w / size_px[0]).min(w - 1), (y_px * h / size_px[1]).min(h - 1));
    let height_mm = depth.map(|d| {
        let (dx, dy) = at(d.width, d.height);
        height_mm_of(d.get(dx, dy), depth_range, params)
    });
    let edge_class = layers.map(|l| {
        let (ex, ey) = at(l.edges.width, l.edges.height);
        l.edges.get(ex, ey)
    });
    let semantic = layers.map(|l| {
        let (sx, sy) = at(l.semantics.width, l.semantics.height);
        l.semantics.get(sx, sy)
    });
    Some(Readout {
        x_px,
        y_px,
        height_mm,
        edge_class,
        semantic,
    })
}

// ---------------------------------------------------------------------------------------------
// Frame times

/// One frame as the app measured it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameSample {
    /// Seconds since the app started.
    pub at_secs: f64,
    /// Time the app spent in `logic` + `ui` for this frame (its CPU work on the UI thread).
    pub work_ms: f32,
    /// Time since the previous frame began (includes rendering and waiting), when frames follow
    /// each other without idling.
    pub interval_ms: Option<f32>,
    /// Inference or training was running.
    pub busy: bool,
}

/// Summary of a set of frame samples.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FrameSummary {
    pub frames: usize,
    pub mean_ms: f32,
    pub p95_ms: f32,
    pub max_ms: f32,
}

impl FrameSummary {
    fn of(mut values: Vec<f32>) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        values.sort_by(f32::total_cmp);
        let p95 = values[((values.len() as f32 * 0.95).ceil() as usize).clamp(1, values.len()) - 1];
        Self {
            frames: values.len(),
            mean_ms: values.iter().sum::<f32>() / values.len() as f32,
            p95_ms: p95,
            max_ms: *values.last().unwrap_or(&0.0),
        }
    }
}

/// The last frames' timings (a ring of `capacity`).
#[derive(Clone, Debug)]
pub struct FrameStats {
    samples: VecDeque<FrameSample>,
    capacity: usize,
}

impl Default for FrameStats {
    fn default() -> Self {
        Self::with_capacity(600)
    }
}

impl FrameStats {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            samples: VecDeque::with_capacity(capacity),
            capacity: capacity.max(1),
        }
    }

    pub fn push(&mut self, sample: FrameSample) {
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
    }

    pub fn samples(&self) -> impl Iterator<Item = &FrameSample> {
        self.samples.iter()
    }

    pub fn clear(&mut self) {
        self.samples.clear();
    }

    /// Work time summary, over frames while busy (`Some(true)`), idle (`Some(false)`) or all.
    pub fn work(&self, busy: Option<bool>) -> FrameSummary {
        FrameSummary::of(
            self.samples
                .iter()
                .filter(|s| busy.is_none_or(|b| s.busy == b))
                .map(|s| s.work_ms)
                .collect(),
        )
    }

    /// Frame-interval summary over continuously repainted frames, filtered like [`Self::work`].
    pub fn interval(&self, busy: Option<bool>) -> FrameSummary {
        FrameSummary::of(
            self.samples
                .iter()
                .filter(|s| busy.is_none_or(|b| s.busy == b))
                .filter_map(|s| s.interval_ms)
                .collect(),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Files

/// Whether a dropped or opened file should be read as a depth map rather than a photo: its name
/// says so (`…depth….png`, `…height….tif`).
pub fn looks_like_depth_map(path: &Path) -> bool {
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    name.contains("depth") || name.contains("height")
}

/// Whether `path` names a relievo project (by its extension).
pub fn is_project(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(crate::project::EXTENSION))
}

/// Recently opened files, most recent first, without duplicates, at most `max`.
pub fn push_recent(recent: &mut Vec<std::path::PathBuf>, path: &Path, max: usize) {
    recent.retain(|p| p != path);
    recent.insert(0, path.to_path_buf());
    recent.truncate(max);
}

/// An error and its causes on one line (`cannot write x.stl: Permission denied (os error
/// 13)`), as the CLI prints them: a plain `to_string()` drops the OS reason.
pub fn error_chain(e: impl std::error::Error + Send + Sync + 'static) -> String {
    format!("{:#}", anyhow::Error::new(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ray_picks_the_top_of_a_raised_block_and_the_floor_beside_it() {
        // 101 × 51 px over 100 × 50 mm: 1 mm per pixel; a 5 mm block over x 40..60.
        let top = |x: usize, _y: usize| if (40..=60).contains(&x) { 5.0 } else { 0.0 };
        let (eye, size_px, size_mm) = ([50.0, 25.0, 100.0], [101, 51], [100.0, 50.0]);
        // Towards a point of the base top (z = 2 mm).
        let down = |x: f32, y: f32| {
            let d = [x - eye[0], y - eye[1], 2.0 - eye[2]];
            let n = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
            [d[0] / n, d[1] / n, d[2] / n]
        };
        // Straight down onto (50, 25) mm: pixel (50, 25) (y counts down the photo).
        let p = pick_relief(eye, down(50.0, 25.0), &top, size_px, size_mm, 2.0, false).unwrap();
        assert!((p[0] - 50.0).abs() < 0.05 && (p[1] - 25.0).abs() < 0.05, "{p:?}");
        // Aimed at the floor point (70, 40): y = 40 mm is pixel row 10.
        let p = pick_relief(eye, down(70.0, 40.0), &top, size_px, size_mm, 2.0, false).unwrap();
        assert!((p[0] - 70.0).abs() < 0.05 && (p[1] - 10.0).abs() < 0.05, "{p:?}");
        // Mirrored view: the same ray meets the photo's pixel on the other side.
        let p = pick_relief(eye, down(70.0, 40.0), &top, size_px, size_mm, 2.0, true).unwrap();
        assert!((p[0] - 30.0).abs() < 0.05, "{p:?}");
        // A ray past the relief meets nothing.
        assert!(pick_relief(eye, down(300.0, 25.0), &top, size_px, size_mm, 2.0, false).is_none());
    }

    /// A relief of domes and ridges in mm, lit by a known light with Lambert shading (plus
    /// ambient and a little deterministic noise), must give that light back.
    #[test]
    fn light_is_recovered_from_a_synthetic_render() {
        let (w, h) = (160, 120);
        let height_mm = Grid::from_fn(w, h, |x, y| {
            let (xf, yf) = (x as f32, y as f32);
            let dome = 4.0 * (-((xf - 60.0).powi(2) + (yf - 50.0).powi(2)) / 900.0).exp();
            let ridge = 1.5 * (xf * 0.15).sin() * (yf * 0.11).cos();
            dome + ridge + 2.0
        });
        let (mmx, mmy) = (0.5, 0.5);
        for (azimuth, elevation) in [(130.0f32, 35.0f32), (20.0, 50.0), (270.0, 25.0)] {
            let l = light_direction(azimuth, elevation);
            let mut k = 0u32;
            let luminance = Grid::from_fn(w, h, |x, y| {
                let n = normal_at(&height_mm, x, y, mmx, mmy);
                let shade = (n[0] * l[0] + n[1] * l[1] + n[2] * l[2]).max(0.0);
                k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let noise = ((k >> 16) % 1000) as f32 / 1000.0 - 0.5;
                0.12 + 0.75 * shade + 0.01 * noise
            });
            let fit = estimate_light(&luminance, &height_mm, mmx, mmy).expect("a fit");
            let daz = ((fit.azimuth_deg - azimuth + 540.0).rem_euclid(360.0) - 180.0).abs();
            assert!(daz < 2.0, "azimuth {} for {azimuth}: {fit:?}", fit.azimuth_deg);
            assert!(
                (fit.elevation_deg - elevation).abs() < 3.0,
                "elevation {} for {elevation}: {fit:?}",
                fit.elevation_deg
            );
            assert!(
                (fit.ambient - 0.12).abs() < 0.05 && (fit.strength - 0.75).abs() < 0.1,
                "{fit:?}"
            );
            assert!(fit.r_squared > 0.95, "{fit:?}");
        }
    }

    /// The frame convention: a light from the photo's top edge (azimuth 90°) brightens the side of
    /// a dome that faces the top of the photo (small row numbers).
    #[test]
    fn azimuth_90_lights_the_top_of_the_photo() {
        let dome = Grid::from_fn(41, 41, |x, y| {
            5.0 * (-(((x as f32) - 20.0).powi(2) + ((y as f32) - 20.0).powi(2)) / 80.0).exp()
        });
        let l = light_direction(90.0, 30.0);
        let shade = |x, y| {
            let n = normal_at(&dome, x, y, 1.0, 1.0);
            n[0] * l[0] + n[1] * l[1] + n[2] * l[2]
        };
        assert!(shade(20, 14) > shade(20, 26), "upper flank is lit");
    }

    #[test]
    fn flat_photo_gives_no_light() {
        let height = Grid::from_fn(20, 20, |x, _| x as f32 * 0.1);
        let flat = Grid::filled(20, 20, 0.5f32);
        assert!(estimate_light(&flat, &height, 1.0, 1.0).is_none_or(|f| f.strength < 1e-3));
        assert!(estimate_light(&Grid::filled(3, 3, 0.5), &Grid::filled(3, 3, 0.0), 1.0, 1.0).is_none());
    }

    #[test]
    fn preview_heights_span_unit_range_and_fit_the_cap() {
        let depth = Grid::from_fn(3000, 1000, |x, y| (x + y) as f32);
        let p = preview_heights(&depth, 2.0, 1024);
        assert!(p.width <= 1024 && p.height <= 1024, "{}×{}", p.width, p.height);
        let (lo, hi) = p.min_max();
        assert!(lo.abs() < 1e-6 && (hi - 1.0).abs() < 1e-6);
        let [gx, gy] = preview_grid_size(p.width, p.height, PREVIEW_MAX_TRIANGLES);
        assert!(2 * (gx - 1) * (gy - 1) <= PREVIEW_MAX_TRIANGLES);
        assert_eq!(preview_grid_size(100, 50, PREVIEW_MAX_TRIANGLES), [100, 50]);
    }

    #[test]
    fn readout_maps_depth_to_mm_and_names_classes() {
        let depth = Grid::from_fn(4, 2, |x, _| x as f32 / 3.0);
        let layers = Layers {
            depth: depth.clone(),
            edges: Grid::filled(4, 2, 3),
            semantics: Grid::filled(4, 2, 1),
        };
        let params = ReliefParams {
            relief_mm: 6.0,
            base_mm: 2.0,
            ..Default::default()
        };
        let r = readout(Some(&depth), (0.0, 1.0), Some(&layers), &params, 3.2, 1.5, [4, 2]).unwrap();
        assert_eq!((r.x_px, r.y_px, r.edge_class, r.semantic), (3, 1, Some(3), Some(1)));
        assert!((r.height_mm.unwrap() - 8.0).abs() < 1e-5);
        assert!(
            r.describe().contains("figures") && r.describe().contains("(153)"),
            "{}",
            r.describe()
        );
        assert!(readout(Some(&depth), (0.0, 1.0), None, &params, 4.0, 0.0, [4, 2]).is_none());
        let inverted = ReliefParams { invert: true, ..params };
        assert!((height_mm_of(1.0, (0.0, 1.0), &inverted) - 2.0).abs() < 1e-6);
    }

    #[test]
    fn presets_and_sizes() {
        let p = (PRESETS[0].apply)(&ReliefParams::default());
        assert_eq!((p.width_mm, p.relief_mm, p.height_mm), (150.0, 5.0, None));
        assert_eq!(binary_stl_bytes(2), 184);
        assert_eq!(format_bytes(1_500_000), "1.5 MB");
        assert_eq!(format_count(1234567), "1\u{a0}234\u{a0}567");
        assert!((linked_height_mm(150.0, 301, 201) - 100.0).abs() < 1e-4);
    }

    #[test]
    fn frame_stats_summarise_busy_frames() {
        let mut stats = FrameStats::with_capacity(4);
        for (i, ms) in [1.0, 2.0, 30.0, 4.0, 5.0].into_iter().enumerate() {
            stats.push(FrameSample {
                at_secs: i as f64,
                work_ms: ms,
                interval_ms: Some(ms + 1.0),
                busy: i % 2 == 0,
            });
        }
        assert_eq!(stats.work(None).frames, 4, "ring keeps the last 4");
        assert_eq!(stats.work(Some(true)).max_ms, 30.0);
        assert_eq!(stats.interval(Some(false)).max_ms, 5.0);
    }

    #[test]
    fn recent_files_and_names() {
        let mut recent = vec![];
        for p in ["a.png", "b.png", "a.png", "c.png"] {
            push_recent(&mut recent, Path::new(p), 2);
        }
        assert_eq!(recent, [Path::new("c.png"), Path::new("a.png")]);
        assert!(looks_like_depth_map(Path::new("/x/panel_depth.png")));
        assert!(!looks_like_depth_map(Path::new("/x/panel.jpg")));
    }
}
