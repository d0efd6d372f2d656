//! Photo → [`Layers`]: shrink to the working resolution (low-pass filtered first, so a
//! large scan does not alias its grain), normalise, pad to the network's size multiple,
//! run the network (in overlapping tiles when the image exceeds the tile size), and
//! bring the layers back to the photo's full resolution.

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};

use super::config::EdgeMode;
pub use super::config::InferOptions;
use super::model::{MultiTaskNet, edge_strength};
use super::weights::{Weights, WeightsMeta};
use crate::cancel::{Cancel, Cancelled};
use crate::grid::Grid;
use crate::layers::Layers;
use crate::photo::Photo;

/// Raw per-pixel network outputs at working resolution.
struct Maps {
    depth: Grid<f32>,
    /// Class probabilities, `[class][pixel]`.
    semantics: Vec<Grid<f32>>,
    edges: Vec<Grid<f32>>,
}

impl Maps {
    /// Averages these maps with `other`, the maps of the mirrored photo, mirrored back.
    fn average_with_mirrored(&mut self, other: Maps) {
        let pairs = std::iter::once((&mut self.depth, other.depth))
            .chain(self.semantics.iter_mut().zip(other.semantics))
            .chain(self.edges.iter_mut().zip(other.edges));
        for (mine, mut theirs) in pairs {
            theirs.mirror_x();
            for (a, b) in mine.data.iter_mut().zip(&theirs.data) {
                *a = 0.5 * (*a + b);
            }
        }
    }
}

fn photo_tensor(photo: &Grid<[f32; 3]>, meta: &WeightsMeta, multiple: usize, device: &Device) -> Tensor<4> {
    let (w, h) = (photo.width, photo.height);
    let pw = w.div_ceil(multiple) * multiple;
    let ph = h.div_ceil(multiple) * multiple;
    let mut data = vec![0f32; 3 * pw * ph];
    for c in 0..3 {
        for y in 0..ph {
            for x in 0..pw {
                // Edge replication into the padding.
                let v = photo.get(x.min(w - 1), y.min(h - 1))[c];
                data[(c * ph + y) * pw + x] = (v - meta.mean[c]) / meta.std[c];
            }
        }
    }
    Tensor::from_data(TensorData::new(data, [1, 3, ph, pw]), device)
}

fn to_grids(t: Tensor<4>, w: usize, h: usize) -> Vec<Grid<f32>> {
    let [_, c, ph, pw] = t.dims();
    let v: Vec<f32> = t.into_data().try_into_vec::<f32>().expect("f32 tensor");
    (0..c)
        .map(|ch| Grid::from_fn(w, h, |x, y| v[(ch * ph + y) * pw + x]))
        .collect()
}

fn run(
    model: &MultiTaskNet,
    photo: &Grid<[f32; 3]>,
    meta: &WeightsMeta,
    device: &Device,
    cancel: &Cancel,
) -> Result<Maps, Cancelled> {
    let (w, h) = (photo.width, photo.height);
    let out = model.forward_cancellable(photo_tensor(photo, meta, model.size_multiple(), device), cancel)?;
    let semantics = to_grids(burn::tensor::activation::softmax(out.semantics, 1), w, h);
    let edges = match (out.edges_photo, model.edge_mode()) {
        (Some(e), EdgeMode::MultiClass) => to_grids(burn::tensor::activation::softmax(e, 1), w, h),
        // One-channel modes: spread the 0..1 strength over the six ordered classes.
        (Some(e), mode) => {
            let s = to_grids(edge_strength(e, mode), w, h).remove(0);
            (0..crate::labels::EDGE_CLASSES)
                .map(|c| s.map(|v| if ((v * 5.0).round() as usize) == c { 1.0 } else { 0.0 }))
                .collect()
        }
        (None, _) => vec![Grid::filled(w, h, 1.0)],
    };
    let depth = to_grids(out.depth, w, h).remove(0);
    Ok(Maps {
        depth,
        semantics,
        edges,
    })
}

/// Tile origins along one axis: tiles of `tile` with at least `overlap` shared.
fn tile_starts(len: usize, tile: usize, overlap: usize) -> Vec<usize> {
    if len <= tile {
        return vec![0];
    }
    let step = tile - overlap;
    let n = (len - overlap).div_ceil(step);
    (0..n).map(|i| (i * step).min(len - tile)).collect()
}

/// Weight of a tile pixel: ramps linearly over the overlap at inner tile borders.
fn ramp(i: usize, len: usize, overlap: usize, at_start: bool, at_end: bool) -> f32 {
    let mut w = 1.0f32;
    if !at_start && overlap > 0 {
        w = w.min((i as f32 + 0.5) / overlap as f32);
    }
    if !at_end && overlap > 0 {
        w = w.min((len - i) as f32 - 0.5).min(overlap as f32) / overlap as f32;
    }
    w.clamp(1e-3, 1.0)
}

/// Runs the network over overlapping tiles. Each tile's relative depth is aligned to
/// what is already blended (least-squares scale and shift over the overlap) before
/// blending, so tiles agree on one height scale.
fn run_tiled(
    model: &MultiTaskNet,
    photo: &Grid<[f32; 3]>,
    meta: &WeightsMeta,
    device: &Device,
    opts: &InferOptions,
    cancel: &Cancel,
) -> Result<Maps, Cancelled> {
    let (w, h) = (photo.width, photo.height);
    if w <= opts.tile_px && h <= opts.tile_px {
        return run(model, photo, meta, device, cancel);
    }
    let tile = opts.tile_px.max(2 * opts.overlap_px + model.size_multiple());
    let mut depth = Grid::filled(w, h, 0.0f32);
    let mut weight = Grid::filled(w, h, 0.0f32);
    let mut semantics: Vec<Grid<f32>> = Vec::new();
    let mut edges: Vec<Grid<f32>> = Vec::new();
    let xs = tile_starts(w, tile, opts.overlap_px);
    let ys = tile_starts(h, tile, opts.overlap_px);
    for (iy, &y0) in ys.iter().enumerate() {
        for (ix, &x0) in xs.iter().enumerate() {
            let (tw, th) = (tile.min(w), tile.min(h));
            let crop = Grid::from_fn(tw, th, |x, y| photo.get(x0 + x, y0 + y));
            let maps = run(model, &crop, meta, device, cancel)?;
            if semantics.is_empty() {
                semantics = vec![Grid::filled(w, h, 0.0); maps.semantics.len()];
                edges = vec![Grid::filled(w, h, 0.0); maps.edges.len()];
            }
            // Align this tile's depth to the blend so far where they overlap.
            let (mut n, mut sp, mut st, mut spp, mut spt) = (0f64, 0f64, 0f64, 0f64, 0f64);
            for y in 0..th {
                for x in 0..tw {
                    if weight.get(x0 + x, y0 + y) > 0.0 {
                        let p = maps.depth.get(x, y) as f64;
                        let t = (depth.get(x0 + x, y0 + y) / weight.get(x0 + x, y0 + y)) as f64;
                        n += 1.0;
                        sp += p;
                        st += t;
                        spp += p * p;
                        spt += p * t;
                    }
                }
            }
            let var = spp - sp * sp / n.max(1.0);
            let (scale, shift) = if n > 16.0 && var > 1e-9 {
                let s = (spt - sp * st / n) / var;
                let s = s.clamp(0.25, 4.0);
                (s, (st - s * sp) / n)
            } else {
                (1.0, 0.0)
            };
            for y in 0..th {
                let wy = ramp(y, th, opts.overlap_px, iy == 0, iy + 1 == ys.len());
                for x in 0..tw {
                    let wx = ramp(x, tw, opts.overlap_px, ix == 0, ix + 1 == xs.len());
                    let k = wx * wy;
                    let (gx, gy) = (x0 + x, y0 + y);
                    let d = (maps.depth.get(x, y) as f64 * scale + shift) as f32;
                    depth.set(gx, gy, depth.get(gx, gy) + k * d);
                    weight.set(gx, gy, weight.get(gx, gy) + k);
                    for (acc, m) in semantics
                        .iter_mut()
                        .zip(&maps.semantics)
                        .chain(edges.iter_mut().zip(&maps.edges))
                    {
                        acc.set(gx, gy, acc.get(gx, gy) + k * m.get(x, y));
                    }
                }
            }
        }
    }
    for (i, wgt) in weight.data.iter().enumerate() {
        depth.data[i] /= wgt;
        for g in semantics.iter_mut().chain(edges.iter_mut()) {
            g.data[i] /= wgt;
        }
    }
    Ok(Maps {
        depth,
        semantics,
        edges,
    })
}

fn argmax(maps: &[Grid<f32>], width: usize, height: usize) -> Grid<u8> {
    let (mw, mh) = (maps[0].width, maps[0].height);
    Grid::from_fn(width, height, |x, y| {
        let sx = (x as f32 + 0.5) * mw as f32 / width as f32 - 0.5;
        let sy = (y as f32 + 0.5) * mh as f32 / height as f32 - 0.5;
        let mut best = (0u8, f32::NEG_INFINITY);
        for (c, m) in maps.iter().enumerate() {
            let p = m.sample_bilinear(sx, sy);
            if p > best.1 {
                best = (c as u8, p);
            }
        }
        best.0
    })
}

/// Shrinks (or enlarges) `photo` to `width × height`. A shrink by a factor s is low-pass
/// filtered first by a Gaussian of variance (s² − 1)/6, which turns the bilinear sampling
/// that follows into a tent filter s pixels wide: no aliasing, and the same kernel the
/// training crops are resampled with at s ≤ 1.
fn resize_rgb(photo: &Grid<[f32; 3]>, width: usize, height: usize) -> Grid<[f32; 3]> {
    let shrink = (photo.width as f32 / width as f32).max(photo.height as f32 / height as f32);
    let sigma_px = ((shrink * shrink - 1.0).max(0.0) / 6.0).sqrt();
    let channel = |c: usize| {
        let plane = photo.map(|p| p[c]);
        let plane = if sigma_px > 0.3 {
            crate::filter::blur(&plane, sigma_px)
        } else {
            plane
        };
        plane.resized(width, height)
    };
    let (r, g, b) = (channel(0), channel(1), channel(2));
    Grid::from_fn(width, height, |x, y| [r.get(x, y), g.get(x, y), b.get(x, y)])
}

/// Predicts the three layers of `photo` at its full resolution.
pub fn predict(weights: &Weights, photo: &Photo, device: &Device, opts: &InferOptions) -> Layers {
    match predict_cancellable(weights, photo, device, opts, &Cancel::default()) {
        Ok(layers) => layers,
        Err(Cancelled) => unreachable!("nobody else holds this flag"),
    }
}

/// [`predict`] that checks `cancel` between the network's stages in every pass (each
/// tile, each of the two mirror passes), so it stops within a fraction of a second of
/// the flag being set at any photo size.
pub fn predict_cancellable(
    weights: &Weights,
    photo: &Photo,
    device: &Device,
    opts: &InferOptions,
    cancel: &Cancel,
) -> Result<Layers, Cancelled> {
    let model = weights.model.valid();
    let (w, h) = (photo.width(), photo.height());
    let side = match opts.max_side_px {
        None => weights.meta.working_side_px,
        Some(0) => w.max(h),
        Some(s) => s,
    };
    let scale = (side as f32 / w.max(h) as f32).min(1.0);
    let (ww, wh) = (
        ((w as f32 * scale).round() as usize).max(2),
        ((h as f32 * scale).round() as usize).max(2),
    );
    let work = if (ww, wh) == (w, h) {
        photo.rgb.clone()
    } else {
        resize_rgb(&photo.rgb, ww, wh)
    };
    let mut maps = run_tiled(&model, &work, &weights.meta, device, opts, cancel)?;
    if opts.mirror_average {
        let mut mirrored = work;
        mirrored.mirror_x();
        let other = run_tiled(&model, &mirrored, &weights.meta, device, opts, cancel)?;
        maps.average_with_mirrored(other);
    }
    let depth = if (ww, wh) == (w, h) {
        maps.depth
    } else {
        maps.depth.resized(w, h)
    };
    Ok(Layers {
        depth,
        edges: argmax(&maps.edges, w, h),
        semantics: argmax(&maps.semantics, w, h),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shrunk_photo_does_not_alias_its_grain() {
        // A one-pixel checkerboard shrunk 5×: grain finer than the new pixels must
        // average out to grey, not come back as a coarse false pattern.
        let fine = Grid::from_fn(400, 400, |x, y| [((x + y) % 2) as f32; 3]);
        let small = resize_rgb(&fine, 80, 80);
        let (lo, hi) = small.map(|p| p[0]).min_max();
        assert!(lo > 0.4 && hi < 0.6, "{lo}..{hi}");
    }

    #[test]
    fn tiles_cover_the_axis_with_overlap() {
        assert_eq!(tile_starts(500, 768, 64), vec![0]);
        let starts = tile_starts(2000, 768, 64);
        assert_eq!(*starts.last().unwrap() + 768, 2000);
        for pair in starts.windows(2) {
            assert!(pair[0] + 768 >= pair[1] + 64, "overlap kept: {starts:?}");
        }
    }
}
