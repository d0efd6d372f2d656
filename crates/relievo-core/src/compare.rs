//! Compare the reconstruction with a present-day scan of the same panel: align the scan to
//! the reconstruction (in-plane rotation, zoom and translation, then the scan's height
//! scale and offset), and measure what was lost or added since the old photo as a signed
//! difference in millimetres with its areas and volumes.
//!
//! The scan is assumed to frame roughly the same area as the photo (within ±15 % in
//! position and zoom and ±12° in rotation). Alignment is a coarse-to-fine search: an
//! exhaustive grid at ~48 px, then local refinement at each finer level up to 512 px.
//! For every candidate the height scale and offset follow in closed form (least
//! squares), so a candidate is scored by the share of the reconstruction's height
//! variance it leaves unexplained. The last fit leaves out the pixels that differ most
//! (damage is exactly what must not pull the fit), so a missing block shows as a loss
//! instead of tilting the whole panel.
//!
//! A scan outside that range, or one the search misplaces, is placed by hand instead:
//! three or more point pairs (a point on the reconstruction and the same point on the
//! scan, [`PointPairs`]) give the rotation, zoom and shift in closed form (2D least-squares
//! similarity, Umeyama's method); by default the heights then refine that placement
//! locally, as they refine the search's. Either way the height scale and offset, the
//! difference and its statistics follow exactly as after the search, and the pairs'
//! residual is reported beside the heights'.

use std::borrow::Cow;

use crate::grid::Grid;

/// Why two height maps cannot be compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompareError {
    #[error("the {which} is {width}×{height} px; comparing needs at least 8×8")]
    TooSmall {
        which: &'static str,
        width: usize,
        height: usize,
    },
    #[error("the scan and the reconstruction do not overlap in any placement tried (±12°, ±15 %)")]
    NoOverlap,
    #[error("the {which} is flat: there is no relief to align")]
    Flat { which: &'static str },
    #[error("placing the scan by hand needs at least 3 point pairs ({pairs} given)")]
    TooFewPairs { pairs: usize },
    #[error("point pairs {first} and {second} have the same point on the {which}: pick points at least 1 px apart")]
    DuplicatePoints {
        which: &'static str,
        first: usize,
        second: usize,
    },
    #[error("the points on the {which} lie on one line: pick them spread out, as the corners of a triangle")]
    CollinearPoints { which: &'static str },
    #[error("point {pair} ({x:.1}, {y:.1}) lies outside the {which} ({width}×{height} px)")]
    PointOutside {
        which: &'static str,
        pair: usize,
        x: f32,
        y: f32,
        width: usize,
        height: usize,
    },
    #[error("placed by the point pairs, the scan covers too little of the reconstruction to compare")]
    PairsMissTheScan,
}

/// A point on the reconstruction and the same point on the scan, in each one's pixels
/// (x right, y down; pixel centres at integers, so the top-left pixel is (0, 0)).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PointPair {
    pub recon_px: [f32; 2],
    pub scan_px: [f32; 2],
}

/// Placing the scan by hand: at least 3 point pairs, not all on one line.
#[derive(Clone, Debug, PartialEq)]
pub struct PointPairs {
    pub pairs: Vec<PointPair>,
    /// Refine the placement the pairs give by the heights (a local search from it, as
    /// after the automatic search): picked points are a pixel or two off, the heights are
    /// dense. Off: exactly the pairs' least-squares placement.
    pub refine: bool,
}

/// How well the point pairs agree with the placement used.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PointsFit {
    pub pairs: usize,
    /// Rms distance, in reconstruction pixels, between each pair's reconstruction point
    /// and where its scan point lands under the placement used.
    pub residual_px: f32,
    /// The same under the pairs' own least-squares placement (before any refinement).
    pub fit_residual_px: f32,
    /// Whether the heights refined the pairs' placement.
    pub refined: bool,
}

/// How the scan was placed onto the reconstruction.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Alignment {
    /// In-plane rotation of the scan, degrees counter-clockwise as seen on screen.
    pub rotation_deg: f32,
    /// In-plane zoom of the scan relative to "same framing" (1 = the same area).
    pub zoom: f32,
    /// Where the scan's centre lands relative to the reconstruction's, in reconstruction
    /// pixels (x right, y down).
    pub shift_px: [f32; 2],
    /// Scan height units → millimetres.
    pub height_scale: f32,
    /// Added after scaling, mm.
    pub height_offset_mm: f32,
    /// Rms of the difference over the pixels counted as unchanged, mm.
    pub residual_mm: f32,
    /// When the scan was placed by point pairs: their residual.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<PointsFit>,
}

/// What was lost and added, over the pixels the scan covers.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DifferenceStats {
    /// Differences within ± this are counted as unchanged, mm.
    pub tolerance_mm: f32,
    pub area_lost_mm2: f64,
    pub volume_lost_mm3: f64,
    pub area_added_mm2: f64,
    pub volume_added_mm3: f64,
    /// Deepest loss (positive), mm; 0 if nothing was lost.
    pub max_loss_mm: f32,
    /// Highest gain, mm; 0 if nothing was added.
    pub max_gain_mm: f32,
    /// Share of the reconstruction's pixels the aligned scan covers.
    pub covered_fraction: f32,
}

#[derive(Clone, Debug)]
pub struct Comparison {
    pub alignment: Alignment,
    /// Scan − reconstruction in mm on the reconstruction's pixels (negative = material
    /// lost since the photo); NaN where the scan does not reach.
    pub difference_mm: Grid<f32>,
    pub stats: DifferenceStats,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CompareOptions {
    /// Differences within ± this count as unchanged; `None` = three times the alignment
    /// residual, and at least 2 % of the reconstruction's height range (resampling a
    /// steep carved edge leaves differences of that order where nothing changed).
    pub tolerance_mm: Option<f32>,
    /// Place the scan by these point pairs instead of the automatic search.
    pub points: Option<PointPairs>,
}

const MAX_ROTATION_DEG: f32 = 12.0;
const MAX_SHIFT: f32 = 0.15;
const MAX_ZOOM: f32 = 1.15;
const COARSE_SIDE: usize = 48;
const FINE_SIDE: usize = 512;
/// Share of covered pixels a placement needs to be considered.
const MIN_COVER: f64 = 0.5;
/// The last fit keeps the pixels whose difference is within this many times the median
/// absolute difference.
const TRIM: f64 = 3.0;

/// In-plane placement searched over: recon pixel p → scan position
/// `c_s + k ⊙ (zoom · R(θ) · (p − c_r − shift))`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Pose {
    theta: f32,
    zoom: f32,
    shift: [f32; 2],
}

/// Both maps at one pyramid level (borrowed where no shrinking was needed).
struct Level<'a> {
    recon: Cow<'a, Grid<f32>>,
    scan: Cow<'a, Grid<f32>>,
    /// Share of the reconstruction's pixels a placement must cover to be scored.
    min_cover: f64,
}

impl<'a> Level<'a> {
    fn new(recon: &'a Grid<f32>, scan: &'a Grid<f32>, side: usize, min_cover: f64) -> Self {
        Self {
            recon: shrink(recon, side),
            // The scan at the same longest side (never enlarged): the pose maps pixels by
            // the two grids' size ratio, so a scan coarser or finer than the photo works alike.
            scan: shrink(scan, side),
            min_cover,
        }
    }

    /// Both maps at full resolution.
    fn full(recon: &'a Grid<f32>, scan: &'a Grid<f32>, min_cover: f64) -> Self {
        Self {
            recon: Cow::Borrowed(recon),
            scan: Cow::Borrowed(scan),
            min_cover,
        }
    }
}

fn shrink(g: &Grid<f32>, side: usize) -> Cow<'_, Grid<f32>> {
    let f = g.width.max(g.height) as f32 / side as f32;
    if f <= 1.0 {
        return Cow::Borrowed(g);
    }
    let w = ((g.width as f32 / f).round() as usize).max(2);
    let h = ((g.height as f32 / f).round() as usize).max(2);
    // NaN (no scan) stays NaN near holes; the blur only softens covered parts.
    let covered = g.map(|v| if v.is_nan() { 0.0 } else { 1.0 });
    let filled = g.map(|v| if v.is_nan() { 0.0 } else { v });
    let sigma = ((f * f - 1.0).max(0.0) / 6.0).sqrt();
    let (filled, covered) = if sigma > 0.3 {
        (
            crate::filter::blur(&filled, sigma),
            crate::filter::blur(&covered, sigma),
        )
    } else {
        (filled, covered)
    };
    let (filled, covered) = (filled.resized(w, h), covered.resized(w, h));
    Cow::Owned(Grid::from_fn(w, h, |x, y| {
        let c = covered.get(x, y);
        if c > 0.99 { filled.get(x, y) / c } else { f32::NAN }
    }))
}

/// Bilinear sample that is NaN outside the grid or next to a NaN.
fn sample(g: &Grid<f32>, x: f32, y: f32) -> f32 {
    if !(x >= 0.0 && y >= 0.0 && x <= (g.width - 1) as f32 && y <= (g.height - 1) as f32) {
        return f32::NAN;
    }
    g.sample_bilinear(x, y)
}

/// Scan positions of every reconstruction pixel under `pose`, visited with the recon value.
fn for_each_pair(level: &Level, pose: Pose, mut f: impl FnMut(usize, f64, f64)) {
    let (r, s) = (&*level.recon, &*level.scan);
    let Sizes {
        centre_recon: cr,
        centre_scan: cs,
        k,
        unit,
        ..
    } = Sizes::of(r, s);
    let (sin, cos) = pose.theta.sin_cos();
    for y in 0..r.height {
        for x in 0..r.width {
            let px = x as f32 - cr[0] - pose.shift[0] * unit;
            let py = y as f32 - cr[1] - pose.shift[1] * unit;
            // Counter-clockwise on screen (y down) is clockwise in (x, y).
            let qx = pose.zoom * (cos * px + sin * py);
            let qy = pose.zoom * (-sin * px + cos * py);
            let v = sample(s, cs[0] + k[0] * qx, cs[1] + k[1] * qy);
            if v.is_finite() {
                f(y * r.width + x, v as f64, r.data[y * r.width + x] as f64);
            }
        }
    }
}

/// Least-squares `a·scan + b ≈ recon` over the pairs `keep` accepts; returns (a, b,
/// unexplained share of the recon variance, covered share).
fn fit(level: &Level, pose: Pose, keep: Option<&dyn Fn(usize, f64, f64) -> bool>) -> Option<(f64, f64, f64, f64)> {
    let (mut n, mut ss, mut sr, mut sss, mut ssr, mut srr) = (0f64, 0f64, 0f64, 0f64, 0f64, 0f64);
    let mut covered = 0f64;
    for_each_pair(level, pose, |i, s, r| {
        covered += 1.0;
        if keep.is_none_or(|k| k(i, s, r)) {
            n += 1.0;
            ss += s;
            sr += r;
            sss += s * s;
            ssr += s * r;
            srr += r * r;
        }
    });
    let total = level.recon.len() as f64;
    if covered < level.min_cover * total || n < 16.0 {
        return None;
    }
    let var_s = sss - ss * ss / n;
    let var_r = srr - sr * sr / n;
    let cov = ssr - ss * sr / n;
    if var_s <= 1e-12 || var_r <= 1e-12 {
        return None;
    }
    let a = cov / var_s;
    if a <= 0.0 {
        return None;
    }
    let b = (sr - a * ss) / n;
    let unexplained = (1.0 - cov * cov / (var_s * var_r)).max(0.0);
    Some((a, b, unexplained, covered / total))
}

/// Share of the reconstruction's height variance a pose leaves unexplained. In the coarse
/// search a tenth more for every pixel the scan does not reach, so that a small chance
/// overlap does not beat the true, larger one; the refinement then scores the fit alone,
/// so a scan framed a little tighter than the photo is not pulled to a wrong zoom to
/// cover every pixel.
fn score(level: &Level, pose: Pose, coarse: bool) -> f64 {
    fit(level, pose, None).map_or(f64::INFINITY, |(_, _, u, covered)| {
        if coarse {
            u * covered + UNCOVERED_COST * (1.0 - covered)
        } else {
            u
        }
    })
}

const UNCOVERED_COST: f64 = 0.1;

/// Aligns `scan` to `recon_mm` (heights in mm, `mm_per_px` apart) and returns the signed
/// difference with its statistics. Scan heights may be in any unit (a 16-bit depth map,
/// a float TIFF, a mesh projected to a heightfield); NaN marks pixels without data. The
/// placement is searched for, or given by `opts.points`.
pub fn compare(
    recon_mm: &Grid<f32>,
    mm_per_px: f32,
    scan: &Grid<f32>,
    opts: &CompareOptions,
) -> Result<Comparison, CompareError> {
    for (which, g) in [("reconstruction", recon_mm), ("scan", scan)] {
        if g.width < 8 || g.height < 8 {
            return Err(CompareError::TooSmall {
                which,
                width: g.width,
                height: g.height,
            });
        }
        let (lo, hi) = g
            .data
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        if !(hi > lo) {
            return Err(CompareError::Flat { which });
        }
    }
    match &opts.points {
        None => {
            let pose = search(recon_mm, scan)?;
            measure(recon_mm, mm_per_px, scan, pose, MIN_COVER, opts, None).ok_or(CompareError::NoOverlap)
        }
        Some(points) => {
            let sizes = Sizes::of(recon_mm, scan);
            let (pairs_pose, fit_residual_px) = pose_from_pairs(&points.pairs, &sizes)?;
            // By hand the scan may cover only a part of the reconstruction (a fragment);
            // the refinement may not shrink what it covers below half of that.
            let mut covered = 0usize;
            for_each_pair(&Level::full(recon_mm, scan, 0.0), pairs_pose, |_, _, _| covered += 1);
            let min_cover = (0.5 * covered as f64 / recon_mm.len() as f64).min(MIN_COVER);
            let pose = if points.refine {
                let side = recon_mm.width.max(recon_mm.height) as f32;
                let steps = (0.25f32.to_radians(), 0.005, 1.0 / side.min(256.0));
                refine(recon_mm, scan, pairs_pose, POINTS_FIRST_SIDE, steps, min_cover)
            } else {
                pairs_pose
            };
            let fit = PointsFit {
                pairs: points.pairs.len(),
                residual_px: pairs_residual_px(pose, &points.pairs, &sizes),
                fit_residual_px,
                refined: points.refine,
            };
            measure(recon_mm, mm_per_px, scan, pose, min_cover, opts, Some(fit)).ok_or(CompareError::PairsMissTheScan)
        }
    }
}

/// The automatic placement: an exhaustive coarse search, then the local refinement.
fn search(recon_mm: &Grid<f32>, scan: &Grid<f32>) -> Result<Pose, CompareError> {
    // Coarse: every pose on a grid at ~48 px.
    let coarse = Level::new(recon_mm, scan, COARSE_SIDE, MIN_COVER);
    let shift_step = 1.0 / coarse.recon.width.max(coarse.recon.height) as f32;
    let steps = |max: f32, step: f32| {
        let n = (max / step).round() as i32;
        (-n..=n).map(move |i| i as f32 * step)
    };
    let mut best = (
        f64::INFINITY,
        Pose {
            theta: 0.0,
            zoom: 1.0,
            shift: [0.0; 2],
        },
    );
    for theta_deg in steps(MAX_ROTATION_DEG, 1.5) {
        for zoom_log in steps(MAX_ZOOM.ln(), 0.03) {
            for sx in steps(MAX_SHIFT, shift_step) {
                for sy in steps(MAX_SHIFT, shift_step) {
                    let pose = Pose {
                        theta: theta_deg.to_radians(),
                        zoom: zoom_log.exp(),
                        shift: [sx, sy],
                    };
                    let s = score(&coarse, pose, true);
                    if s < best.0 {
                        best = (s, pose);
                    }
                }
            }
        }
    }
    if !best.0.is_finite() {
        return Err(CompareError::NoOverlap);
    }
    let steps = (0.75f32.to_radians(), 0.015f32, shift_step / 2.0);
    Ok(refine(recon_mm, scan, best.1, COARSE_SIDE * 2, steps, MIN_COVER))
}

/// The first level of the refinement from point pairs (their placement is already close).
const POINTS_FIRST_SIDE: usize = 128;

/// Local search from `pose` at each level from `first_side` up to 512 px, the steps
/// (rotation rad, relative zoom, shift in longest sides) halving after each climb.
fn refine(
    recon_mm: &Grid<f32>,
    scan: &Grid<f32>,
    mut pose: Pose,
    first_side: usize,
    (mut d_theta, mut d_zoom, mut d_shift): (f32, f32, f32),
    min_cover: f64,
) -> Pose {
    let mut side = first_side;
    let recon_side = recon_mm.width.max(recon_mm.height);
    loop {
        let side_here = side.min(FINE_SIDE).min(recon_side);
        let level = Level::new(recon_mm, scan, side_here, min_cover);
        // Two climbs per level: on every pixel, then only on the pixels the first left
        // unchanged (within TRIM × the median difference), so damage does not pull the pose.
        for pass in 0..2 {
            let mask = if pass == 1 { unchanged_mask(&level, pose) } else { None };
            let score = |pose: Pose| match &mask {
                Some(mask) => {
                    fit(&level, pose, Some(&|i: usize, _: f64, _: f64| mask[i])).map_or(f64::INFINITY, |f| f.2)
                }
                None => score(&level, pose, false),
            };
            let mut current = score(pose);
            let mut improved = true;
            while improved {
                improved = false;
                for (dt, dz, dx, dy) in neighbours(d_theta, d_zoom, d_shift) {
                    let candidate = Pose {
                        theta: pose.theta + dt,
                        zoom: pose.zoom * (1.0 + dz),
                        shift: [pose.shift[0] + dx, pose.shift[1] + dy],
                    };
                    let s = score(candidate);
                    if s < current {
                        (current, pose, improved) = (s, candidate, true);
                    }
                }
            }
            d_theta /= 2.0;
            d_zoom /= 2.0;
            d_shift /= 2.0;
        }
        if side_here >= FINE_SIDE.min(recon_side) {
            return pose;
        }
        side *= 2;
    }
}

/// At full resolution under `pose`: fits the heights, then again without the pixels that
/// changed most, and measures the difference. `None` if the scan covers too little.
fn measure(
    recon_mm: &Grid<f32>,
    mm_per_px: f32,
    scan: &Grid<f32>,
    pose: Pose,
    min_cover: f64,
    opts: &CompareOptions,
    points: Option<PointsFit>,
) -> Option<Comparison> {
    let full = Level::full(recon_mm, scan, min_cover);
    let (a, b, _, _) = fit(&full, pose, None)?;
    let mut abs_diff = Vec::new();
    for_each_pair(&full, pose, |_, s, r| abs_diff.push((a * s + b - r).abs()));
    abs_diff.sort_by(f64::total_cmp);
    let limit = (TRIM * abs_diff[abs_diff.len() / 2]).max(1e-9);
    let keep = move |_: usize, s: f64, r: f64| (a * s + b - r).abs() <= limit;
    let (a, b, _, covered) = fit(&full, pose, Some(&keep)).unwrap_or((a, b, 0.0, 1.0));

    let mut difference = Grid::filled(recon_mm.width, recon_mm.height, f32::NAN);
    for_each_pair(&full, pose, |i, s, r| difference.data[i] = (a * s + b - r) as f32);
    let unchanged: Vec<f64> = difference
        .data
        .iter()
        .filter(|d| d.is_finite() && (**d as f64).abs() <= limit)
        .map(|&d| d as f64)
        .collect();
    let residual = (unchanged.iter().map(|d| d * d).sum::<f64>() / unchanged.len().max(1) as f64).sqrt() as f32;
    let (lo, hi) = recon_mm.min_max();
    let tolerance = opts.tolerance_mm.unwrap_or((3.0 * residual).max(0.02 * (hi - lo)));
    let stats = statistics(&difference, mm_per_px, tolerance, covered as f32);
    let recon_side = recon_mm.width.max(recon_mm.height);
    Some(Comparison {
        alignment: Alignment {
            rotation_deg: pose.theta.to_degrees(),
            zoom: pose.zoom,
            shift_px: pose.shift.map(|s| s * recon_side as f32),
            height_scale: a as f32,
            height_offset_mm: b as f32,
            residual_mm: residual,
            points,
        },
        difference_mm: difference,
        stats,
    })
}

/// The frames a pose maps between: centres, the scan's pixels per reconstruction pixel
/// along x and y, and the shift's unit (the reconstruction's longest side, so that a shift
/// means the same at every level).
struct Sizes {
    recon: [usize; 2],
    scan: [usize; 2],
    centre_recon: [f32; 2],
    centre_scan: [f32; 2],
    k: [f32; 2],
    unit: f32,
}

impl Sizes {
    fn of(recon: &Grid<f32>, scan: &Grid<f32>) -> Self {
        let (r, s) = ([recon.width, recon.height], [scan.width, scan.height]);
        Self {
            recon: r,
            scan: s,
            centre_recon: r.map(|v| (v - 1) as f32 / 2.0),
            centre_scan: s.map(|v| (v - 1) as f32 / 2.0),
            k: [0, 1].map(|i| (s[i] - 1) as f32 / (r[i] - 1) as f32),
            unit: r[0].max(r[1]) as f32,
        }
    }

    /// A scan pixel back on the reconstruction under `pose` (the inverse of [`for_each_pair`]'s map).
    fn scan_to_recon(&self, pose: Pose, q: [f32; 2]) -> [f32; 2] {
        let qx = (q[0] - self.centre_scan[0]) / self.k[0] / pose.zoom;
        let qy = (q[1] - self.centre_scan[1]) / self.k[1] / pose.zoom;
        let (sin, cos) = pose.theta.sin_cos();
        // Rᵀ of `for_each_pair`'s R = [[cos, sin], [−sin, cos]].
        [
            self.centre_recon[0] + pose.shift[0] * self.unit + cos * qx - sin * qy,
            self.centre_recon[1] + pose.shift[1] * self.unit + sin * qx + cos * qy,
        ]
    }
}

/// Rms distance (reconstruction px) between each pair's reconstruction point and its scan
/// point mapped back by `pose`.
fn pairs_residual_px(pose: Pose, pairs: &[PointPair], sizes: &Sizes) -> f32 {
    let sum: f32 = pairs
        .iter()
        .map(|p| {
            let back = sizes.scan_to_recon(pose, p.scan_px);
            (back[0] - p.recon_px[0]).powi(2) + (back[1] - p.recon_px[1]).powi(2)
        })
        .sum();
    (sum / pairs.len().max(1) as f32).sqrt()
}

/// The similarity (rotation, zoom, shift) that best maps the pairs' reconstruction points
/// onto their scan points in the least-squares sense (Umeyama 1991, in 2D: closed form), as
/// a [`Pose`], and its rms residual in reconstruction px. Checks the pairs first: at least
/// three, inside their images, no point twice, not all on one line.
fn pose_from_pairs(pairs: &[PointPair], sizes: &Sizes) -> Result<(Pose, f32), CompareError> {
    if pairs.len() < 3 {
        return Err(CompareError::TooFewPairs { pairs: pairs.len() });
    }
    let sides: [(&'static str, [usize; 2], Vec<[f32; 2]>); 2] = [
        (
            "reconstruction",
            sizes.recon,
            pairs.iter().map(|p| p.recon_px).collect(),
        ),
        ("scan", sizes.scan, pairs.iter().map(|p| p.scan_px).collect()),
    ];
    for (which, [width, height], points) in &sides {
        for (i, &[x, y]) in points.iter().enumerate() {
            let inside = x >= -0.5 && y >= -0.5 && x <= *width as f32 - 0.5 && y <= *height as f32 - 0.5;
            if !inside {
                return Err(CompareError::PointOutside {
                    which,
                    pair: i + 1,
                    x,
                    y,
                    width: *width,
                    height: *height,
                });
            }
            if let Some(j) = points[..i].iter().position(|q| (q[0] - x).hypot(q[1] - y) < 1.0) {
                return Err(CompareError::DuplicatePoints {
                    which,
                    first: j + 1,
                    second: i + 1,
                });
            }
        }
        if thinness(points) < 0.05 {
            return Err(CompareError::CollinearPoints { which });
        }
    }
    // In the pose's frames: p' = p − c_r, q' = (q − c_s) / k, and q' ≈ s·Rot(φ)·p' + b.
    let p: Vec<[f64; 2]> = sides[0]
        .2
        .iter()
        .map(|p| [0, 1].map(|i| (p[i] - sizes.centre_recon[i]) as f64))
        .collect();
    let q: Vec<[f64; 2]> = sides[1]
        .2
        .iter()
        .map(|q| [0, 1].map(|i| ((q[i] - sizes.centre_scan[i]) / sizes.k[i]) as f64))
        .collect();
    let n = pairs.len() as f64;
    let mean = |v: &[[f64; 2]]| [0, 1].map(|i| v.iter().map(|p| p[i]).sum::<f64>() / n);
    let (mp, mq) = (mean(&p), mean(&q));
    let (mut dot, mut cross, mut spread) = (0.0, 0.0, 0.0);
    for (p, q) in p.iter().zip(&q) {
        let (px, py, qx, qy) = (p[0] - mp[0], p[1] - mp[1], q[0] - mq[0], q[1] - mq[1]);
        dot += px * qx + py * qy;
        cross += px * qy - py * qx;
        spread += px * px + py * py;
    }
    let phi = cross.atan2(dot);
    let zoom = dot.hypot(cross) / spread;
    let (sin, cos) = phi.sin_cos();
    let b = [
        mq[0] - zoom * (cos * mp[0] - sin * mp[1]),
        mq[1] - zoom * (sin * mp[0] + cos * mp[1]),
    ];
    // q' = zoom·Rot(φ)·(p' − t) with t = −Rot(−φ)·b / zoom; the pose's R(θ) is Rot(−θ).
    let t = [-(cos * b[0] + sin * b[1]) / zoom, -(-sin * b[0] + cos * b[1]) / zoom];
    let pose = Pose {
        theta: -phi as f32,
        zoom: zoom as f32,
        shift: t.map(|v| (v / sizes.unit as f64) as f32),
    };
    Ok((pose, pairs_residual_px(pose, pairs, sizes)))
}

/// How far points spread across their best line relative to along it (√ of the ratio of
/// their covariance's eigenvalues): 0 on one line, 1 for a round cloud.
fn thinness(points: &[[f32; 2]]) -> f32 {
    let n = points.len() as f32;
    let m = [0, 1].map(|i| points.iter().map(|p| p[i]).sum::<f32>() / n);
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for p in points {
        let (x, y) = (p[0] - m[0], p[1] - m[1]);
        sxx += x * x;
        sxy += x * y;
        syy += y * y;
    }
    let half_trace = (sxx + syy) / 2.0;
    let root = (((sxx - syy) / 2.0).powi(2) + sxy * sxy).sqrt();
    let (small, large) = (half_trace - root, half_trace + root);
    if large <= 0.0 {
        return 0.0;
    }
    (small.max(0.0) / large).sqrt()
}

/// Per reconstruction pixel of `level`: whether the fitted scan stays within `TRIM` × the
/// median absolute difference at `pose` (pixels the scan misses count as changed).
fn unchanged_mask(level: &Level, pose: Pose) -> Option<Vec<bool>> {
    let (a, b, _, _) = fit(level, pose, None)?;
    let mut diff = vec![f64::NAN; level.recon.len()];
    for_each_pair(level, pose, |i, s, r| diff[i] = (a * s + b - r).abs());
    let mut sorted: Vec<f64> = diff.iter().copied().filter(|d| d.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let limit = (TRIM * sorted[sorted.len() / 2]).max(1e-9);
    Some(diff.into_iter().map(|d| d <= limit).collect())
}

/// The 80 moves of one step along any of the four pose axes (and their combinations).
fn neighbours(dt: f32, dz: f32, ds: f32) -> impl Iterator<Item = (f32, f32, f32, f32)> {
    let m = [-1.0f32, 0.0, 1.0];
    m.into_iter().flat_map(move |a| {
        m.into_iter().flat_map(move |b| {
            m.into_iter().flat_map(move |c| {
                m.into_iter()
                    .filter(move |&d| (a, b, c, d) != (0.0, 0.0, 0.0, 0.0))
                    .map(move |d| (a * dt, b * dz, c * ds, d * ds))
            })
        })
    })
}

fn statistics(difference: &Grid<f32>, mm_per_px: f32, tolerance_mm: f32, covered_fraction: f32) -> DifferenceStats {
    let pixel_mm2 = (mm_per_px as f64).powi(2);
    let mut stats = DifferenceStats {
        tolerance_mm,
        area_lost_mm2: 0.0,
        volume_lost_mm3: 0.0,
        area_added_mm2: 0.0,
        volume_added_mm3: 0.0,
        max_loss_mm: 0.0,
        max_gain_mm: 0.0,
        covered_fraction,
    };
    for &d in difference.data.iter().filter(|d| d.is_finite()) {
        if d < -tolerance_mm {
            stats.area_lost_mm2 += pixel_mm2;
            stats.volume_lost_mm3 += -d as f64 * pixel_mm2;
            stats.max_loss_mm = stats.max_loss_mm.max(-d);
        } else if d > tolerance_mm {
            stats.area_added_mm2 += pixel_mm2;
            stats.volume_added_mm3 += d as f64 * pixel_mm2;
            stats.max_gain_mm = stats.max_gain_mm.max(d);
        }
    }
    stats
}

/// The largest |difference| where the scan has data, mm (at least 1e-6: a scale).
pub fn largest_difference(difference: &Grid<f32>) -> f32 {
    difference
        .data
        .iter()
        .filter(|d| d.is_finite())
        .fold(0f32, |m, d| m.max(d.abs()))
        .max(1e-6)
}

/// The difference mapped to 0..1 for a 16-bit PNG ([`crate::export::write_png16`]):
/// 0.5 (32768) = unchanged, 0 and 1 = ∓`range_mm`, and 0 also where the scan has no
/// data. Returns the map and `range_mm`, the largest |difference|.
pub fn difference_unit(difference: &Grid<f32>) -> (Grid<f32>, f32) {
    let range = largest_difference(difference);
    let unit = difference.map(|d| if d.is_finite() { 0.5 + 0.5 * d / range } else { 0.0 });
    (unit, range)
}

/// Writes a comparison as `out` (16-bit PNG: 32768 = unchanged, ± 32767 = ± the range
/// in mm, 0 = no scan) and its summary beside it (`out` with `.json`: alignment,
/// lost and added areas and volumes, the PNG's range), both atomically; the CLI and
/// the app write the same files. Returns the summary's text.
pub fn write_difference(
    c: &Comparison,
    reconstruction: &std::path::Path,
    scan: &std::path::Path,
    out: &std::path::Path,
) -> Result<String, crate::export::ExportError> {
    let (unit, range_mm) = difference_unit(&c.difference_mm);
    let summary = serde_json::json!({
        "reconstruction": reconstruction,
        "scan": scan,
        "alignment": c.alignment,
        "difference": c.stats,
        "difference_png": {
            "path": out,
            "zero": 32768,
            "range_mm": range_mm,
            "meaning": "value = 32768 + difference_mm / range_mm * 32767; 0 = no scan data",
        },
    });
    let text = serde_json::to_string_pretty(&summary).expect("the summary serialises");
    crate::export::write_png16(&unit, out)?;
    crate::export::atomic_write(&out.with_extension("json"), |w| w.write_all(text.as_bytes()))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel(w: usize, h: usize) -> Grid<f32> {
        // Two raised discs and a ridge on a gently tilted plane, in mm.
        Grid::from_fn(w, h, |x, y| {
            let (x, y) = (x as f32, y as f32);
            let disc = |cx: f32, cy: f32, r: f32| {
                let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
                (1.0 - (d / r).powi(2)).max(0.0).sqrt()
            };
            0.01 * x
                + 3.0 * disc(60.0, 50.0, 25.0)
                + 2.0 * disc(130.0, 80.0, 30.0)
                + 1.5 * (-((y - 0.4 * x - 100.0) / 6.0).powi(2)).exp()
        })
    }

    #[test]
    fn an_identical_scan_aligns_at_rest_and_shows_no_change() {
        let recon = panel(200, 150);
        let scan = recon.map(|v| 1000.0 * v + 7.0);
        let c = compare(&recon, 0.5, &scan, &CompareOptions::default()).unwrap();
        let a = &c.alignment;
        assert!(a.rotation_deg.abs() < 0.2 && (a.zoom - 1.0).abs() < 0.005, "{a:?}");
        assert!(a.shift_px[0].abs() < 0.3 && a.shift_px[1].abs() < 0.3, "{a:?}");
        assert!((a.height_scale - 0.001).abs() < 1e-5, "{a:?}");
        assert!(
            c.stats.area_lost_mm2 == 0.0 && c.stats.area_added_mm2 == 0.0,
            "{:?}",
            c.stats
        );
    }
}
