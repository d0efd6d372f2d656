//! Gradient-domain fusion: the height whose slopes are closest to given slopes while
//! staying near a given height, `min Σ |∇h − g|² + λ Σ (h − h₀)²` (a screened Poisson
//! equation). Slopes are local, what a convolution sees best; integrating them settles
//! the level of a region from the slopes around it. `h₀` anchors what slopes cannot
//! give (the absolute level, drift over long distances) with weight λ.
//!
//! Discretisation: forward differences, `gx(x, y) ≈ h(x + 1, y) − h(x, y)` (the last
//! column of `gx` and last row of `gy` are unused), no flux through the border. The
//! normal equations `(L + λ) h = Dᵀg + λh₀` (L the graph Laplacian of the pixel grid,
//! symmetric positive definite for λ > 0) are solved by conjugate gradients from `h₀`.

use crate::grid::Grid;

/// Relative residual at which the solve stops.
const TOLERANCE: f64 = 1e-5;

/// The screened Poisson fusion of `h0` (weight `lambda` > 0) with slopes `gx`, `gy`;
/// at most `max_iterations` conjugate-gradient steps. All three grids share a size.
pub fn fuse_slopes(h0: &Grid<f32>, gx: &Grid<f32>, gy: &Grid<f32>, lambda: f64, max_iterations: usize) -> Grid<f32> {
    let (w, h) = (h0.width, h0.height);
    assert!(
        (gx.width, gx.height) == (w, h) && (gy.width, gy.height) == (w, h),
        "slopes and height differ in size"
    );
    assert!(lambda > 0.0, "the screening weight must be positive");
    let n = w * h;
    let apply = |v: &[f64], out: &mut [f64]| {
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                let mut acc = lambda * v[i];
                if x > 0 {
                    acc += v[i] - v[i - 1];
                }
                if x + 1 < w {
                    acc += v[i] - v[i + 1];
                }
                if y > 0 {
                    acc += v[i] - v[i - w];
                }
                if y + 1 < h {
                    acc += v[i] - v[i + w];
                }
                out[i] = acc;
            }
        }
    };
    // b = λh₀ + Dᵀg: each link's slope pushes its far end up and its near end down.
    let mut b: Vec<f64> = h0.data.iter().map(|&v| lambda * v as f64).collect();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if x + 1 < w {
                let g = gx.data[i] as f64;
                b[i] -= g;
                b[i + 1] += g;
            }
            if y + 1 < h {
                let g = gy.data[i] as f64;
                b[i] -= g;
                b[i + w] += g;
            }
        }
    }
    let mut v: Vec<f64> = h0.data.iter().map(|&x| x as f64).collect();
    let mut ap = vec![0.0; n];
    apply(&v, &mut ap);
    let mut r: Vec<f64> = b.iter().zip(&ap).map(|(b, a)| b - a).collect();
    let mut p = r.clone();
    let mut rr: f64 = r.iter().map(|x| x * x).sum();
    let stop = TOLERANCE * TOLERANCE * b.iter().map(|x| x * x).sum::<f64>().max(1e-30);
    for _ in 0..max_iterations {
        if rr <= stop {
            break;
        }
        apply(&p, &mut ap);
        let alpha = rr / p.iter().zip(&ap).map(|(p, a)| p * a).sum::<f64>();
        for i in 0..n {
            v[i] += alpha * p[i];
            r[i] -= alpha * ap[i];
        }
        let next: f64 = r.iter().map(|x| x * x).sum();
        let beta = next / rr;
        rr = next;
        for i in 0..n {
            p[i] = r[i] + beta * p[i];
        }
    }
    Grid {
        width: w,
        height: h,
        data: v.into_iter().map(|x| x as f32).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Forward-difference slopes of `h` in the convention of [`fuse_slopes`].
    fn slopes(h: &Grid<f32>) -> (Grid<f32>, Grid<f32>) {
        let (w, hh) = (h.width, h.height);
        let gx = Grid::from_fn(
            w,
            hh,
            |x, y| if x + 1 < w { h.get(x + 1, y) - h.get(x, y) } else { 0.0 },
        );
        let gy = Grid::from_fn(
            w,
            hh,
            |x, y| if y + 1 < hh { h.get(x, y + 1) - h.get(x, y) } else { 0.0 },
        );
        (gx, gy)
    }

    fn rms_diff(a: &Grid<f32>, b: &Grid<f32>) -> f32 {
        let s: f32 = a.data.iter().zip(&b.data).map(|(a, b)| (a - b) * (a - b)).sum();
        (s / a.data.len() as f32).sqrt()
    }

    #[test]
    fn exact_slopes_rebuild_a_surface_from_a_flat_guess() {
        let surface = Grid::from_fn(48, 40, |x, y| {
            let (u, v) = (x as f32 / 47.0, y as f32 / 39.0);
            (3.0 * u).sin() * 0.5
                + v * v
                + if (x as i32 - 20).pow(2) + (y as i32 - 18).pow(2) < 64 {
                    0.4
                } else {
                    0.0
                }
        });
        let mean = surface.data.iter().sum::<f32>() / surface.data.len() as f32;
        let (gx, gy) = slopes(&surface);
        let fused = fuse_slopes(&Grid::filled(48, 40, mean), &gx, &gy, 1e-6, 5000);
        assert!(rms_diff(&fused, &surface) < 1e-3, "{}", rms_diff(&fused, &surface));
    }

    #[test]
    fn a_ring_on_flat_ground_does_not_raise_the_ground_it_encloses() {
        // The truth: a thin raised ring on flat ground. The height guess wrongly fills
        // the ring's inside as a plateau; the slopes are the truth's.
        let (w, h) = (64, 64);
        let r = |x: usize, y: usize| ((x as f32 - 32.0).powi(2) + (y as f32 - 32.0).powi(2)).sqrt();
        let truth = Grid::from_fn(w, h, |x, y| if (r(x, y) - 20.0).abs() < 2.0 { 1.0 } else { 0.0 });
        let guess = Grid::from_fn(w, h, |x, y| if r(x, y) < 22.0 { 1.0 } else { 0.0 });
        let (gx, gy) = slopes(&truth);
        let fused = fuse_slopes(&guess, &gx, &gy, 1e-4, 5000);
        let centre = fused.get(32, 32);
        let outside = fused.get(2, 2);
        let ring = fused.get(32, 12);
        assert!((centre - outside).abs() < 0.1, "centre {centre}, outside {outside}");
        assert!(ring - outside > 0.8, "ring {ring}, outside {outside}");
    }

    #[test]
    fn no_slopes_and_a_large_weight_keep_the_height() {
        let guess = Grid::from_fn(16, 16, |x, y| (x * y) as f32 / 225.0);
        let zero = Grid::filled(16, 16, 0.0);
        let fused = fuse_slopes(&guess, &zero, &zero, 1e6, 100);
        assert!(rms_diff(&fused, &guess) < 1e-4);
    }
}
