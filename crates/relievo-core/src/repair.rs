//! Damage repair: fills a marked region of a height map from the relief around it, so
//! that heights *and* slopes continue smoothly across the boundary (biharmonic
//! inpainting: the fill minimises the squared Laplacian, the discrete thin-plate
//! energy). Planes, ramps and paraboloids are filled exactly; curved surfaces such as
//! a sphere cap closely. Optionally a guide (the network's prediction) supplies the
//! detail inside the hole: then the *difference* between the relief and the guide is
//! filled smoothly and the guide's shape is kept.
//!
//! Solved by conjugate gradients on the unknown pixels, coarse to fine: each level
//! starts from the level below it upsampled, so large holes converge in a few
//! hundred iterations. The work is confined to the holes' bounding box plus the two
//! pixels of context the thin-plate energy reads.

use crate::grid::Grid;

/// Why a repair cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepairError {
    #[error("the mask is {mask_w}×{mask_h} px but the depth map is {depth_w}×{depth_h} px")]
    MaskSize {
        mask_w: usize,
        mask_h: usize,
        depth_w: usize,
        depth_h: usize,
    },
    #[error("the guide is {guide_w}×{guide_h} px but the depth map is {depth_w}×{depth_h} px")]
    GuideSize {
        guide_w: usize,
        guide_h: usize,
        depth_w: usize,
        depth_h: usize,
    },
    #[error("the mask marks every pixel as damaged: there is no relief left to fill from")]
    NothingKept,
}

/// Returns `depth` with the pixels where `damaged` is true replaced by the smooth
/// continuation of the rest (or of `depth − guide` added back to `guide`). Pixels
/// outside the mask are returned unchanged, bit for bit.
pub fn fill(depth: &Grid<f32>, damaged: &Grid<bool>, guide: Option<&Grid<f32>>) -> Result<Grid<f32>, RepairError> {
    let (w, h) = (depth.width, depth.height);
    if (damaged.width, damaged.height) != (w, h) {
        return Err(RepairError::MaskSize {
            mask_w: damaged.width,
            mask_h: damaged.height,
            depth_w: w,
            depth_h: h,
        });
    }
    if let Some(g) = guide
        && (g.width, g.height) != (w, h)
    {
        return Err(RepairError::GuideSize {
            guide_w: g.width,
            guide_h: g.height,
            depth_w: w,
            depth_h: h,
        });
    }
    if damaged.data.iter().all(|&d| d) {
        return Err(RepairError::NothingKept);
    }
    let Some((x0, y0, x1, y1)) = bounding_box(damaged, 2) else {
        return Ok(depth.clone());
    };
    // The window: the holes plus two pixels of context (or the image border).
    let (cw, ch) = (x1 - x0, y1 - y0);
    let guide_at = |x: usize, y: usize| guide.map_or(0.0, |g| g.get(x, y));
    let values = Grid::from_fn(cw, ch, |x, y| {
        let (gx, gy) = (x0 + x, y0 + y);
        if damaged.get(gx, gy) {
            0.0
        } else {
            depth.get(gx, gy) - guide_at(gx, gy)
        }
    });
    let unknown = Grid::from_fn(cw, ch, |x, y| damaged.get(x0 + x, y0 + y));
    let filled = solve(&values, &unknown);
    let mut out = depth.clone();
    for y in 0..ch {
        for x in 0..cw {
            if unknown.get(x, y) {
                let (gx, gy) = (x0 + x, y0 + y);
                out.set(gx, gy, filled.get(x, y) + guide_at(gx, gy));
            }
        }
    }
    Ok(out)
}

/// The damaged region of a mask image: white (value > 0.5) = damaged.
pub fn mask_from_image(mask: &Grid<f32>) -> Grid<bool> {
    mask.map(|v| v > 0.5)
}

/// Holes smaller than this many unknowns are solved directly at their own level.
const COARSEST_UNKNOWNS: usize = 1024;
/// Conjugate-gradient iterations per level at most, and the relative residual at
/// which a level stops.
const MAX_ITERATIONS: usize = 2000;
const TOLERANCE: f64 = 1e-6;

/// Minimises Σ (D u)² (D: [`stencil`], a discrete Laplacian) over the pixels marked
/// `unknown`, the others fixed at `values`.
fn solve(values: &Grid<f32>, unknown: &Grid<bool>) -> Grid<f32> {
    let unknowns = unknown.data.iter().filter(|&&u| u).count();
    let mut start = values.clone();
    if unknowns > COARSEST_UNKNOWNS && values.width >= 8 && values.height >= 8 {
        let (coarse_values, coarse_unknown) = halve(values, unknown);
        let coarse = solve(&coarse_values, &coarse_unknown);
        for y in 0..values.height {
            for x in 0..values.width {
                if unknown.get(x, y) {
                    let (cx, cy) = ((x as f32 + 0.5) / 2.0 - 0.5, (y as f32 + 0.5) / 2.0 - 0.5);
                    start.set(x, y, coarse.sample_bilinear(cx, cy));
                }
            }
        }
    } else if unknowns > 0 {
        // First guess: the mean of the known pixels.
        let (sum, n) = values
            .data
            .iter()
            .zip(&unknown.data)
            .filter(|(_, u)| !**u)
            .fold((0.0f64, 0usize), |(s, n), (v, _)| (s + f64::from(*v), n + 1));
        let mean = (sum / n.max(1) as f64) as f32;
        for (v, u) in start.data.iter_mut().zip(&unknown.data) {
            if *u {
                *v = mean;
            }
        }
    }
    conjugate_gradients(start, unknown)
}

/// Halves a level: a coarse pixel is known if all four of its fine pixels are (their
/// mean), unknown otherwise. Odd sizes round up (the last row/column is repeated).
fn halve(values: &Grid<f32>, unknown: &Grid<bool>) -> (Grid<f32>, Grid<bool>) {
    let (w, h) = (values.width.div_ceil(2), values.height.div_ceil(2));
    let fine = |x: usize, y: usize| {
        let (x, y) = (x.min(values.width - 1), y.min(values.height - 1));
        (values.get(x, y), unknown.get(x, y))
    };
    let mut v = Grid::filled(w, h, 0.0f32);
    let mut u = Grid::filled(w, h, false);
    for y in 0..h {
        for x in 0..w {
            let px = [
                fine(2 * x, 2 * y),
                fine(2 * x + 1, 2 * y),
                fine(2 * x, 2 * y + 1),
                fine(2 * x + 1, 2 * y + 1),
            ];
            if px.iter().any(|p| p.1) {
                u.set(x, y, true);
            } else {
                v.set(x, y, px.iter().map(|p| p.0).sum::<f32>() / 4.0);
            }
        }
    }
    (v, u)
}

/// Conjugate gradients on the normal equations restricted to the unknowns,
/// (Dᵀ D u)_i = 0 for every unknown i, starting from `u`.
fn conjugate_gradients(mut u: Grid<f32>, unknown: &Grid<bool>) -> Grid<f32> {
    let op = Operator::new(unknown);
    if op.unknowns.is_empty() {
        return u;
    }
    // f64 throughout: the biharmonic system is badly conditioned.
    let mut x: Vec<f64> = u.data.iter().map(|&v| f64::from(v)).collect();
    let mut r: Vec<f64> = op.apply(&x).iter().map(|v| -v).collect();
    let mut p = r.clone();
    let mut rr: f64 = r.iter().map(|v| v * v).sum();
    let stop = TOLERANCE * TOLERANCE * rr.max(1e-30);
    // The search direction on the whole level, zero on the known pixels.
    let mut dir = vec![0.0f64; x.len()];
    for _ in 0..MAX_ITERATIONS {
        if rr <= stop {
            break;
        }
        for (k, &i) in op.unknowns.iter().enumerate() {
            dir[i] = p[k];
        }
        let ap = op.apply(&dir);
        let pap: f64 = p.iter().zip(&ap).map(|(a, b)| a * b).sum();
        if pap <= 0.0 {
            break;
        }
        let alpha = rr / pap;
        for (k, &i) in op.unknowns.iter().enumerate() {
            x[i] += alpha * p[k];
            r[k] -= alpha * ap[k];
        }
        let rr_new: f64 = r.iter().map(|v| v * v).sum();
        let beta = rr_new / rr;
        rr = rr_new;
        for (pk, rk) in p.iter_mut().zip(&r) {
            *pk = rk + beta * *pk;
        }
    }
    for &i in &op.unknowns {
        u.data[i] = x[i] as f32;
    }
    u
}

/// Dᵀ D restricted to the unknowns. Only the stencils that touch an unknown enter it, so
/// one application costs in proportion to the holes, not to the level: two small holes
/// in opposite corners of a large map make the level as large as the map.
struct Operator {
    /// Pixel index of every unknown.
    unknowns: Vec<usize>,
    /// Per stencil touching an unknown: its (pixel index, weight) entries, and for each
    /// entry the unknown's position in `unknowns` (`usize::MAX` for a known pixel).
    stencils: Vec<Vec<(usize, f64, usize)>>,
}

impl Operator {
    fn new(unknown: &Grid<bool>) -> Self {
        let (w, h) = (unknown.width, unknown.height);
        let unknowns: Vec<usize> = (0..w * h).filter(|&i| unknown.data[i]).collect();
        let mut position = vec![usize::MAX; w * h];
        for (k, &i) in unknowns.iter().enumerate() {
            position[i] = k;
        }
        let mut stencils = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let entries = stencil(x, y, w, h).iter().map(|&(dx, dy, c)| {
                    let i = (y as isize + dy) as usize * w + (x as isize + dx) as usize;
                    (i, c, position[i])
                });
                if entries.clone().any(|e| e.2 != usize::MAX) {
                    stencils.push(entries.collect());
                }
            }
        }
        Self { unknowns, stencils }
    }

    /// (Dᵀ D v) at each unknown, for `v` over the whole level.
    fn apply(&self, v: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.unknowns.len()];
        for entries in &self.stencils {
            let dv: f64 = entries.iter().map(|&(i, c, _)| c * v[i]).sum();
            for &(_, c, k) in entries {
                if k != usize::MAX {
                    out[k] += c * dv;
                }
            }
        }
        out
    }
}

/// The stencil of pixel (x, y) as (neighbour offsets, weights): the 5-point Laplacian
/// inside, the second difference along the edge on a border, nothing at a corner.
/// Every stencil is zero on a plane, so planes are filled exactly up to the border.
fn stencil(x: usize, y: usize, w: usize, h: usize) -> &'static [(isize, isize, f64)] {
    const INSIDE: [(isize, isize, f64); 5] = [(0, 0, -4.0), (-1, 0, 1.0), (1, 0, 1.0), (0, -1, 1.0), (0, 1, 1.0)];
    const ALONG_X: [(isize, isize, f64); 3] = [(0, 0, -2.0), (-1, 0, 1.0), (1, 0, 1.0)];
    const ALONG_Y: [(isize, isize, f64); 3] = [(0, 0, -2.0), (0, -1, 1.0), (0, 1, 1.0)];
    let inner_x = x > 0 && x + 1 < w;
    let inner_y = y > 0 && y + 1 < h;
    match (inner_x, inner_y) {
        (true, true) => &INSIDE,
        (true, false) => &ALONG_X,
        (false, true) => &ALONG_Y,
        (false, false) => &[],
    }
}

/// The smallest box holding every damaged pixel, grown by `margin` and clipped to the
/// grid, as (x0, y0, x1, y1) with x1, y1 exclusive; `None` if nothing is damaged.
fn bounding_box(damaged: &Grid<bool>, margin: usize) -> Option<(usize, usize, usize, usize)> {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..damaged.height {
        for x in 0..damaged.width {
            if damaged.get(x, y) {
                (x0, y0) = (x0.min(x), y0.min(y));
                (x1, y1) = (x1.max(x + 1), y1.max(y + 1));
            }
        }
    }
    (x1 > 0).then(|| {
        (
            x0.saturating_sub(margin),
            y0.saturating_sub(margin),
            (x1 + margin).min(damaged.width),
            (y1 + margin).min(damaged.height),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disc(w: usize, h: usize, cx: f32, cy: f32, r: f32) -> Grid<bool> {
        Grid::from_fn(w, h, |x, y| (x as f32 - cx).hypot(y as f32 - cy) <= r)
    }

    fn max_error(a: &Grid<f32>, b: &Grid<f32>) -> f32 {
        a.data
            .iter()
            .zip(&b.data)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f32::max)
    }

    fn cut(depth: &Grid<f32>, hole: &Grid<bool>) -> Grid<f32> {
        Grid::from_vec(
            depth.width,
            depth.height,
            depth
                .data
                .iter()
                .zip(&hole.data)
                .map(|(&v, &d)| if d { 0.0 } else { v })
                .collect(),
        )
    }

    #[test]
    fn a_hole_in_a_tilted_plane_is_filled_exactly() {
        let plane = Grid::from_fn(120, 90, |x, y| 0.2 + 0.003 * x as f32 + 0.002 * y as f32);
        let hole = disc(120, 90, 50.0, 40.0, 25.0);
        let out = fill(&cut(&plane, &hole), &hole, None).unwrap();
        assert!(max_error(&out, &plane) < 1e-4, "error {}", max_error(&out, &plane));
    }

    #[test]
    fn a_ramp_cut_through_to_the_border_is_filled_exactly() {
        let ramp = Grid::from_fn(100, 60, |x, y| x as f32 / 99.0 - y as f32 / 200.0);
        // A band across the whole height, and the bottom-right corner.
        let hole = Grid::from_fn(100, 60, |x, y| (40..60).contains(&x) || (x > 90 && y > 50));
        let out = fill(&cut(&ramp, &hole), &hole, None).unwrap();
        assert!(max_error(&out, &ramp) < 1e-4, "error {}", max_error(&out, &ramp));
    }

    #[test]
    fn a_hole_in_a_sphere_cap_continues_its_curvature() {
        // Cap of a sphere of radius 100 px, 160 px across; a 16-px hole on its flank.
        let (r, c) = (100.0f32, 80.0f32);
        let cap = Grid::from_fn(160, 160, |x, y| {
            let d2 = (x as f32 - c).powi(2) + (y as f32 - c).powi(2);
            ((r * r - d2).max(0.0).sqrt() - 60.0).max(0.0) / 40.0
        });
        let hole = disc(160, 160, 95.0, 70.0, 16.0);
        let out = fill(&cut(&cap, &hole), &hole, None).unwrap();
        // The cap rises 1.0 over its radius; a flat (membrane) fill would sag by ~0.05.
        let err = max_error(&out, &cap);
        assert!(err < 0.005, "error {err}");
        // A smooth fill, not a plateau at the rim's mean.
        let centre = out.get(95, 70);
        assert!((centre - cap.get(95, 70)).abs() < 0.005);
    }

    #[test]
    fn pixels_outside_the_mask_are_untouched_and_the_guide_gives_the_detail() {
        let (w, h) = (64, 48);
        let base = Grid::from_fn(w, h, |x, y| 0.3 + 0.004 * x as f32 - 0.001 * y as f32);
        // The guide has the right detail inside the hole but a wrong offset and tilt.
        let detail = |x: usize, y: usize| 0.05 * ((x as f32 * 0.7).sin() * (y as f32 * 0.5).cos());
        let truth = Grid::from_fn(w, h, |x, y| base.get(x, y) + detail(x, y));
        let guide = Grid::from_fn(w, h, |x, y| detail(x, y) + 0.1 + 0.001 * x as f32);
        let hole = disc(w, h, 30.0, 24.0, 10.0);
        let damaged = cut(&truth, &hole);
        let out = fill(&damaged, &hole, Some(&guide)).unwrap();
        for i in 0..w * h {
            if !hole.data[i] {
                assert_eq!(out.data[i].to_bits(), damaged.data[i].to_bits());
            }
        }
        assert!(max_error(&out, &truth) < 1e-3, "error {}", max_error(&out, &truth));
    }

    #[test]
    fn bad_masks_give_errors_and_an_empty_mask_changes_nothing() {
        let depth = Grid::from_fn(10, 8, |x, y| (x + y) as f32 / 20.0);
        let small = Grid::filled(9, 8, false);
        assert!(matches!(fill(&depth, &small, None), Err(RepairError::MaskSize { .. })));
        let all = Grid::filled(10, 8, true);
        assert_eq!(fill(&depth, &all, None), Err(RepairError::NothingKept));
        let none = Grid::filled(10, 8, false);
        assert_eq!(fill(&depth, &none, None).unwrap(), depth);
        let guide = Grid::filled(3, 3, 0.0);
        let one = Grid::from_fn(10, 8, |x, y| x == 4 && y == 4);
        assert!(matches!(
            fill(&depth, &one, Some(&guide)),
            Err(RepairError::GuideSize { .. })
        ));
    }
}
