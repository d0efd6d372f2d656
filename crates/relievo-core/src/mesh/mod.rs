//! Heightfield → closed, printable solid: the relief's top surface (every pixel, or
//! simplified to a maximum vertical error by `delatin`), four vertical walls stitched
//! to the top's border vertices, and a flat bottom at z = 0. The result is an indexed
//! triangle mesh in millimetres whose every edge is shared by exactly two triangles with
//! opposite directions, wound counter-clockwise seen from outside, with no zero-area
//! triangle and a bounding box of exactly width_mm × height_mm × the highest pixel.

mod delatin;

use rayon::prelude::*;

use crate::cancel::{Cancel, Cancelled};
use crate::relief::Heightfield;

/// Indexed triangle mesh, coordinates in mm, triangles counter-clockwise seen from outside.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mesh {
    pub vertices: Vec<[f32; 3]>,
    pub triangles: Vec<[u32; 3]>,
}

impl Mesh {
    pub fn triangle_count(&self) -> usize {
        self.triangles.len()
    }

    /// Unit normal of every triangle (zero for a degenerate one), computed in parallel.
    pub fn facet_normals(&self) -> Vec<[f32; 3]> {
        self.triangles.par_iter().map(|&t| self.facet_normal(t)).collect()
    }

    /// Unit normal of triangle `t` by the right-hand rule (zero if it is degenerate).
    #[inline]
    pub fn facet_normal(&self, t: [u32; 3]) -> [f32; 3] {
        let [a, b, c] = t.map(|i| self.vertices[i as usize]);
        let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
        let v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
        let n = [
            u[1] * v[2] - u[2] * v[1],
            u[2] * v[0] - u[0] * v[2],
            u[0] * v[1] - u[1] * v[0],
        ];
        let length = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
        if length > 0.0 { n.map(|x| x / length) } else { [0.0; 3] }
    }
}

/// Top surface in pixel coordinates: vertices as (x, y) pixels (row 0 at the top) and
/// triangles counter-clockwise seen from above in mesh coordinates (y up).
struct Surface {
    pixels: Vec<[u32; 2]>,
    triangles: Vec<[u32; 3]>,
}

/// The closed solid under `hf`'s top surface. `max_error_mm == 0` keeps every pixel
/// (2·(W−1)·(H−1) top triangles); `> 0` simplifies the top until every pixel is within
/// `max_error_mm` of it, vertically. Needs a grid of at least 2×2 pixels and every
/// height > 0 (both guaranteed by `relief::build`).
pub fn solid(hf: &Heightfield, max_error_mm: f32) -> Mesh {
    match solid_cancellable(hf, max_error_mm, &Cancel::default()) {
        Ok(mesh) => mesh,
        Err(Cancelled) => unreachable!("nobody else holds this flag"),
    }
}

/// [`solid`] that checks `cancel` between the simplifier's rounds of insertions and
/// before the walls and the bottom are built.
pub fn solid_cancellable(hf: &Heightfield, max_error_mm: f32, cancel: &Cancel) -> Result<Mesh, Cancelled> {
    let (width_px, height_px) = (hf.z_mm.width, hf.z_mm.height);
    assert!(width_px >= 2 && height_px >= 2, "a solid needs at least 2×2 pixels");
    cancel.check()?;
    let top = if max_error_mm > 0.0 {
        delatin::triangulate(&hf.z_mm, max_error_mm, cancel)?
    } else {
        full_grid(width_px, height_px)
    };
    cancel.check()?;
    let ring = border_ring(&top.pixels, width_px, height_px);
    let top_count = top.pixels.len() as u32;
    let ring_count = ring.vertices.len() as u32;

    let mut vertices = Vec::with_capacity(top.pixels.len() + ring.vertices.len());
    vertices.par_extend(
        top.pixels
            .par_iter()
            .map(|&[x, y]| hf.position_mm(x as usize, y as usize)),
    );
    for &v in &ring.vertices {
        let [x, y, _] = vertices[v as usize];
        vertices.push([x, y, 0.0]);
    }

    let mut triangles = top.triangles;
    triangles.reserve(3 * ring_count as usize);
    // Walls: the ring runs counter-clockwise seen from above, so the outside is on its right.
    for i in 0..ring_count {
        let j = (i + 1) % ring_count;
        let (top_a, top_b) = (ring.vertices[i as usize], ring.vertices[j as usize]);
        let (bottom_a, bottom_b) = (top_count + i, top_count + j);
        triangles.push([bottom_a, bottom_b, top_b]);
        triangles.push([bottom_a, top_b, top_a]);
    }
    bottom_triangles(
        &vertices[top_count as usize..],
        ring.far_corner,
        top_count,
        &mut triangles,
    );
    Ok(Mesh { vertices, triangles })
}

/// Every pixel a vertex (index y·W + x), two triangles per cell; room is reserved for
/// the walls and the bottom.
fn full_grid(width_px: usize, height_px: usize) -> Surface {
    let (w, h) = (width_px as u32, height_px as u32);
    let top_count = 2 * (width_px - 1) * (height_px - 1);
    let border_count = 2 * (width_px + height_px) - 4;
    let mut triangles = Vec::with_capacity(top_count + 3 * border_count);
    triangles.par_extend((0..top_count).into_par_iter().map(|k| {
        let cell = (k / 2) as u32;
        let p00 = cell / (w - 1) * w + cell % (w - 1);
        let (p10, p01, p11) = (p00 + 1, p00 + w, p00 + w + 1);
        // Row y + 1 is lower in the mesh (y up): p01 is the cell's lower-left corner.
        if k % 2 == 0 { [p01, p11, p10] } else { [p01, p10, p00] }
    }));
    let pixels = (0..w * h).into_par_iter().map(|i| [i % w, i / w]).collect();
    Surface { pixels, triangles }
}

/// The top surface's border vertices, counter-clockwise seen from above, starting at
/// the lower-left corner of the footprint (pixel (0, H−1)).
struct Ring {
    vertices: Vec<u32>,
    /// Position in `vertices` of the upper-right corner (pixel (W−1, 0)).
    far_corner: usize,
}

fn border_ring(pixels: &[[u32; 2]], width_px: usize, height_px: usize) -> Ring {
    const NONE: u32 = u32::MAX;
    let (w1, h1) = (width_px as u32 - 1, height_px as u32 - 1);
    let (mut near, mut far) = (vec![NONE; width_px], vec![NONE; width_px]);
    let (mut left, mut right) = (vec![NONE; height_px], vec![NONE; height_px]);
    for (i, &[x, y]) in pixels.iter().enumerate() {
        let i = i as u32;
        if y == h1 {
            near[x as usize] = i;
        }
        if y == 0 {
            far[x as usize] = i;
        }
        if x == 0 {
            left[y as usize] = i;
        }
        if x == w1 {
            right[y as usize] = i;
        }
    }
    // Each side without its final corner, which starts the next side.
    let mut vertices: Vec<u32> = near[..w1 as usize].to_vec();
    vertices.extend(right[1..].iter().rev());
    let far_corner = vertices.iter().filter(|&&v| v != NONE).count();
    vertices.extend(far[1..].iter().rev());
    vertices.extend(&left[..h1 as usize]);
    vertices.retain(|&v| v != NONE);
    Ring { vertices, far_corner }
}

/// Triangulates the flat bottom (a rectangle with extra vertices along its sides) with
/// no zero-area triangle: a zipper between the two chains from the lower-left to the
/// upper-right corner. A triangle with its base on one chain has its apex on the other
/// chain, never at the two shared corners, so it is never on the base's line.
/// `bottom` holds the bottom vertices in ring order; indices are offset by `first`.
fn bottom_triangles(bottom: &[[f32; 3]], far_corner: usize, first: u32, out: &mut Vec<[u32; 3]>) {
    let n = bottom.len();
    // Chain u runs along the near and right sides, chain v along the left and far sides.
    let u = |i: usize| i;
    let v = |j: usize| (n - j) % n;
    let (u_last, v_last) = (far_corner, n - far_corner);
    let index = |position: usize| first + position as u32;
    let distance2 = |p: usize, q: usize| {
        let (a, b) = (bottom[p], bottom[q]);
        (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
    };
    // Seen from below, counter-clockwise: (u_i, v_j, u_i+1) and (u_i, v_j, v_j+1).
    out.push([index(u(0)), index(v(1)), index(u(1))]);
    let (mut i, mut j) = (1, 1);
    while i + 1 < u_last || j + 1 < v_last {
        // Advance the chain whose next vertex makes the shorter diagonal.
        let u_shorter = distance2(u(i + 1), v(j)) <= distance2(u(i), v(j + 1));
        let advance_u = j + 1 == v_last || (i + 1 < u_last && u_shorter);
        if advance_u {
            out.push([index(u(i)), index(v(j)), index(u(i + 1))]);
            i += 1;
        } else {
            out.push([index(u(i)), index(v(j)), index(v(j + 1))]);
            j += 1;
        }
    }
    out.push([index(u(i)), index(v(j)), index(u(i + 1))]);
}
