//! Fast separable blurs (synthetic world, relief smoothing): an exact Gaussian for small radii and three
//! box passes (running sums, cost independent of the radius) for large ones. Borders
//! replicate the edge pixel.

use crate::grid::Grid;

/// Gaussian-like blur with standard deviation `sigma_px` (≤ 0.2 returns a copy).
pub fn blur(src: &Grid<f32>, sigma_px: f32) -> Grid<f32> {
    if sigma_px <= 0.2 {
        return src.clone();
    }
    let (w, h) = (src.width, src.height);
    let mut data = src.data.clone();
    let mut line = vec![0.0f32; w.max(h)];
    if sigma_px < 2.0 {
        let r = (3.0 * sigma_px).ceil() as usize;
        let kernel: Vec<f32> = (0..=2 * r)
            .map(|i| {
                let d = i as f32 - r as f32;
                (-d * d / (2.0 * sigma_px * sigma_px)).exp()
            })
            .collect();
        let sum: f32 = kernel.iter().sum();
        let kernel: Vec<f32> = kernel.iter().map(|k| k / sum).collect();
        pass(&mut data, w, h, &mut line, |l, out| convolve(l, out, &kernel, r));
    } else {
        let r = (((4.0 * sigma_px * sigma_px + 1.0).sqrt() - 1.0) * 0.5)
            .round()
            .max(1.0) as usize;
        pass(&mut data, w, h, &mut line, |l, out| {
            let mut tmp = l.to_vec();
            box_line(l, out, r);
            box_line(out, &mut tmp, r);
            box_line(&tmp, out, r);
        });
    }
    Grid::from_vec(w, h, data)
}

/// Applies `f(line_in, line_out)` to every row, then every column.
fn pass(data: &mut [f32], w: usize, h: usize, line: &mut [f32], f: impl Fn(&[f32], &mut [f32])) {
    let mut out = vec![0.0f32; w.max(h)];
    for y in 0..h {
        f(&data[y * w..(y + 1) * w], &mut out[..w]);
        data[y * w..(y + 1) * w].copy_from_slice(&out[..w]);
    }
    for x in 0..w {
        for y in 0..h {
            line[y] = data[y * w + x];
        }
        f(&line[..h], &mut out[..h]);
        for y in 0..h {
            data[y * w + x] = out[y];
        }
    }
}

fn convolve(src: &[f32], out: &mut [f32], kernel: &[f32], r: usize) {
    let n = src.len();
    let clamped = |i: usize| {
        let mut acc = 0.0;
        for (k, kv) in kernel.iter().enumerate() {
            let j = (i as isize + k as isize - r as isize).clamp(0, n as isize - 1) as usize;
            acc += kv * src[j];
        }
        acc
    };
    for (i, o) in out.iter_mut().enumerate() {
        *o = if i >= r && i + r < n {
            kernel.iter().zip(&src[i - r..=i + r]).map(|(k, v)| k * v).sum()
        } else {
            clamped(i)
        };
    }
}

/// Moving average of width `2r + 1` with clamped borders.
fn box_line(src: &[f32], out: &mut [f32], r: usize) {
    let n = src.len() as isize;
    let at = |i: isize| src[i.clamp(0, n - 1) as usize];
    let mut sum: f32 = (-(r as isize)..=r as isize).map(at).sum();
    let inv = 1.0 / (2 * r + 1) as f32;
    for i in 0..n {
        out[i as usize] = sum * inv;
        sum += at(i + r as isize + 1) - at(i - r as isize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_softens_a_step() {
        let step = Grid::from_fn(9, 1, |x, _| if x < 4 { 0.0 } else { 1.0 });
        let b = blur(&step, 1.0);
        assert!(b.get(3, 0) > 0.0 && b.get(4, 0) < 1.0);
        let c = blur(&Grid::filled(5, 5, 2.0f32), 2.0);
        assert!(c.data.iter().all(|&v| (v - 2.0).abs() < 1e-5));
    }

    #[test]
    fn blur_keeps_constants_and_mass() {
        let c = Grid::filled(30, 20, 2.0f32);
        for sigma in [0.7, 1.5, 4.0] {
            assert!(blur(&c, sigma).data.iter().all(|v| (v - 2.0).abs() < 1e-4));
        }
        let mut spike = Grid::filled(41, 41, 0.0f32);
        spike.set(20, 20, 1.0);
        for sigma in [1.0, 3.0] {
            let b = blur(&spike, sigma);
            let total: f32 = b.data.iter().sum();
            assert!((total - 1.0).abs() < 1e-3);
            let var: f32 = b
                .data
                .iter()
                .enumerate()
                .map(|(i, v)| v * ((i % 41) as f32 - 20.0).powi(2))
                .sum();
            assert!(
                (var.sqrt() - sigma).abs() < 0.35 * sigma,
                "sigma {sigma}: measured {}",
                var.sqrt()
            );
        }
    }
}
