//! Error-bounded simplification of the top surface by greedy insertion (Garland &
//! Heckbert 1995, as in hmm and mapbox/delatin): start from the two triangles that span
//! the grid, repeatedly insert the pixel farthest (vertically) from the mesh, keep the
//! triangulation Delaunay by edge flips, and stop once every pixel is within the
//! allowed error. Everything runs in integer pixel coordinates (x right, row 0 at the
//! top); each new triangle is scanned once, row by row, for its worst pixel.

use std::collections::BinaryHeap;

use rayon::prelude::*;

use super::Surface;
use crate::cancel::{Cancel, Cancelled};
use crate::grid::Grid;

/// No twin: the half-edge lies on the border of the grid.
const NONE: u32 = u32::MAX;

/// Triangulates `z` so that every pixel lies within `max_error` of the surface (up to
/// f32 rounding). The highest pixel is always a vertex, so the surface keeps its height.
/// Checks `cancel` after every round of insertions.
pub(super) fn triangulate(z: &Grid<f32>, max_error: f32, cancel: &Cancel) -> Result<Surface, Cancelled> {
    let mut tin = Tin::new(z);
    tin.run(max_error, cancel)?;
    Ok(Surface {
        pixels: tin.pixels,
        // Positive orientation in pixel coordinates is clockwise seen from above (y up).
        triangles: tin.corners.chunks_exact(3).map(|c| [c[0], c[2], c[1]]).collect(),
    })
}

/// A triangulated irregular network over the pixel grid, in half-edge form: half-edge
/// `e` of triangle `e / 3` runs from `corners[e]` to `corners[next(e)]`, and every
/// triangle has positive orientation (`orient > 0`).
struct Tin<'a> {
    z: &'a Grid<f32>,
    /// Vertex positions, (x, y) in pixels.
    pixels: Vec<[u32; 2]>,
    corners: Vec<u32>,
    twins: Vec<u32>,
    /// Per triangle: the pixel index (`y * width + x`) farthest from the triangle …
    worst_px: Vec<u32>,
    /// … and its distance.
    error: Vec<f32>,
    /// Triangles written since the last scan.
    pending: Vec<u32>,
    /// Half-edges still to check for the Delaunay property.
    to_legalize: Vec<u32>,
    is_pending: Vec<bool>,
    /// `error bits << 32 | triangle`: the bits of a non-negative f32 order like its
    /// value. An entry is stale, and skipped, once its triangle was rewritten.
    queue: BinaryHeap<u64>,
}

fn next(e: u32) -> u32 {
    if e % 3 == 2 { e - 2 } else { e + 1 }
}

fn prev(e: u32) -> u32 {
    if e.is_multiple_of(3) { e + 2 } else { e - 1 }
}

/// Twice the signed area of (a, b, c); positive when c is left of a→b in pixel space.
fn orient(a: [u32; 2], b: [u32; 2], c: [u32; 2]) -> i64 {
    let [ax, ay] = a.map(i64::from);
    let [bx, by] = b.map(i64::from);
    let [cx, cy] = c.map(i64::from);
    (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
}

/// Whether `p` lies strictly inside the circumcircle of the positively oriented (a, b, c).
fn in_circle(a: [u32; 2], b: [u32; 2], c: [u32; 2], p: [u32; 2]) -> bool {
    let d = |q: [u32; 2]| {
        let dx = i128::from(q[0]) - i128::from(p[0]);
        let dy = i128::from(q[1]) - i128::from(p[1]);
        (dx, dy, dx * dx + dy * dy)
    };
    let (ax, ay, aa) = d(a);
    let (bx, by, bb) = d(b);
    let (cx, cy, cc) = d(c);
    ax * (by * cc - bb * cy) - ay * (bx * cc - bb * cx) + aa * (bx * cy - by * cx) > 0
}

impl<'a> Tin<'a> {
    /// The two triangles spanning the grid, scanned.
    fn new(z: &'a Grid<f32>) -> Self {
        let (w, h) = (z.width as u32 - 1, z.height as u32 - 1);
        let mut tin = Tin {
            z,
            pixels: vec![[0, 0], [w, 0], [w, h], [0, h]],
            corners: Vec::new(),
            twins: Vec::new(),
            worst_px: Vec::new(),
            error: Vec::new(),
            pending: Vec::new(),
            to_legalize: Vec::new(),
            is_pending: Vec::new(),
            queue: BinaryHeap::new(),
        };
        let (t0, t1) = (tin.add_triangle(), tin.add_triangle());
        // Half-edge 2 (2→0) of t0 is the twin of half-edge 3 (0→2) of t1.
        tin.set_triangle(t0, [0, 1, 2], [NONE, NONE, NONE]);
        tin.set_triangle(t1, [0, 2, 3], [2, NONE, NONE]);
        tin.scan_pending();
        tin
    }

    /// Inserts worst pixels until every triangle is within `max_error`. Each round takes
    /// the worst pixels of up to `live / 32` triangles, worst first, skipping triangles
    /// that an earlier insertion of the round changed, then rescans in parallel.
    fn run(&mut self, max_error: f32, cancel: &Cancel) -> Result<(), Cancelled> {
        self.insert_highest();
        loop {
            cancel.check()?;
            let batch = (self.error.len() / 32).clamp(1, 1024);
            let mut inserted = 0;
            while inserted < batch {
                let Some(&key) = self.queue.peek() else { break };
                let (error, t) = (f32::from_bits((key >> 32) as u32), key as u32 as usize);
                if error <= max_error {
                    break;
                }
                self.queue.pop();
                if self.is_pending[t] || error.to_bits() != self.error[t].to_bits() {
                    continue;
                }
                self.insert(t as u32, self.worst_px[t]);
                inserted += 1;
            }
            if inserted == 0 {
                return Ok(());
            }
            self.scan_pending();
        }
    }

    /// Inserts the highest pixel first so the solid's height is exact.
    fn insert_highest(&mut self) {
        let Some((i, _)) = self.z.data.iter().enumerate().max_by(|(_, a), (_, b)| a.total_cmp(b)) else {
            return;
        };
        let p = self.pixel(i as u32);
        if self.pixels.contains(&p) {
            return;
        }
        let t = if orient(self.pixels[0], self.pixels[2], p) >= 0 {
            1
        } else {
            0
        };
        self.insert(t, i as u32);
        self.scan_pending();
    }

    fn pixel(&self, index: u32) -> [u32; 2] {
        let w = self.z.width as u32;
        [index % w, index / w]
    }

    fn triangle_pixels(&self, t: u32) -> [[u32; 2]; 3] {
        [0, 1, 2].map(|k| self.pixels[self.corners[3 * t as usize + k] as usize])
    }

    fn add_triangle(&mut self) -> u32 {
        let t = self.error.len() as u32;
        self.corners.extend([NONE; 3]);
        self.twins.extend([NONE; 3]);
        self.worst_px.push(0);
        self.error.push(0.0);
        self.is_pending.push(false);
        t
    }

    /// (Re)writes triangle `t` with vertices `v` and the twins of its three half-edges,
    /// links the twins back and queues the triangle for scanning.
    fn set_triangle(&mut self, t: u32, v: [u32; 3], twins: [u32; 3]) {
        let e = 3 * t as usize;
        self.corners[e..e + 3].copy_from_slice(&v);
        for (k, twin) in twins.into_iter().enumerate() {
            self.twins[e + k] = twin;
            if twin != NONE {
                self.twins[twin as usize] = (e + k) as u32;
            }
        }
        if !self.is_pending[t as usize] {
            self.is_pending[t as usize] = true;
            self.pending.push(t);
        }
    }

    /// Inserts pixel `index`, which lies inside or on the border of triangle `t` (but
    /// is not one of its vertices), then restores the Delaunay property.
    fn insert(&mut self, t: u32, index: u32) {
        let p = self.pixel(index);
        let n = self.pixels.len() as u32;
        self.pixels.push(p);
        let e0 = 3 * t;
        let on_edge = (0..3).map(|k| e0 + k).find(|&e| {
            let a = self.pixels[self.corners[e as usize] as usize];
            let b = self.pixels[self.corners[next(e) as usize] as usize];
            orient(a, b, p) == 0
        });
        match on_edge {
            Some(e) => self.split_edge(e, n),
            None => self.split_triangle(t, n),
        }
    }

    /// Splits triangle (a, b, c) around the interior vertex `n` into three.
    fn split_triangle(&mut self, t: u32, n: u32) {
        let e = 3 * t as usize;
        let [a, b, c] = [self.corners[e], self.corners[e + 1], self.corners[e + 2]];
        let [hab, hbc, hca] = [self.twins[e], self.twins[e + 1], self.twins[e + 2]];
        let (t1, t2) = (self.add_triangle(), self.add_triangle());
        self.set_triangle(t, [a, b, n], [hab, NONE, NONE]);
        self.set_triangle(t1, [b, c, n], [hbc, NONE, 3 * t + 1]);
        self.set_triangle(t2, [c, a, n], [hca, 3 * t + 2, 3 * t1 + 1]);
        self.legalize([3 * t, 3 * t1, 3 * t2]);
    }

    /// Splits the edge of half-edge `e` (a→b) at vertex `n`, and both triangles beside it.
    fn split_edge(&mut self, e: u32, n: u32) {
        let t = e / 3;
        let [a, b, c] = [e, next(e), prev(e)].map(|i| self.corners[i as usize]);
        let hbc = self.twins[next(e) as usize];
        let hca = self.twins[prev(e) as usize];
        let f = self.twins[e as usize];
        let t1 = self.add_triangle();
        if f == NONE {
            self.set_triangle(t, [n, b, c], [NONE, hbc, NONE]);
            self.set_triangle(t1, [a, n, c], [NONE, 3 * t + 2, hca]);
            self.legalize([3 * t + 1, 3 * t1 + 2]);
            return;
        }
        // The other side is (b, a, d) with half-edge f = b→a.
        let u = f / 3;
        let d = self.corners[prev(f) as usize];
        let had = self.twins[next(f) as usize];
        let hdb = self.twins[prev(f) as usize];
        let t3 = self.add_triangle();
        self.set_triangle(t, [n, b, c], [NONE, hbc, NONE]);
        self.set_triangle(t1, [a, n, c], [NONE, 3 * t + 2, hca]);
        self.set_triangle(u, [n, a, d], [3 * t1, had, NONE]);
        self.set_triangle(t3, [b, n, d], [3 * t, 3 * u + 2, hdb]);
        self.legalize([3 * t + 1, 3 * t1 + 2, 3 * u + 1, 3 * t3 + 2]);
    }

    /// Flips each half-edge opposite the new vertex while the vertex across it lies
    /// inside the circumcircle, then checks the two edges that became exposed.
    fn legalize<const N: usize>(&mut self, edges: [u32; N]) {
        self.to_legalize.extend(edges);
        while let Some(e) = self.to_legalize.pop() {
            let f = self.twins[e as usize];
            if f == NONE {
                continue;
            }
            // e = a→b in (a, b, c); f = b→a in (b, a, d).
            let [a, b, c] = [e, next(e), prev(e)].map(|i| self.corners[i as usize]);
            let d = self.corners[prev(f) as usize];
            let p = |v: u32| self.pixels[v as usize];
            if !in_circle(p(a), p(b), p(c), p(d)) {
                continue;
            }
            let [hbc, hca] = [next(e), prev(e)].map(|i| self.twins[i as usize]);
            let [had, hdb] = [next(f), prev(f)].map(|i| self.twins[i as usize]);
            let (t, u) = (e / 3, f / 3);
            self.set_triangle(t, [a, d, c], [had, NONE, hca]);
            self.set_triangle(u, [d, b, c], [hdb, hbc, 3 * t + 1]);
            self.to_legalize.extend([3 * t, 3 * u]);
        }
    }

    /// Finds the worst pixel of every pending triangle (in parallel when there are
    /// many) and queues it.
    fn scan_pending(&mut self) {
        let scan = |&t: &u32| {
            let v = self.triangle_pixels(t);
            let (error, worst) = worst_pixel(self.z, v);
            let w = self.z.width as u32;
            // Only rounding noise is left when the plane misses its own vertex.
            if v.contains(&[worst % w, worst / w]) {
                (0.0, worst)
            } else {
                (error, worst)
            }
        };
        // Rough pixel count: parallel scans pay off from a few tens of thousands.
        let work: i64 = self
            .pending
            .iter()
            .map(|&t| {
                let [a, b, c] = self.triangle_pixels(t);
                orient(a, b, c)
            })
            .sum();
        let scanned: Vec<(f32, u32)> = if work >= 1 << 15 {
            self.pending.par_iter().map(scan).collect()
        } else {
            self.pending.iter().map(scan).collect()
        };
        for (&t, (error, worst)) in self.pending.iter().zip(scanned) {
            let tu = t as usize;
            self.is_pending[tu] = false;
            self.worst_px[tu] = worst;
            self.error[tu] = error;
            self.queue.push(u64::from(error.to_bits()) << 32 | u64::from(t));
        }
        self.pending.clear();
    }
}

/// Pixels scanned side by side; each lane keeps its own worst pixel.
const LANES: usize = 8;

/// The largest |z − plane| over the pixels inside or on the positively oriented
/// triangle `v`, with the index of a pixel reaching it.
fn worst_pixel(z: &Grid<f32>, v: [[u32; 2]; 3]) -> (f32, u32) {
    let [a, b, c] = v.map(|p| p.map(i64::from));
    let za = z.get(a[0] as usize, a[1] as usize);
    let zb = z.get(b[0] as usize, b[1] as usize);
    let zc = z.get(c[0] as usize, c[1] as usize);
    // Plane z = za + slope_x (x − ax) + slope_y (y − ay).
    let det = ((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])) as f64;
    let (dzb, dzc) = (f64::from(zb - za), f64::from(zc - za));
    let slope_x = ((dzb * (c[1] - a[1]) as f64 - dzc * (b[1] - a[1]) as f64) / det) as f32;
    let slope_y = ((dzc * (b[0] - a[0]) as f64 - dzb * (c[0] - a[0]) as f64) / det) as f32;
    let edges = [(a, b), (b, c), (c, a)];
    let y_min = a[1].min(b[1]).min(c[1]);
    let y_max = a[1].max(b[1]).max(c[1]);
    let x_min = a[0].min(b[0]).min(c[0]);
    let x_max = a[0].max(b[0]).max(c[0]);
    let mut worst = Lanes {
        error: [0.0; LANES],
        index: [(a[1] * z.width as i64 + a[0]) as u32; LANES],
    };
    for y in y_min..=y_max {
        // Inside edge p→q: dy (x − px) ≤ dx (y − py).
        let (mut lo, mut hi) = (x_min, x_max);
        for (p, q) in edges {
            let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
            let r = dx * (y - p[1]);
            if dy > 0 {
                hi = hi.min(p[0] + r.div_euclid(dy));
            } else if dy < 0 {
                lo = lo.max(p[0] - r.div_euclid(-dy));
            }
        }
        if lo <= hi {
            let z0 = za + slope_x * (lo - a[0]) as f32 + slope_y * (y - a[1]) as f32;
            let start = y as usize * z.width + lo as usize;
            worst.scan_row(&z.data, start, (hi - lo) as usize + 1, z0, slope_x);
        }
    }
    worst.reduce()
}

/// Per lane: the largest error seen and the pixel index where it was.
struct Lanes {
    error: [f32; LANES],
    index: [u32; LANES],
}

impl Lanes {
    /// Scans `len` pixels from `data[start]`, whose plane heights are `z0 + slope·k`.
    /// Whole chunks of `LANES` are read, also past the row's end while inside `data`;
    /// lanes past the end are masked out. This keeps short rows vectorised.
    #[inline]
    fn scan_row(&mut self, data: &[f32], start: usize, len: usize, z0: f32, slope: f32) {
        let end = start + len.next_multiple_of(LANES);
        let Some(row) = data.get(start..end) else {
            for (k, &h) in data[start..start + len].iter().enumerate() {
                self.update(k % LANES, (h - (z0 + slope * k as f32)).abs(), (start + k) as u32);
            }
            return;
        };
        let len_f = len as f32;
        for (c, chunk) in row.chunks_exact(LANES).enumerate() {
            let k0 = (c * LANES) as f32;
            let i0 = (start + c * LANES) as u32;
            for (l, &h) in chunk.iter().enumerate() {
                let k = k0 + l as f32;
                let e = (h - (z0 + slope * k)).abs();
                let e = if k < len_f { e } else { 0.0 };
                self.update(l, e, i0 + l as u32);
            }
        }
    }

    #[inline(always)]
    fn update(&mut self, lane: usize, error: f32, index: u32) {
        let better = error > self.error[lane];
        self.error[lane] = if better { error } else { self.error[lane] };
        self.index[lane] = if better { index } else { self.index[lane] };
    }

    fn reduce(&self) -> (f32, u32) {
        (0..LANES).fold((0.0, self.index[0]), |best, l| {
            if self.error[l] > best.0 {
                (self.error[l], self.index[l])
            } else {
                best
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(width: usize, height: usize) -> Grid<f32> {
        Grid::from_fn(width, height, |x, y| ((x * 7919 + y * 104_729) % 1009) as f32 / 1009.0)
    }

    #[test]
    fn result_is_a_linked_delaunay_triangulation() {
        assert!(in_circle([0, 0], [2, 0], [0, 2], [1, 1]) && !in_circle([0, 0], [2, 0], [0, 2], [2, 2]));
        let z = noise(37, 23);
        let mut tin = Tin::new(&z);
        tin.run(0.3, &Cancel::default()).unwrap();
        let area: i64 = (0..tin.error.len() as u32)
            .map(|t| {
                let [a, b, c] = tin.triangle_pixels(t);
                assert!(orient(a, b, c) > 0, "triangle {t} is not positively oriented");
                orient(a, b, c)
            })
            .sum();
        assert_eq!(area, 2 * 36 * 22, "triangles tile the grid");
        for e in 0..tin.corners.len() as u32 {
            let f = tin.twins[e as usize];
            if f == NONE {
                continue;
            }
            assert_eq!(tin.twins[f as usize], e);
            assert_eq!(
                (tin.corners[e as usize], tin.corners[next(e) as usize]),
                (tin.corners[next(f) as usize], tin.corners[f as usize])
            );
            let [a, b, c] = [e, next(e), prev(e)].map(|i| tin.pixels[tin.corners[i as usize] as usize]);
            let d = tin.pixels[tin.corners[prev(f) as usize] as usize];
            assert!(!in_circle(a, b, c, d), "edge {e} is not locally Delaunay");
        }
    }

    #[test]
    fn row_scan_matches_a_brute_force_search() {
        let z = noise(29, 31);
        let triangles = [
            [[0, 0], [28, 3], [5, 30]],
            [[3, 4], [4, 4], [3, 27]],
            [[27, 0], [28, 30], [0, 29]],
            [[1, 1], [2, 2], [0, 2]],
        ];
        for v in triangles {
            let v: [[u32; 2]; 3] = v;
            let [a, b, c] = v;
            let plane = |p: [u32; 2]| {
                let w = [orient(b, c, p), orient(c, a, p), orient(a, b, p)];
                let z_at = |q: [u32; 2]| f64::from(z.get(q[0] as usize, q[1] as usize));
                (w[0] as f64 * z_at(a) + w[1] as f64 * z_at(b) + w[2] as f64 * z_at(c)) / orient(a, b, c) as f64
            };
            let mut expected: f64 = 0.0;
            for y in 0..31 {
                for x in 0..29 {
                    let p = [x, y];
                    if orient(a, b, p) >= 0 && orient(b, c, p) >= 0 && orient(c, a, p) >= 0 {
                        expected = expected.max((plane(p) - f64::from(z.get(x as usize, y as usize))).abs());
                    }
                }
            }
            let (error, index) = worst_pixel(&z, v);
            assert!(
                (f64::from(error) - expected).abs() < 1e-5,
                "{v:?}: {error} vs {expected}"
            );
            let p = [index % 29, index / 29];
            assert!(
                (plane(p) - f64::from(z.get(p[0] as usize, p[1] as usize))).abs() > expected - 1e-5,
                "{v:?}: pixel {p:?}"
            );
        }
    }
}
