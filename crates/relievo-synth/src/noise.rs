//! Randomness for the synthetic world on top of the crate's SplitMix64 generator
//! ([`crate::rng::Rng`]): the few extra distributions the generator needs
//! ([`RngExt`]), and lattice value noise (fractal sums of smoothly interpolated random
//! lattices) rendered straight into grids, far cheaper than hashing every pixel.
//! Everything is a pure function of the seed, so a sample is bit-identical on every
//! run and thread.

use crate::grid::Grid;
use crate::rng::Rng;

/// Distributions beyond uniform floats and normals.
pub trait RngExt {
    /// A generator for a sub-task, independent of how much `self` is used afterwards.
    fn fork(&mut self) -> Rng;
    /// Uniform integer in `lo..=hi`.
    fn int(&mut self, lo: usize, hi: usize) -> usize;
    fn chance(&mut self, p: f32) -> bool;
    /// ±1 with equal probability.
    fn sign(&mut self) -> f32;
    /// Index drawn with probability proportional to `weights`.
    fn weighted(&mut self, weights: &[f32]) -> usize;
}

impl RngExt for Rng {
    fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }

    fn int(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    fn chance(&mut self, p: f32) -> bool {
        self.f32() < p
    }

    fn sign(&mut self) -> f32 {
        if self.chance(0.5) { 1.0 } else { -1.0 }
    }

    fn weighted(&mut self, weights: &[f32]) -> usize {
        let total: f32 = weights.iter().sum();
        let mut r = self.f32() * total;
        for (i, w) in weights.iter().enumerate() {
            if r < *w {
                return i;
            }
            r -= w;
        }
        weights.len() - 1
    }
}

/// Fractal value noise of `octaves` octaves (each half the cell size and `gain` times the
/// amplitude of the previous), the coarsest with cells of `cell_px` pixels. Roughly
/// zero-mean with values in about −1..1.
pub fn fbm(rng: &mut Rng, width: usize, height: usize, cell_px: f32, octaves: usize, gain: f32) -> Grid<f32> {
    let mut out = Grid::filled(width, height, 0.0f32);
    let (mut cell, mut amplitude, mut total) = (cell_px.max(1.0), 1.0f32, 0.0f32);
    for _ in 0..octaves {
        add_lattice_octave(rng, &mut out, cell, amplitude);
        total += amplitude;
        cell = (cell * 0.5).max(1.0);
        amplitude *= gain;
    }
    let scale = 1.0 / total;
    out.data.iter_mut().for_each(|v| *v *= scale);
    out
}

/// Adds `amplitude ×` a random lattice with spacing `cell_px`, smoothstep-interpolated
/// and offset by a random fraction of a cell so that lattice lines do not align.
fn add_lattice_octave(rng: &mut Rng, out: &mut Grid<f32>, cell_px: f32, amplitude: f32) {
    let (w, h) = (out.width, out.height);
    let lw = (w as f32 / cell_px).ceil() as usize + 2;
    let lh = (h as f32 / cell_px).ceil() as usize + 2;
    let lattice: Vec<f32> = (0..lw * lh).map(|_| rng.f32() * 2.0 - 1.0).collect();
    let (ox, oy) = (rng.f32(), rng.f32());
    let inv = 1.0 / cell_px;
    // Per-column cell index and weight, reused for every row.
    let columns: Vec<(usize, f32)> = (0..w)
        .map(|x| {
            let u = x as f32 * inv + ox;
            let i = u.floor();
            let t = u - i;
            (i as usize, t * t * (3.0 - 2.0 * t))
        })
        .collect();
    for y in 0..h {
        let v = y as f32 * inv + oy;
        let j = v.floor();
        let s = v - j;
        let s = s * s * (3.0 - 2.0 * s);
        let (r0, r1) = (&lattice[j as usize * lw..], &lattice[(j as usize + 1) * lw..]);
        let row = &mut out.data[y * w..(y + 1) * w];
        for (o, &(i, t)) in row.iter_mut().zip(&columns) {
            let a = r0[i] + (r0[i + 1] - r0[i]) * t;
            let b = r1[i] + (r1[i + 1] - r1[i]) * t;
            *o += amplitude * (a + (b - a) * s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_and_weighted_draws_stay_in_range() {
        let mut r = Rng::new(9);
        for _ in 0..1000 {
            let v = r.range(-2.0, 5.0);
            assert!((-2.0..5.0).contains(&v));
            assert!((3..=7).contains(&r.int(3, 7)));
            assert!(r.weighted(&[0.2, 0.0, 0.8]) != 1, "zero weight is never drawn");
        }
    }

    #[test]
    fn fbm_is_bounded_and_not_constant() {
        let n = fbm(&mut Rng::new(1), 70, 50, 16.0, 4, 0.5);
        let (lo, hi) = n.min_max();
        assert!(lo >= -1.0 && hi <= 1.0 && hi - lo > 0.3, "{lo}..{hi}");
    }
}
