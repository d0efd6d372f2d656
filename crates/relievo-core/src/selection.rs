//! Selections over the depth map for the hand edits: a soft mask (1 inside, 0 outside,
//! in between at a feathered edge) made from a lasso polygon or by "magic" from a class
//! map (the connected region of the semantic or soft-edge class under the cursor), then
//! grown, shrunk (exact Euclidean distances) or feathered. [`SelectionOp`]s change the
//! relief under it through [`crate::edit::EditLayer::apply_selection`], one undo step each.

use serde::{Deserialize, Serialize};

use crate::filter::blur;
use crate::grid::Grid;

/// Pixels with at least this weight count as selected for grow, shrink, inflate and
/// the counts.
const INSIDE: f32 = 0.5;

#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    /// Weight per depth pixel, 0..1.
    mask: Grid<f32>,
    /// Pixels with weight ≥ ½, counted once (the app shows it every frame).
    count: usize,
}

/// What an operation on a selection does to the edited surface inside it (weighted by
/// the mask).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum SelectionOp {
    /// Raise (or lower, if negative) by this many mm.
    Offset { mm: f32 },
    /// Scale the heights above the selection's lowest point by this factor.
    ScaleHeight { factor: f32 },
    /// Level to the selection's mean height.
    Flatten,
    /// Smooth the surface over about this radius (px).
    Smooth { radius_px: f32 },
    /// A carving grown from the selection's outline: rises from 0 at the edge to
    /// `height_mm` at `width_px` inside, with the given profile.
    Inflate {
        height_mm: f32,
        width_px: f32,
        profile: Profile,
    },
    /// Take the hand edits away (heights, damage marks, restoration marks).
    Clear,
}

/// Cross-section of an inflated carving, from the outline (t = 0) to its full height (t = 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Profile {
    /// A quarter circle: steep at the edge, flat on top (a rounded moulding).
    Round,
    /// Smooth at both ends (a cushion).
    Pillow,
    /// A straight slope (a chamfer).
    Chamfer,
}

impl Profile {
    pub const ALL: [Profile; 3] = [Profile::Round, Profile::Pillow, Profile::Chamfer];

    pub fn label(self) -> &'static str {
        match self {
            Profile::Round => "round",
            Profile::Pillow => "pillow",
            Profile::Chamfer => "chamfer",
        }
    }

    /// Height fraction at `t` (0 at the outline, 1 from `width_px` inwards).
    pub fn eval(self, t: f32) -> f32 {
        let t = t.clamp(0.0, 1.0);
        match self {
            Profile::Round => (1.0 - (1.0 - t) * (1.0 - t)).sqrt(),
            Profile::Pillow => t * t * (3.0 - 2.0 * t),
            Profile::Chamfer => t,
        }
    }
}

impl Selection {
    fn from_mask(mask: Grid<f32>) -> Self {
        let count = mask.data.iter().filter(|&&v| v >= INSIDE).count();
        Self { mask, count }
    }

    /// Weight per depth pixel, 0..1.
    pub fn mask(&self) -> &Grid<f32> {
        &self.mask
    }

    /// Nothing selected.
    pub fn none(width: usize, height: usize) -> Self {
        Self::from_mask(Grid::filled(width, height, 0.0))
    }

    /// The pixels whose centres lie inside the closed polygon `points` (x, y in pixels;
    /// even–odd rule, so a lasso that crosses itself leaves holes where it would).
    pub fn polygon(width: usize, height: usize, points: &[[f32; 2]]) -> Self {
        let mut mask = Grid::filled(width, height, 0.0);
        if points.len() >= 3 {
            let mut crossings = Vec::new();
            for y in 0..height {
                let cy = y as f32 + 0.5;
                crossings.clear();
                for (i, a) in points.iter().enumerate() {
                    let b = points[(i + 1) % points.len()];
                    if (a[1] <= cy) != (b[1] <= cy) {
                        crossings.push(a[0] + (cy - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
                    }
                }
                crossings.sort_by(f32::total_cmp);
                for pair in crossings.chunks_exact(2) {
                    // Pixel x is inside when its centre x + 0.5 lies in [pair[0], pair[1]).
                    let x0 = (pair[0] - 0.5).ceil().max(0.0) as usize;
                    let x1 = ((pair[1] - 0.5).ceil().max(0.0) as usize).min(width);
                    for x in x0..x1 {
                        mask.set(x, y, 1.0);
                    }
                }
            }
        }
        Self::from_mask(mask)
    }

    /// The 4-connected region of pixels with the same class as the one at `at`.
    pub fn magic(classes: &Grid<u8>, at: [usize; 2]) -> Self {
        let (w, h) = (classes.width, classes.height);
        let mut mask = Grid::filled(w, h, 0.0);
        if at[0] >= w || at[1] >= h {
            return Self::from_mask(mask);
        }
        let class = classes.get(at[0], at[1]);
        let mut stack = vec![at];
        mask.set(at[0], at[1], 1.0);
        while let Some([x, y]) = stack.pop() {
            let neighbours = [
                (x > 0).then(|| [x - 1, y]),
                (x + 1 < w).then(|| [x + 1, y]),
                (y > 0).then(|| [x, y - 1]),
                (y + 1 < h).then(|| [x, y + 1]),
            ];
            for [nx, ny] in neighbours.into_iter().flatten() {
                if mask.get(nx, ny) == 0.0 && classes.get(nx, ny) == class {
                    mask.set(nx, ny, 1.0);
                    stack.push([nx, ny]);
                }
            }
        }
        Self::from_mask(mask)
    }

    /// How many pixels are selected (weight ≥ ½).
    pub fn count(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.mask.data.iter().all(|&v| v <= 0.0)
    }

    /// The selection plus every pixel within `px` of it.
    pub fn grow(&self, px: f32) -> Self {
        let outside = distance_to(&self.mask.map(|v| v >= INSIDE));
        Self::from_mask(outside.map(|d| if d <= px.max(0.0) { 1.0 } else { 0.0 }))
    }

    /// The selection minus every pixel within `px` of its outside.
    pub fn shrink(&self, px: f32) -> Self {
        let inside = distance_to(&self.mask.map(|v| v < INSIDE));
        Self::from_mask(inside.map(|d| if d > px.max(0.0) { 1.0 } else { 0.0 }))
    }

    /// A soft edge about `px` wide (Gaussian, σ = px / 2).
    pub fn feather(&self, px: f32) -> Self {
        if px <= 0.0 {
            return self.clone();
        }
        Self::from_mask(blur(&self.mask, px / 2.0).map(|v| v.clamp(0.0, 1.0)))
    }

    /// Distance (px) from each selected pixel to the nearest unselected one (0 outside):
    /// what [`SelectionOp::Inflate`] grows its profile along.
    pub fn depth_from_outline(&self) -> Grid<f32> {
        distance_to(&self.mask.map(|v| v < INSIDE))
    }
}

/// Euclidean distance (px) from every pixel to the nearest `true` one (0 on them); the
/// image border is not a target. Felzenszwalb & Huttenlocher's exact transform, one
/// pass over the columns and one over the rows. Without any target the distances are
/// larger than the grid.
pub fn distance_to(targets: &Grid<bool>) -> Grid<f32> {
    let (w, h) = (targets.width, targets.height);
    let far = ((w + h) as f32 * 2.0).powi(2);
    let mut squared = Grid::from_fn(w, h, |x, y| if targets.get(x, y) { 0.0 } else { far });
    let mut line = Vec::new();
    let mut out = Vec::new();
    for x in 0..w {
        line.clear();
        line.extend((0..h).map(|y| squared.get(x, y)));
        lower_envelope(&line, &mut out);
        for (y, &v) in out.iter().enumerate() {
            squared.set(x, y, v);
        }
    }
    for y in 0..h {
        line.clear();
        line.extend((0..w).map(|x| squared.get(x, y)));
        lower_envelope(&line, &mut out);
        for (x, &v) in out.iter().enumerate() {
            squared.set(x, y, v);
        }
    }
    squared.map(f32::sqrt)
}

/// `out[q] = min_p (f[p] + (q − p)²)`: the 1-D squared distance transform.
fn lower_envelope(f: &[f32], out: &mut Vec<f32>) {
    let n = f.len();
    out.clear();
    out.resize(n, 0.0);
    if n == 0 {
        return;
    }
    let mut v = vec![0usize; n];
    let mut z = vec![0f32; n + 1];
    let mut k = 0;
    z[0] = f32::NEG_INFINITY;
    z[1] = f32::INFINITY;
    let intersect =
        |p: usize, q: usize| ((f[q] + (q * q) as f32) - (f[p] + (p * p) as f32)) / (2.0 * (q as f32 - p as f32));
    for q in 1..n {
        let mut s = intersect(v[k], q);
        while s <= z[k] {
            k -= 1;
            s = intersect(v[k], q);
        }
        k += 1;
        v[k] = q;
        z[k] = s;
        z[k + 1] = f32::INFINITY;
    }
    k = 0;
    for (q, o) in out.iter_mut().enumerate() {
        while z[k + 1] < q as f32 {
            k += 1;
        }
        let d = q as f32 - v[k] as f32;
        *o = f[v[k]] + d * d;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_polygon_selects_the_pixel_centres_inside_it() {
        // A 10 × 6 rectangle from (2, 1): exactly 60 pixels.
        let s = Selection::polygon(20, 10, &[[2.0, 1.0], [12.0, 1.0], [12.0, 7.0], [2.0, 7.0]]);
        assert_eq!(s.count(), 60);
        assert_eq!(s.mask.get(2, 1), 1.0);
        assert_eq!(s.mask.get(11, 6), 1.0);
        assert_eq!(s.mask.get(12, 6), 0.0);
        assert_eq!(s.mask.get(1, 3), 0.0);
        // A triangle covers about half its box.
        let t = Selection::polygon(100, 100, &[[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]]);
        assert!((t.count() as i32 - 5000).abs() <= 100, "{}", t.count());
    }

    #[test]
    fn magic_selects_the_connected_region_of_one_class() {
        // Two squares of class 1 apart, on class 0.
        let classes = Grid::from_fn(30, 10, |x, y| {
            u8::from((2..8).contains(&x) && (2..8).contains(&y) || (20..25).contains(&x) && (2..7).contains(&y))
        });
        let s = Selection::magic(&classes, [4, 4]);
        assert_eq!(s.count(), 36, "only the square clicked");
        let background = Selection::magic(&classes, [0, 0]);
        assert_eq!(background.count(), 300 - 36 - 25);
    }

    #[test]
    fn grow_and_shrink_move_the_outline_by_exact_distances() {
        let dot = Selection::polygon(41, 41, &[[20.0, 20.0], [21.0, 20.0], [21.0, 21.0], [20.0, 21.0]]);
        assert_eq!(dot.count(), 1);
        let disc = dot.grow(10.0);
        // Pixels within 10 px of the centre pixel: π·10² ≈ 314 (317 lattice points).
        assert_eq!(disc.count(), 317);
        assert_eq!(disc.shrink(10.0).count(), 1, "shrinking by as much gives the dot back");
        let block = Selection::polygon(40, 40, &[[10.0, 10.0], [30.0, 10.0], [30.0, 30.0], [10.0, 30.0]]);
        assert_eq!(block.shrink(3.0).count(), 14 * 14);
        let soft = block.feather(4.0);
        assert!(soft.mask.get(20, 20) > 0.99 && soft.mask.get(10, 20) > 0.3 && soft.mask.get(10, 20) < 0.7);
    }

    #[test]
    fn distances_match_brute_force() {
        let targets = Grid::from_fn(23, 17, |x, y| (x * 7 + y * 3) % 29 == 0);
        let d = distance_to(&targets);
        for y in 0..17 {
            for x in 0..23 {
                let brute = (0..17)
                    .flat_map(|ty| (0..23).map(move |tx| (tx, ty)))
                    .filter(|&(tx, ty)| targets.get(tx, ty))
                    .map(|(tx, ty)| ((tx as f32 - x as f32).powi(2) + (ty as f32 - y as f32).powi(2)).sqrt())
                    .fold(f32::INFINITY, f32::min);
                assert!(
                    (d.get(x, y) - brute).abs() < 1e-4,
                    "({x}, {y}): {} vs {brute}",
                    d.get(x, y)
                );
            }
        }
    }

    #[test]
    fn profiles_rise_from_the_outline_to_full_height() {
        for p in Profile::ALL {
            assert_eq!(p.eval(0.0), 0.0, "{p:?}");
            assert_eq!(p.eval(1.0), 1.0, "{p:?}");
            assert_eq!(p.eval(2.0), 1.0, "{p:?}");
            assert!(p.eval(0.3) < p.eval(0.6), "{p:?}");
        }
        assert!(Profile::Round.eval(0.2) > Profile::Chamfer.eval(0.2));
        assert!(Profile::Pillow.eval(0.2) < Profile::Chamfer.eval(0.2));
    }
}
