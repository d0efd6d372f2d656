//! Gradient-domain fusion inside the network: the height whose slopes are closest to the
//! slope head's while staying near the height head's, `min Σ |∇h − g|² + λ Σ (h − h₀)²`
//! (a screened Poisson equation). Slopes are local, what a convolution sees best;
//! integrating them settles the level of a region from the slopes around it, and `h₀`
//! anchors what slopes cannot give (drift over long distances) with weight λ. Solved
//! exactly and differentiably, so that training sees the fused height and the slopes
//! learn to integrate to the right levels.
//!
//! With forward-difference slopes and no flux through the border, the normal equations
//! are `(L + λ) h = Dᵀg + λh₀` with L the grid's Neumann Laplacian, which the 2-D DCT-II
//! diagonalises (eigenvalues `4 sin²(πk/2H) + 4 sin²(πl/2W)`): one transform of the right
//! side, a division, one inverse transform, each two matrix products.

use burn::tensor::{Device, Tensor, TensorData};

/// Orthonormal DCT-II matrix `[n, n]`: row k, column i is `s_k cos(π (i + ½) k / n)`.
fn dct_matrix(n: usize, device: &Device) -> Tensor<2> {
    let mut values = Vec::with_capacity(n * n);
    for k in 0..n {
        let s = if k == 0 {
            (1.0 / n as f64).sqrt()
        } else {
            (2.0 / n as f64).sqrt()
        };
        for i in 0..n {
            values.push((s * (std::f64::consts::PI * (i as f64 + 0.5) * k as f64 / n as f64).cos()) as f32);
        }
    }
    Tensor::from_data(TensorData::new(values, [n, n]), device)
}

/// `λ + 4 sin²(πk/2h) + 4 sin²(πl/2w)`, `[1, h, w]`.
fn eigenvalues(h: usize, w: usize, lambda: f64, device: &Device) -> Tensor<3> {
    let along = |n: usize, k: usize| 4.0 * (std::f64::consts::PI * k as f64 / (2.0 * n as f64)).sin().powi(2);
    let values: Vec<f32> = (0..h)
        .flat_map(|k| (0..w).map(move |l| (lambda + along(h, k) + along(w, l)) as f32))
        .collect();
    Tensor::from_data(TensorData::new(values, [1, h, w]), device)
}

/// The screened Poisson fusion of `h0` `[b, 1, h, w]` with `slopes` `[b, 2, h, w]`
/// (channel 0 `h(x + 1, y) − h(x, y)`, channel 1 `h(x, y + 1) − h(x, y)`; the last
/// column of the first and the last row of the second are unused) at weight `lambda` > 0.
pub fn screened_poisson(h0: Tensor<4>, slopes: Tensor<4>, lambda: f64) -> Tensor<4> {
    let [b, _, h, w] = h0.dims();
    let device = h0.device();
    let gx = slopes.clone().narrow(1, 0, 1).narrow(3, 0, w - 1);
    let gy = slopes.narrow(1, 1, 1).narrow(2, 0, h - 1);
    // Dᵀg: each link's slope pushes its far end up and its near end down.
    let zx = Tensor::<4>::zeros([b, 1, h, 1], &device);
    let zy = Tensor::<4>::zeros([b, 1, 1, w], &device);
    let dtg = Tensor::cat(vec![zx.clone(), gx.clone()], 3) - Tensor::cat(vec![gx, zx], 3)
        + Tensor::cat(vec![zy.clone(), gy.clone()], 2)
        - Tensor::cat(vec![gy, zy], 2);
    let rhs = (h0 * lambda + dtg).reshape([b, h, w]);
    let ch = dct_matrix(h, &device).unsqueeze::<3>().expand([b, h, h]);
    let cw = dct_matrix(w, &device).unsqueeze::<3>().expand([b, w, w]);
    let spectrum = ch.clone().matmul(rhs).matmul(cw.clone().transpose()) / eigenvalues(h, w, lambda, &device);
    ch.transpose().matmul(spectrum).matmul(cw).reshape([b, 1, h, w])
}

/// Each sample's height with zero mean and unit mean absolute deviation: what is left
/// of a relief once its unknowable scale and offset are taken away.
pub fn standardize(h: Tensor<4>) -> Tensor<4> {
    let dims = h.dims();
    let flat = h.reshape([dims[0], dims[1] * dims[2] * dims[3]]);
    let centred = flat.clone() - flat.mean_dim(1);
    let spread = centred.clone().abs().mean_dim(1).clamp_min(1e-3);
    (centred / spread).reshape(dims)
}

/// Each sample stretched to 0..1 (its lowest point 0, its highest 1).
pub fn stretch(h: Tensor<4>) -> Tensor<4> {
    let dims = h.dims();
    let flat = h.reshape([dims[0], dims[1] * dims[2] * dims[3]]);
    let lo = flat.clone().min_dim(1);
    let hi = flat.clone().max_dim(1);
    ((flat - lo.clone()) / (hi - lo).clamp_min(1e-6)).reshape(dims)
}

/// The height head's output fused with the slope head's (slopes of the standardized
/// height, [`crate::loss::slope_loss`]): standardized, solved, stretched to 0..1.
pub fn fuse(height: Tensor<4>, slopes: Tensor<4>, lambda: f64) -> Tensor<4> {
    stretch(screened_poisson(standardize(height), slopes, lambda))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Grid;

    fn tensor(g: &Grid<f32>, device: &Device) -> Tensor<4> {
        Tensor::from_data(TensorData::new(g.data.clone(), [1, 1, g.height, g.width]), device)
    }

    /// Forward-difference slopes of `h`, `[1, 2, h, w]`, zero on the unused last column / row.
    fn slopes_of(h: &Grid<f32>, device: &Device) -> Tensor<4> {
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
        Tensor::cat(vec![tensor(&gx, device), tensor(&gy, device)], 1)
    }

    fn worst_difference(a: &Grid<f32>, b: &Grid<f32>) -> f32 {
        a.data
            .iter()
            .zip(&b.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max)
    }

    fn solve(h0: &Grid<f32>, slopes: Tensor<4>, lambda: f64) -> Grid<f32> {
        let device = slopes.device();
        let out = screened_poisson(tensor(h0, &device), slopes, lambda);
        Grid::from_vec(h0.width, h0.height, out.into_data().try_into_vec::<f32>().unwrap())
    }

    #[test]
    fn the_solution_satisfies_the_normal_equations() {
        // (L + λ) h = Dᵀg + λh₀, checked pixel by pixel on a 24 × 17 grid (odd sides).
        let device = Device::flex();
        let (w, h) = (24, 17);
        let wave = |x: usize, y: usize, a: f32| ((x as f32 * a).sin() + (y as f32 * 0.31 * a).cos()) * 0.5;
        let h0 = Grid::from_fn(w, h, |x, y| wave(x, y, 0.37));
        let gx = Grid::from_fn(w, h, |x, y| wave(x, y, 0.71) * 0.2);
        let gy = Grid::from_fn(w, h, |x, y| wave(y, x, 0.53) * 0.2);
        for lambda in [1e-3, 0.1, 10.0] {
            let slopes = Tensor::cat(vec![tensor(&gx, &device), tensor(&gy, &device)], 1);
            let v = solve(&h0, slopes, lambda);
            let mut worst = 0.0f64;
            for y in 0..h {
                for x in 0..w {
                    let mut lhs = lambda * (v.get(x, y) - h0.get(x, y)) as f64;
                    let mut link = |(nx, ny): (usize, usize), g: f32, forward: bool| {
                        lhs += (v.get(x, y) - v.get(nx, ny)) as f64;
                        // The link's slope pushes its far end up, its near end down.
                        lhs += if forward { g } else { -g } as f64;
                    };
                    if x + 1 < w {
                        link((x + 1, y), gx.get(x, y), true);
                    }
                    if x > 0 {
                        link((x - 1, y), gx.get(x - 1, y), false);
                    }
                    if y + 1 < h {
                        link((x, y + 1), gy.get(x, y), true);
                    }
                    if y > 0 {
                        link((x, y - 1), gy.get(x, y - 1), false);
                    }
                    worst = worst.max(lhs.abs());
                }
            }
            assert!(worst < 1e-3, "λ {lambda}: residual {worst}");
        }
    }

    #[test]
    fn exact_slopes_rebuild_a_surface_from_a_flat_guess() {
        let device = Device::flex();
        let surface = Grid::from_fn(48, 40, |x, y| {
            let (u, v) = (x as f32 / 47.0, y as f32 / 39.0);
            let boss = if (x as i32 - 20).pow(2) + (y as i32 - 18).pow(2) < 64 {
                0.4
            } else {
                0.0
            };
            (3.0 * u).sin() * 0.5 + v * v + boss
        });
        let mean = surface.data.iter().sum::<f32>() / surface.data.len() as f32;
        let fused = solve(&Grid::filled(48, 40, mean), slopes_of(&surface, &device), 1e-6);
        let worst = worst_difference(&fused, &surface);
        assert!(worst < 1e-2, "off by {worst}");
    }

    #[test]
    fn a_ring_on_flat_ground_does_not_raise_the_ground_it_encloses() {
        // The truth: a thin raised ring on flat ground. The height guess wrongly fills the
        // ring's inside as a plateau; the slopes are the truth's.
        let device = Device::flex();
        let r = |x: usize, y: usize| ((x as f32 - 32.0).powi(2) + (y as f32 - 32.0).powi(2)).sqrt();
        let truth = Grid::from_fn(64, 64, |x, y| if (r(x, y) - 20.0).abs() < 2.0 { 1.0 } else { 0.0 });
        let guess = Grid::from_fn(64, 64, |x, y| if r(x, y) < 22.0 { 1.0 } else { 0.0 });
        let fused = fuse(tensor(&guess, &device), slopes_of(&truth, &device), 1e-4);
        let fused = Grid::from_vec(64, 64, fused.into_data().try_into_vec::<f32>().unwrap());
        let (centre, outside, ring) = (fused.get(32, 32), fused.get(2, 2), fused.get(32, 12));
        assert!((centre - outside).abs() < 0.1, "centre {centre}, outside {outside}");
        assert!(ring - outside > 0.8, "ring {ring}, outside {outside}");
    }

    #[test]
    fn no_slopes_and_a_large_weight_keep_the_height() {
        let device = Device::flex();
        let guess = Grid::from_fn(16, 16, |x, y| (x * y) as f32 / 225.0);
        let fused = solve(&guess, Tensor::zeros([1, 2, 16, 16], &device), 1e6);
        let worst = worst_difference(&fused, &guess);
        assert!(worst < 1e-4, "off by {worst}");
    }
}
