//! Evaluation metrics as the seeds and the dev benchmark define them. Depth (seed 000 Table 3
//! plus seed 004's MAE): δ < 1.25ⁱ, RMSE, RMSE log, abs rel, sq rel on heights mapped to 1..255,
//! and the 3-D cloud-to-cloud distance in mm. Classes (seed 000 Table 4 for semantics, Table 2 for
//! soft edges): recall, precision, IoU, F1, accuracy and the edge-value RMSE, from a confusion
//! matrix summed over a whole data set. Benchmark: the numbers of `shared/bench/score_depth.py`
//! (least-squares scale + shift alignment, inverted reliefs, rmse %, normal °, edge %, d1), ported
//! line by line so that relievo's evaluation prints what the scorer prints.
//!
//! Data-set level: depth metrics and benchmark scores are computed per image and averaged over
//! images (each image weighs the same), as BTS/AdaBins' evaluation (seed 000's baselines) and
//! `score_depth.py` do; class metrics come from the confusion matrix summed over all images.
//!
//! All functions take the prediction first and the truth second; mismatched sizes are a
//! programming error and panic.

use rayon::prelude::*;
use serde::Serialize;

use crate::grid::Grid;
use crate::labels::{EDGE_CLASSES, edge_class_value};

/// The benchmark draws the relief 4 % of the image width deep when it compares normals.
const BENCH_RELIEF_DEPTH_OF_WIDTH: f64 = 0.04;
/// The benchmark's "edge" pixels: slope at or above this quantile (the steepest quarter).
const BENCH_STEEP_QUANTILE: f64 = 0.75;
/// Smallest true height range the benchmark divides by.
const BENCH_MIN_RANGE: f64 = 1e-9;
/// Most query points `cloud_to_cloud_mm` measures; larger clouds are subsampled on a lattice.
const CLOUD_MAX_QUERIES: usize = 1 << 18;

/// Seed 000's depth metrics on one image. Heights `h` in 0..1 (1 = most raised) are clamped to
/// 0..1 and mapped to the 8-bit depth values of seed 000, `d = 1 + 254·h` (1..255, so that ratios
/// and logs are defined; the same mapping as `score_depth.py`'s d1). `p` is the predicted and `t`
/// the true `d` of a pixel; means are over all pixels. No alignment is applied.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DepthMetrics {
    /// Fraction of pixels with `max(p/t, t/p) < 1.25`.
    pub delta1: f64,
    /// … `< 1.25²`.
    pub delta2: f64,
    /// … `< 1.25³`.
    pub delta3: f64,
    /// `√mean (p − t)²`, in 1..255 units.
    pub rmse: f64,
    /// `√mean (ln p − ln t)²`.
    pub rmse_log: f64,
    /// `mean |p − t| / t`.
    pub abs_rel: f64,
    /// `mean (p − t)² / t`.
    pub sq_rel: f64,
    /// `mean |p − t|` (seed 004), in 1..255 units (divide by 254 for 0..1 heights).
    pub mae: f64,
}

impl DepthMetrics {
    /// Mean over images, each weighing the same; `None` for no images.
    pub fn mean(images: &[DepthMetrics]) -> Option<DepthMetrics> {
        let n = images.len() as f64;
        let avg = |f: fn(&DepthMetrics) -> f64| images.iter().map(f).sum::<f64>() / n;
        (!images.is_empty()).then(|| DepthMetrics {
            delta1: avg(|m| m.delta1),
            delta2: avg(|m| m.delta2),
            delta3: avg(|m| m.delta3),
            rmse: avg(|m| m.rmse),
            rmse_log: avg(|m| m.rmse_log),
            abs_rel: avg(|m| m.abs_rel),
            sq_rel: avg(|m| m.sq_rel),
            mae: avg(|m| m.mae),
        })
    }
}

/// Seed 000's depth metrics of `pred` against `truth` (see `DepthMetrics`).
pub fn depth_metrics(pred: &Grid<f32>, truth: &Grid<f32>) -> DepthMetrics {
    check_pair(pred, truth);
    let to_1_255 = |h: f32| 1.0 + 254.0 * f64::from(h.clamp(0.0, 1.0));
    // [δ1, δ2, δ3, Σ diff², Σ log diff², Σ |diff|/t, Σ diff²/t, Σ |diff|]
    let mut sums = [0.0f64; 8];
    for (&p, &t) in pred.data.iter().zip(&truth.data) {
        let (p, t) = (to_1_255(p), to_1_255(t));
        let ratio = (p / t).max(t / p);
        let diff = p - t;
        let log_diff = p.ln() - t.ln();
        let terms = [
            f64::from(u8::from(ratio < 1.25)),
            f64::from(u8::from(ratio < 1.25 * 1.25)),
            f64::from(u8::from(ratio < 1.25 * 1.25 * 1.25)),
            diff * diff,
            log_diff * log_diff,
            diff.abs() / t,
            diff * diff / t,
            diff.abs(),
        ];
        for (sum, term) in sums.iter_mut().zip(terms) {
            *sum += term;
        }
    }
    let n = pred.len() as f64;
    let [d1, d2, d3, sq, log_sq, abs_rel, sq_rel, abs] = sums.map(|s| s / n);
    DepthMetrics {
        delta1: d1,
        delta2: d2,
        delta3: d3,
        rmse: sq.sqrt(),
        rmse_log: log_sq.sqrt(),
        abs_rel,
        sq_rel,
        mae: abs,
    }
}

/// `score_depth.py`'s numbers for one image, after the least-squares scale + shift alignment of the
/// prediction to the truth normalised to 0..1 by its range.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BenchScore {
    /// RMSE of the aligned height, in % of the true relief range.
    pub rmse_pct: f64,
    /// Mean angle in degrees between true and predicted surface normals, the relief drawn 4 % of
    /// the image width deep.
    pub normal_deg: f64,
    /// RMSE on the steepest quarter of the true pixels, in % of the range (the scorer's `edge_rmse`).
    #[serde(rename = "edge_rmse")]
    pub edge_pct: f64,
    /// δ < 1.25 on heights mapped to 1..255 (`1 + 254·h`, the aligned prediction clamped to 0..1).
    pub d1: f64,
    /// The best fit had a negative scale: the relief came out upside down.
    pub inverted: bool,
}

/// Mean of `BenchScore`s over images, as the scorer's summary row.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BenchSummary {
    pub rmse_pct: f64,
    pub normal_deg: f64,
    #[serde(rename = "edge_rmse")]
    pub edge_pct: f64,
    pub d1: f64,
    /// How many images came out inverted.
    pub inverted: usize,
    /// How many images were scored.
    pub n: usize,
}

impl BenchSummary {
    /// The mean over `scores`; `None` for no scores.
    pub fn of(scores: &[BenchScore]) -> Option<BenchSummary> {
        let n = scores.len();
        let avg = |f: fn(&BenchScore) -> f64| scores.iter().map(f).sum::<f64>() / n as f64;
        (n > 0).then(|| BenchSummary {
            rmse_pct: avg(|s| s.rmse_pct),
            normal_deg: avg(|s| s.normal_deg),
            edge_pct: avg(|s| s.edge_pct),
            d1: avg(|s| s.d1),
            inverted: scores.iter().filter(|s| s.inverted).count(),
            n,
        })
    }
}

/// Scores a model's prediction as `score_depth.py` does: an inverted prediction (negative best
/// scale) counts as a failure, i.e. it is scored as the flat plane at the mean true height.
/// `pred` must already have the truth's size (the scorer resizes with PIL's bilinear filter).
pub fn bench_score(pred: &Grid<f32>, truth: &Grid<f32>) -> BenchScore {
    score(pred, truth, false)
}

/// Scores with the best sign, as the scorer's baselines ("luminance", "flat"): an inverted
/// prediction is flipped and scored (and still flagged `inverted`).
pub fn bench_score_best_sign(pred: &Grid<f32>, truth: &Grid<f32>) -> BenchScore {
    score(pred, truth, true)
}

/// Least-squares `(scale, shift)` minimising `Σ (scale·pred + shift − truth)²`, the scorer's
/// alignment. A prediction with no variation (numpy's `lstsq` rank rule) gets scale 0 and shift
/// `mean(truth)`, as `lstsq`'s minimum-norm solution.
pub fn align_scale_shift(pred: &Grid<f32>, truth: &Grid<f32>) -> (f64, f64) {
    check_pair(pred, truth);
    let p: Vec<f64> = pred.data.iter().map(|&v| f64::from(v)).collect();
    let t: Vec<f64> = truth.data.iter().map(|&v| f64::from(v)).collect();
    fit_scale_shift(&p, &t)
}

/// The scorer's `score(gt, pred, allow_flip)`.
fn score(pred: &Grid<f32>, truth: &Grid<f32>, allow_flip: bool) -> BenchScore {
    check_pair(pred, truth);
    assert!(
        truth.width >= 2 && truth.height >= 2,
        "the benchmark needs at least 2×2 pixels (numpy.gradient)"
    );
    let (width, height) = (truth.width, truth.height);
    let (lo, hi) = truth.min_max();
    let range = (f64::from(hi) - f64::from(lo)).max(BENCH_MIN_RANGE);
    let g: Vec<f64> = truth
        .data
        .iter()
        .map(|&t| (f64::from(t) - f64::from(lo)) / range)
        .collect();
    let p: Vec<f64> = pred.data.iter().map(|&v| f64::from(v)).collect();
    let (mut scale, mut shift) = fit_scale_shift(&p, &g);
    let inverted = scale < 0.0;
    if inverted && !allow_flip {
        scale = 0.0;
        shift = mean(&g);
    }
    let aligned: Vec<f64> = p.iter().map(|&v| scale * v + shift).collect();
    let err2: Vec<f64> = aligned.iter().zip(&g).map(|(a, g)| (a - g) * (a - g)).collect();

    let depth_px = BENCH_RELIEF_DEPTH_OF_WIDTH * width as f64;
    let (gx_true, gy_true) = gradient(&g, width, height);
    let (gx_pred, gy_pred) = gradient(&aligned, width, height);
    let unit_normal = |gx: f64, gy: f64| {
        let n = [-gx * depth_px, -gy * depth_px, 1.0];
        let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
        n.map(|c| c / len)
    };
    let angle_sum: f64 = (0..g.len())
        .map(|i| {
            let a = unit_normal(gx_true[i], gy_true[i]);
            let b = unit_normal(gx_pred[i], gy_pred[i]);
            (a[0] * b[0] + a[1] * b[1] + a[2] * b[2])
                .clamp(-1.0, 1.0)
                .acos()
                .to_degrees()
        })
        .sum();

    let slope: Vec<f64> = gx_true.iter().zip(&gy_true).map(|(gx, gy)| gx.hypot(*gy)).collect();
    let steep = quantile(&slope, BENCH_STEEP_QUANTILE);
    let (steep_sum, steep_count) = slope
        .iter()
        .zip(&err2)
        .filter(|(s, _)| **s >= steep)
        .fold((0.0, 0usize), |(sum, count), (_, e)| (sum + e, count + 1));

    let d1_hits = aligned
        .iter()
        .zip(&g)
        .filter(|(a, g)| {
            let (d_true, d_pred) = (1.0 + 254.0 * **g, 1.0 + 254.0 * a.clamp(0.0, 1.0));
            (d_true / d_pred).max(d_pred / d_true) < 1.25
        })
        .count();

    let n = g.len() as f64;
    BenchScore {
        rmse_pct: 100.0 * mean(&err2).sqrt(),
        normal_deg: angle_sum / n,
        edge_pct: 100.0 * (steep_sum / steep_count as f64).sqrt(),
        d1: d1_hits as f64 / n,
        inverted,
    }
}

/// Least squares `truth ≈ scale·pred + shift`, solved on the centred prediction as the scorer
/// does, with numpy `lstsq`'s rank rule (`rcond = eps·max(M, N)`).
fn fit_scale_shift(pred: &[f64], truth: &[f64]) -> (f64, f64) {
    let n = pred.len() as f64;
    let mean_pred = mean(pred);
    let centred: Vec<f64> = pred.iter().map(|&p| p - mean_pred).collect();
    let (sum_c, sum_t) = (centred.iter().sum::<f64>(), truth.iter().sum::<f64>());
    let sum_cc: f64 = centred.iter().map(|c| c * c).sum();
    let sum_ct: f64 = centred.iter().zip(truth).map(|(c, t)| c * t).sum();
    // The design matrix [c, 1] has (nearly orthogonal) columns of norms ‖c‖ and √n; lstsq
    // drops a singular value at or below eps·n times the largest.
    let norm_c = sum_cc.sqrt();
    if norm_c <= f64::EPSILON * n * norm_c.max(n.sqrt()) {
        return (0.0, sum_t / n);
    }
    let scale = (n * sum_ct - sum_c * sum_t) / (n * sum_cc - sum_c * sum_c);
    let shift_centred = (sum_t - scale * sum_c) / n;
    (scale, shift_centred - scale * mean_pred)
}

/// `numpy.gradient` of a row-major `width × height` field with unit spacing: central differences
/// inside, one-sided differences on the borders. Returns (∂/∂x, ∂/∂y).
fn gradient(values: &[f64], width: usize, height: usize) -> (Vec<f64>, Vec<f64>) {
    let at = |x: usize, y: usize| values[y * width + x];
    let derivative = |lo: f64, hi: f64, central: bool| if central { (hi - lo) / 2.0 } else { hi - lo };
    let mut gx = Vec::with_capacity(values.len());
    let mut gy = Vec::with_capacity(values.len());
    for y in 0..height {
        let (y0, y1) = (y.saturating_sub(1), (y + 1).min(height - 1));
        for x in 0..width {
            let (x0, x1) = (x.saturating_sub(1), (x + 1).min(width - 1));
            gx.push(derivative(at(x0, y), at(x1, y), x1 - x0 == 2));
            gy.push(derivative(at(x, y0), at(x, y1), y1 - y0 == 2));
        }
    }
    (gx, gy)
}

/// `numpy.quantile(values, q)` with its default linear method, including numpy's two-sided lerp.
fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    let position = (values.len() - 1) as f64 * q;
    let below = position.floor() as usize;
    let t = position - below as f64;
    let (_, &mut a, above) = sorted.select_nth_unstable_by(below, f64::total_cmp);
    let b = above.iter().copied().min_by(f64::total_cmp).unwrap_or(a);
    let diff = b - a;
    if t >= 0.5 { b - diff * (1.0 - t) } else { a + diff * t }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Mean distance in mm from each predicted surface point to the nearest true surface point: a
/// one-sided cloud-to-cloud distance (prediction → truth, as CloudCompare's C2C, which seed 000's
/// "3D distance" reports). Both clouds have a point per pixel centre, `((x + 0.5)·pitch,
/// (y + 0.5)·pitch, h·relief_mm)` with `pitch = width_mm / width` (square pixels) and heights as
/// given (no alignment). The search is exact, ring by ring on the pixel lattice (the point straight
/// below bounds the radius); above 2¹⁸ pixels the query points are subsampled on a regular lattice.
pub fn cloud_to_cloud_mm(pred: &Grid<f32>, truth: &Grid<f32>, width_mm: f32, relief_mm: f32) -> f64 {
    check_pair(pred, truth);
    assert!(width_mm > 0.0, "the relief needs a positive width, not {width_mm} mm");
    let (width, height) = (truth.width, truth.height);
    let pitch = f64::from(width_mm) / width as f64;
    let relief = f64::from(relief_mm);
    let truth_z: Vec<f64> = truth.data.iter().map(|&h| f64::from(h) * relief).collect();
    let stride = ((truth.len() as f64 / CLOUD_MAX_QUERIES as f64).sqrt().ceil() as usize).max(1);
    let max_ring = width.max(height);

    let nearest = |x: usize, y: usize| -> f64 {
        let z = f64::from(pred.get(x, y)) * relief;
        let mut best2 = (z - truth_z[y * width + x]).powi(2);
        let mut ring = 1;
        while ring < max_ring && (ring as f64 * pitch).powi(2) < best2 {
            let k = ring as isize;
            for dy in -k..=k {
                let ty = y as isize + dy;
                if ty < 0 || ty >= height as isize {
                    continue;
                }
                let step = if dy.abs() == k { 1 } else { (2 * k) as usize };
                for dx in (-k..=k).step_by(step) {
                    let tx = x as isize + dx;
                    if tx < 0 || tx >= width as isize {
                        continue;
                    }
                    let lateral2 = ((dx * dx + dy * dy) as f64) * pitch * pitch;
                    if lateral2 < best2 {
                        let dz = z - truth_z[ty as usize * width + tx as usize];
                        best2 = best2.min(lateral2 + dz * dz);
                    }
                }
            }
            ring += 1;
        }
        best2.sqrt()
    };

    // Per-row sums, added in row order so the result does not depend on the thread count.
    let rows: Vec<(f64, usize)> = (0..height)
        .into_par_iter()
        .step_by(stride)
        .map(|y| {
            (0..width)
                .step_by(stride)
                .fold((0.0, 0), |(sum, count), x| (sum + nearest(x, y), count + 1))
        })
        .collect();
    let (sum, count) = rows.iter().fold((0.0, 0), |(s, c), &(rs, rc)| (s + rs, c + rc));
    sum / count as f64
}

/// Pixel counts by (true class, predicted class), summed over as many images as are added, so
/// that data-set metrics come from the sum rather than from a mean of per-image ratios.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfusionMatrix {
    classes: usize,
    /// `counts[truth * classes + pred]`.
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    pub fn new(classes: usize) -> Self {
        Self {
            classes,
            counts: vec![0; classes * classes],
        }
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Pixels of true class `truth` predicted as `pred`.
    pub fn count(&self, truth: usize, pred: usize) -> u64 {
        self.counts[truth * self.classes + pred]
    }

    /// All pixels added so far.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Adds one image's label maps.
    ///
    /// # Panics
    /// If the lengths differ or a label is not below `classes`.
    pub fn add(&mut self, pred: &[u8], truth: &[u8]) {
        assert_eq!(
            pred.len(),
            truth.len(),
            "prediction and truth label maps must have the same size"
        );
        for (&p, &t) in pred.iter().zip(truth) {
            let (p, t) = (usize::from(p), usize::from(t));
            assert!(
                p < self.classes && t < self.classes,
                "label {} out of range 0..{}",
                p.max(t),
                self.classes
            );
            self.counts[t * self.classes + p] += 1;
        }
    }

    /// Adds another matrix of the same classes (e.g. from another thread).
    pub fn merge(&mut self, other: &ConfusionMatrix) {
        assert_eq!(
            self.classes, other.classes,
            "confusion matrices of different class counts"
        );
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }

    /// Per-class and mean ratios (see `ClassMetrics`).
    pub fn metrics(&self) -> ClassMetrics {
        let c = self.classes;
        let true_count = |k: usize| (0..c).map(|p| self.count(k, p)).sum::<u64>();
        let pred_count = |k: usize| (0..c).map(|t| self.count(t, k)).sum::<u64>();
        let (mut recall, mut precision, mut iou, mut f1) = (vec![], vec![], vec![], vec![]);
        for k in 0..c {
            let tp = self.count(k, k);
            let (fn_, fp) = (true_count(k) - tp, pred_count(k) - tp);
            let present = tp + fn_ + fp > 0;
            let ratio = |num: u64, den: u64| match (present, den) {
                (false, _) => f64::NAN,
                (true, 0) => 0.0,
                (true, den) => num as f64 / den as f64,
            };
            recall.push(ratio(tp, tp + fn_));
            precision.push(ratio(tp, tp + fp));
            iou.push(ratio(tp, tp + fp + fn_));
            f1.push(ratio(2 * tp, 2 * tp + fp + fn_));
        }
        let mean_present = |v: &[f64]| {
            let present: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
            if present.is_empty() { f64::NAN } else { mean(&present) }
        };
        let correct: u64 = (0..c).map(|k| self.count(k, k)).sum();
        let total = self.total();
        ClassMetrics {
            miou: mean_present(&iou),
            mean_recall: mean_present(&recall),
            mean_precision: mean_present(&precision),
            mean_f1: mean_present(&f1),
            accuracy: if total == 0 {
                f64::NAN
            } else {
                correct as f64 / total as f64
            },
            recall,
            precision,
            iou,
            f1,
        }
    }
}

/// Seed 000 Table 4's segmentation metrics. Per class `k` with `tp`, `fp`, `fn` pixel counts:
/// recall `tp/(tp+fn)`, precision `tp/(tp+fp)`, IoU `tp/(tp+fp+fn)`, F1 `2tp/(2tp+fp+fn)`. A class
/// absent from both prediction and truth has NaN (JSON `null`) and is left out of the means; a
/// present class's 0/0 ratio (e.g. recall of a class only ever predicted) is 0. The means are
/// unweighted over the present classes (macro averages: Table 4's F1 is not the harmonic mean of
/// its recall and precision); accuracy is correct pixels over all pixels.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassMetrics {
    pub recall: Vec<f64>,
    pub precision: Vec<f64>,
    pub iou: Vec<f64>,
    pub f1: Vec<f64>,
    pub miou: f64,
    pub mean_recall: f64,
    pub mean_precision: f64,
    pub mean_f1: f64,
    pub accuracy: f64,
}

/// Class metrics of one label map pair (labels `0..classes`).
pub fn class_metrics(pred: &[u8], truth: &[u8], classes: usize) -> ClassMetrics {
    let mut matrix = ConfusionMatrix::new(classes);
    matrix.add(pred, truth);
    matrix.metrics()
}

/// Seed 000 Table 2's soft-edge metrics: mIoU and pixel accuracy over the six classes (as
/// `ClassMetrics`), and the RMSE of the class values `51·class` in 0..255.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EdgeMetrics {
    pub miou: f64,
    pub accuracy: f64,
    pub rmse: f64,
}

impl EdgeMetrics {
    /// From a six-class confusion matrix summed over any number of images.
    pub fn from_confusion(matrix: &ConfusionMatrix) -> EdgeMetrics {
        assert_eq!(
            matrix.classes(),
            EDGE_CLASSES,
            "soft-edge metrics need the {EDGE_CLASSES}-class matrix"
        );
        let mut squared = 0.0;
        for t in 0..EDGE_CLASSES as u8 {
            for p in 0..EDGE_CLASSES as u8 {
                let diff = f64::from(edge_class_value(t)) - f64::from(edge_class_value(p));
                squared += matrix.count(usize::from(t), usize::from(p)) as f64 * diff * diff;
            }
        }
        let class_metrics = matrix.metrics();
        EdgeMetrics {
            miou: class_metrics.miou,
            accuracy: class_metrics.accuracy,
            rmse: (squared / matrix.total() as f64).sqrt(),
        }
    }
}

/// Soft-edge metrics of one pair of class maps (labels 0..5).
pub fn edge_metrics(pred: &[u8], truth: &[u8]) -> EdgeMetrics {
    let mut matrix = ConfusionMatrix::new(EDGE_CLASSES);
    matrix.add(pred, truth);
    EdgeMetrics::from_confusion(&matrix)
}

fn check_pair(pred: &Grid<f32>, truth: &Grid<f32>) {
    assert!(
        pred.width == truth.width && pred.height == truth.height && !truth.is_empty(),
        "prediction {}×{} and truth {}×{} must have the same non-zero size",
        pred.width,
        pred.height,
        truth.width,
        truth.height
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// Heights whose seed-000 values `1 + 254·h` are the given 1..255 numbers.
    fn from_1_255(width: usize, values: &[f64]) -> Grid<f32> {
        Grid::from_vec(
            width,
            values.len() / width,
            values.iter().map(|d| ((d - 1.0) / 254.0) as f32).collect(),
        )
    }

    #[test]
    fn depth_metrics_of_a_hand_computed_2x2() {
        let truth = from_1_255(2, &[100.0; 4]);
        let pred = from_1_255(2, &[100.0, 120.0, 150.0, 190.0]);
        let m = depth_metrics(&pred, &truth);
        // Ratios 1, 1.2, 1.5, 1.9 against 1.25, 1.5625, 1.953125.
        assert_eq!((m.delta1, m.delta2, m.delta3), (0.5, 0.75, 1.0));
        // Differences 0, 20, 50, 90.
        assert!(close(m.rmse, (2750.0f64).sqrt(), 1e-3), "{}", m.rmse);
        assert!(close(m.mae, 40.0, 1e-3));
        assert!(close(m.abs_rel, 0.4, 1e-5));
        assert!(close(m.sq_rel, 27.5, 1e-3));
        let log_sq = [1.2f64, 1.5, 1.9].iter().map(|r| r.ln().powi(2)).sum::<f64>() / 4.0;
        assert!(close(m.rmse_log, log_sq.sqrt(), 1e-5));
    }

    #[test]
    fn perfect_depth_has_zero_error_and_full_deltas() {
        let truth = Grid::from_fn(4, 3, |x, y| (x + y) as f32 / 6.0);
        let m = depth_metrics(&truth, &truth);
        assert_eq!((m.delta1, m.delta2, m.delta3), (1.0, 1.0, 1.0));
        assert_eq!(
            (m.rmse, m.rmse_log, m.abs_rel, m.sq_rel, m.mae),
            (0.0, 0.0, 0.0, 0.0, 0.0)
        );
        let flat = depth_metrics(&Grid::filled(4, 3, 0.0), &truth);
        let both = DepthMetrics::mean(&[m, flat]).unwrap();
        assert_eq!((both.delta1, both.rmse), ((1.0 + flat.delta1) / 2.0, flat.rmse / 2.0));
        assert!(DepthMetrics::mean(&[]).is_none());
    }

    #[test]
    fn alignment_recovers_a_known_affine_map_exactly() {
        let pred = Grid::from_fn(5, 4, |x, y| ((x * 7 + y * 3) % 11) as f32 / 8.0);
        let truth = pred.map(|p| 3.0 * p - 0.25);
        let (scale, shift) = align_scale_shift(&pred, &truth);
        assert!(
            close(scale, 3.0, 1e-12) && close(shift, -0.25, 1e-12),
            "{scale} {shift}"
        );
        // No variation: numpy's minimum-norm answer.
        assert_eq!(
            align_scale_shift(&Grid::filled(5, 4, 0.3), &truth),
            (0.0, mean(&truth.data.iter().map(|&t| f64::from(t)).collect::<Vec<_>>()))
        );
    }

    #[test]
    fn affine_prediction_scores_perfectly() {
        let truth = Grid::from_fn(8, 6, |x, y| (x * x + 3 * y) as f32 / 100.0);
        let s = bench_score(&truth.map(|t| 2.0 * t + 5.0), &truth);
        assert!(s.rmse_pct < 1e-4 && s.normal_deg < 1e-3 && s.edge_pct < 1e-4, "{s:?}");
        assert_eq!((s.d1, s.inverted), (1.0, false));
    }

    #[test]
    fn flat_prediction_of_a_ramp_matches_hand_computed_scores() {
        // g = 0, ¼, ½, ¾, 1 along x; the flat prediction aligns to ½ everywhere.
        let truth = Grid::from_fn(5, 3, |x, _| x as f32 / 4.0);
        let s = bench_score(&Grid::filled(5, 3, 0.7), &truth);
        assert!(close(s.rmse_pct, 100.0 * 0.125f64.sqrt(), 1e-9));
        // Every slope is equal, so every pixel is "steep".
        assert!(close(s.edge_pct, s.rmse_pct, 1e-9));
        // ∂g/∂x = ¼ px⁻¹, drawn 0.04·5 = 0.2 px deep.
        assert!(close(s.normal_deg, (0.25f64 * 0.2).atan().to_degrees(), 1e-9));
        // d = 1, 64.5, 128, 191.5, 255 against 128: only the middle column is within 1.25.
        assert!(close(s.d1, 0.2, 1e-12));
        assert!(!s.inverted);
    }

    #[test]
    fn inverted_prediction_is_flagged_and_scored_as_flat() {
        let truth = Grid::from_fn(6, 5, |x, y| (x + 2 * y) as f32 / 14.0);
        let upside_down = truth.map(|t| 1.0 - t);
        let s = bench_score(&upside_down, &truth);
        let flat = bench_score(&Grid::filled(6, 5, 0.0), &truth);
        assert!(s.inverted && !flat.inverted);
        assert_eq!(
            (s.rmse_pct, s.normal_deg, s.edge_pct, s.d1),
            (flat.rmse_pct, flat.normal_deg, flat.edge_pct, flat.d1)
        );
        let best = bench_score_best_sign(&upside_down, &truth);
        assert!(best.inverted && best.rmse_pct < 1e-4 && best.d1 == 1.0, "{best:?}");
        let summary = BenchSummary::of(&[s, flat]).unwrap();
        assert_eq!((summary.inverted, summary.n), (1, 2));
        assert!(BenchSummary::of(&[]).is_none());
    }

    #[test]
    fn gradient_and_quantile_follow_numpy() {
        // np.gradient([[0, 1, 4, 9], [1, 1, 1, 1]])
        let (gx, gy) = gradient(&[0.0, 1.0, 4.0, 9.0, 1.0, 1.0, 1.0, 1.0], 4, 2);
        assert_eq!(gx, vec![1.0, 2.0, 4.0, 5.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(gy, vec![1.0, 0.0, -3.0, -8.0, 1.0, 0.0, -3.0, -8.0]);
        // np.quantile([...], 0.75)
        assert_eq!(quantile(&[6.0, 1.0, 5.0, 2.0, 4.0, 3.0], 0.75), 4.75);
        assert_eq!(quantile(&[5.0, 1.0, 4.0, 2.0, 3.0], 0.75), 4.0);
        assert_eq!(quantile(&[7.0], 0.75), 7.0);
    }

    #[test]
    fn cloud_distance_finds_lateral_neighbours() {
        let truth = Grid::from_fn(10, 10, |x, y| ((x + y) % 3) as f32 / 2.0);
        assert_eq!(cloud_to_cloud_mm(&truth, &truth, 50.0, 5.0), 0.0);
        // A flat truth: the nearest point is straight below.
        let flat = Grid::filled(4, 4, 0.0);
        assert!(close(
            cloud_to_cloud_mm(&Grid::filled(4, 4, 0.5), &flat, 40.0, 2.0),
            1.0,
            1e-12
        ));
        // Truth heights [1, 0], prediction [1, 1], pitch 1 mm, relief 10 mm: the second point is
        // 1 mm beside the first true point, not 10 mm above its own.
        let step = Grid::from_vec(2, 1, vec![1.0, 0.0]);
        assert!(close(
            cloud_to_cloud_mm(&Grid::filled(2, 1, 1.0), &step, 2.0, 10.0),
            0.5,
            1e-12
        ));
    }

    #[test]
    fn class_metrics_of_a_small_confusion_matrix() {
        let truth = [0, 0, 1, 1, 2, 2];
        let pred = [0, 1, 1, 1, 2, 0];
        let m = class_metrics(&pred, &truth, 4);
        let third = 1.0 / 3.0;
        assert_eq!(m.recall[..3], [0.5, 1.0, 0.5]);
        assert_eq!(m.precision[..3], [0.5, 2.0 * third, 1.0]);
        assert_eq!(m.iou[..3], [third, 2.0 * third, 0.5]);
        assert_eq!(m.f1[..3], [0.5, 0.8, 2.0 * third]);
        // Class 3 appears nowhere: NaN, and left out of the means.
        assert!(m.recall[3].is_nan() && m.iou[3].is_nan());
        assert!(close(m.miou, 0.5, 1e-12));
        assert!(close(m.mean_recall, 2.0 * third, 1e-12));
        assert!(close(m.mean_precision, (0.5 + 2.0 * third + 1.0) / 3.0, 1e-12));
        assert!(close(m.mean_f1, (0.5 + 0.8 + 2.0 * third) / 3.0, 1e-12));
        assert!(close(m.accuracy, 4.0 / 6.0, 1e-12));
        // A class only ever predicted counts, with zero recall.
        let only_predicted = class_metrics(&[0, 1], &[0, 0], 2);
        assert_eq!(
            (only_predicted.recall[1], only_predicted.iou[1], only_predicted.miou),
            (0.0, 0.0, 0.25)
        );
        let perfect = class_metrics(&truth, &truth, 3);
        assert_eq!((perfect.miou, perfect.accuracy, perfect.mean_f1), (1.0, 1.0, 1.0));
    }

    #[test]
    fn confusion_matrix_sums_images_instead_of_averaging_them() {
        let mut matrix = ConfusionMatrix::new(3);
        matrix.add(&[0, 1, 1], &[0, 0, 1]);
        let mut other = ConfusionMatrix::new(3);
        other.add(&[1, 2, 0], &[1, 2, 2]);
        matrix.merge(&other);
        assert_eq!(
            matrix.metrics(),
            class_metrics(&[0, 1, 1, 1, 2, 0], &[0, 0, 1, 1, 2, 2], 3)
        );
        assert_eq!((matrix.total(), matrix.count(2, 0), matrix.classes()), (6, 1, 3));
    }

    #[test]
    fn edge_metrics_use_class_values_51_apart() {
        let m = edge_metrics(&[0, 1, 3, 5], &[0, 1, 2, 5]);
        assert_eq!(m.accuracy, 0.75);
        assert!(close(m.rmse, 25.5, 1e-12));
        // Classes 0, 1, 5 perfect; 2 missed; 3 false; 4 absent.
        assert!(close(m.miou, 0.6, 1e-12));
        let perfect = edge_metrics(&[0, 1, 2, 3, 4, 5], &[0, 1, 2, 3, 4, 5]);
        assert_eq!((perfect.miou, perfect.accuracy, perfect.rmse), (1.0, 1.0, 0.0));
    }

    #[test]
    fn metrics_serialise_absent_classes_as_null() {
        let json = serde_json::to_string(&class_metrics(&[0], &[0], 2)).unwrap();
        assert!(json.contains("\"iou\":[1.0,null]"), "{json}");
        let bench = serde_json::to_string(&bench_score(&Grid::filled(2, 2, 0.0), &Grid::filled(2, 2, 0.0))).unwrap();
        assert!(bench.contains("\"edge_rmse\""), "{bench}");
    }
}
