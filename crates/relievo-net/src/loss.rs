//! The dynamic edge-enhanced loss of seed 000 (eqs. 1–11), with the optional depth
//! terms of seeds 002 and 004 behind their weights in [`LossConfig`].
//!
//! The depth term is [`DepthTerm::Aligned`] by default (linear in height, blind to
//! scale and shift); seed 000's SILog stays as [`DepthTerm::Silog`] for the ablations.
//!
//! Conventions: heights are in 0..1 (1 = most raised). SILog (eqs. 3–4) compares
//! heights mapped to 1..255 (`d = 1 + 254·h`), the paper's 0–255 depth range kept off
//! zero. Soft-edge differences (eq. 7, eq. 11) are measured in class units (0..5).
//! Eq. 11's L1 of argmax classes has no gradient; the edge loss therefore uses a
//! straight-through form: its *value* is exactly eq. 10 (CE + λe·L1(argmax)), its
//! *gradient* is that of CE + λe·L1(expected class), the differentiable version.

use burn::tensor::Tensor;
use burn::tensor::activation::{log_softmax, sigmoid};
use burn::tensor::module::avg_pool2d;
use burn::tensor::ops::AvgPoolOptions;

use super::config::{DepthTerm, EdgeMode, LossConfig};
use super::model::{MultiTaskOutput, edge_strength};
use crate::fusion::standardize;
use crate::labels::EDGE_CLASSES;

/// Ground truth of a batch, as tensors.
#[derive(Debug, Clone)]
pub struct Targets {
    /// Height in 0..1, `[b, 1, h, w]`.
    pub depth: Tensor<4>,
    /// One-hot semantics `[b, 4, h, w]`; all zeros where a sample has no semantic labels.
    pub semantics: Tensor<4>,
    /// One-hot soft-edge classes `[b, 6, h, w]`.
    pub edges: Tensor<4>,
    /// Horizontal part of the unit vector towards the main light (x right, y down), `[b, 2]`;
    /// zeros where unknown.
    pub light: Tensor<2>,
    /// 1 where a sample's light is known, else 0, `[b, 1]`.
    pub light_known: Tensor<2>,
}

/// The loss and its parts (scalars as `f64`, read back for logs and curves).
#[derive(Debug, Clone)]
pub struct LossParts {
    pub total: Tensor<1>,
    pub semantic: f64,
    pub depth: f64,
    pub edge: f64,
    /// The light-direction term, with a light head.
    pub light: Option<f64>,
    /// The dynamic coefficient k of eq. 8 (1 when dynamic k is off).
    pub k: f64,
    /// d̄ of eq. 9: mean absolute height error.
    pub mean_abs_depth_error: f64,
}

fn scalar(t: &Tensor<1>) -> f64 {
    t.clone().into_scalar::<f32>() as f64
}

/// Eq. 2: cross-entropy averaged over labelled pixels (pixels whose one-hot is all
/// zero do not count).
pub fn cross_entropy(logits: Tensor<4>, one_hot: Tensor<4>) -> Tensor<1> {
    let labelled = one_hot.clone().sum().clamp_min(1.0);
    -(log_softmax(logits, 1) * one_hot).sum() / labelled
}

/// Eqs. 3–4: SILog on heights mapped to 1..255.
pub fn silog(pred: Tensor<4>, truth: Tensor<4>, lambda_d: f64) -> Tensor<1> {
    let to_depth = |h: Tensor<4>| (h.clamp(0.0, 1.0) * 254.0 + 1.0).log();
    let e = to_depth(pred) - to_depth(truth);
    let mean = e.clone().mean();
    e.powi_scalar(2).mean() - mean.powi_scalar(2) * lambda_d
}

/// Eqs. 8–9: k = 1 − tanh²(λk·d̄), and d̄.
pub fn dynamic_k(mean_abs_error: f64, lambda_k: f64) -> f64 {
    1.0 - (lambda_k * mean_abs_error).tanh().powi(2)
}

/// Expected class (0..5) per pixel, `[b, 1, h, w]`.
fn expected_class(logits: Tensor<4>) -> Tensor<4> {
    edge_strength(logits, EdgeMode::MultiClass) * (EDGE_CLASSES - 1) as f64
}

/// Class index of a one-hot (or probability) map as floats, `[b, 1, h, w]`.
fn argmax_class(map: Tensor<4>) -> Tensor<4> {
    map.argmax(1).float()
}

/// Eqs. 10–11, straight-through (see the module doc): CE + λe·L1 of classes.
pub fn refined_edge_loss(logits: Tensor<4>, one_hot: Tensor<4>, lambda_e: f64) -> Tensor<1> {
    let truth_class = argmax_class(one_hot.clone());
    let expected = (expected_class(logits.clone()) - truth_class.clone()).abs().mean();
    let argmax = (argmax_class(logits.clone().detach()) - truth_class).abs().mean();
    let l1 = expected.clone() - expected.detach() + argmax;
    cross_entropy(logits, one_hot) + l1 * lambda_e
}

/// Binary edge label (class ≥ 2) `[b, 1, h, w]` from the one-hot classes.
fn binary_label(one_hot: Tensor<4>) -> Tensor<4> {
    one_hot.narrow(1, 2, EDGE_CLASSES - 2).sum_dim(1)
}

/// Continuous edge label in 0..1 (class / 5) from the one-hot classes.
fn continuous_label(one_hot: Tensor<4>) -> Tensor<4> {
    argmax_class(one_hot) / (EDGE_CLASSES - 1) as f64
}

/// Binary cross-entropy on logits, numerically stable.
pub fn binary_cross_entropy(logits: Tensor<4>, label: Tensor<4>) -> Tensor<1> {
    // max(x, 0) − x·y + log(1 + e^(−|x|))
    let loss = logits.clone().clamp_min(0.0) - logits.clone() * label + (logits.abs().neg().exp() + 1.0).log();
    loss.mean()
}

/// The detector loss `l` of eq. 6 for the configured edge representation.
pub fn edge_detector_loss(logits: Tensor<4>, one_hot: Tensor<4>, mode: EdgeMode, lambda_e: f64) -> Tensor<1> {
    match mode {
        EdgeMode::MultiClass => refined_edge_loss(logits, one_hot, lambda_e),
        EdgeMode::Binary => binary_cross_entropy(logits, binary_label(one_hot)),
        EdgeMode::Continuous => (sigmoid(logits) - continuous_label(one_hot)).abs().mean(),
        EdgeMode::None => unreachable!("no edge detectors in EdgeMode::None"),
    }
}

/// Eq. 7: mean absolute difference of the two edge maps (class units for multi-class,
/// 0..1 otherwise).
pub fn matching_loss(photo: Tensor<4>, depth: Tensor<4>, mode: EdgeMode) -> Tensor<1> {
    match mode {
        EdgeMode::MultiClass => (expected_class(photo) - expected_class(depth)).abs().mean(),
        _ => (sigmoid(photo) - sigmoid(depth)).abs().mean(),
    }
}

/// Virtual camera distance (in relief-height units) for the point-cloud loss.
const CAMERA_DISTANCE: f64 = 2.0;

/// Seed 002 eq. 11 under a pinhole camera at `CAMERA_DISTANCE` above the relief's
/// base: pixel (u, v) reprojects with Z/Z′, so (u − u′)/(u − u0) = 1 − Z/Z′; off the
/// central row and column both axes count (√2·|1 − Z/Z′|), on them one does.
pub fn point_cloud_loss(pred: Tensor<4>, truth: Tensor<4>) -> Tensor<1> {
    let [b, _, h, w] = truth.dims();
    let device = truth.device();
    let z_true = truth.neg() + CAMERA_DISTANCE;
    let z_pred = pred.neg() + CAMERA_DISTANCE;
    let ratio = (z_true / z_pred).neg() + 1.0;
    let weights = Tensor::<4>::from_data(
        burn::tensor::TensorData::new(center_weights(h, w), [1, 1, h, w]),
        &device,
    )
    .expand([b, 1, h, w]);
    (ratio.abs() * weights).mean()
}

fn center_weights(h: usize, w: usize) -> Vec<f32> {
    let (u0, v0) = ((w as f32 - 1.0) / 2.0, (h as f32 - 1.0) / 2.0);
    let mut out = Vec::with_capacity(h * w);
    for v in 0..h {
        for u in 0..w {
            let axes = u8::from(u as f32 != u0) + u8::from(v as f32 != v0);
            out.push((axes as f32).sqrt());
        }
    }
    out
}

/// Unit normals of the virtual planes through pixel triplets (x, y), (x + s, y),
/// (x, y + s), heights scaled by `relief_scale` (pixel pitch 1/max(h, w)).
fn virtual_normals(height: Tensor<4>, stride: usize) -> Tensor<4> {
    let [_, _, h, w] = height.dims();
    let pitch = stride as f64 / h.max(w) as f64;
    let a = height.clone().narrow(2, 0, h - stride).narrow(3, 0, w - stride);
    let bx = height.clone().narrow(2, 0, h - stride).narrow(3, stride, w - stride);
    let cy = height.narrow(2, stride, h - stride).narrow(3, 0, w - stride);
    // AB = (pitch, 0, dzx), AC = (0, pitch, dzy); n = AB × AC = (−pitch·dzx, −pitch·dzy, pitch²).
    let dzx = (bx - a.clone()) * (-pitch);
    let dzy = (cy - a.clone()) * (-pitch);
    let nz = a.zeros_like() + pitch * pitch;
    let n = Tensor::cat(vec![dzx, dzy, nz], 1);
    let norm = n.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-12);
    n / norm
}

/// Seed 002 eq. 12: L1 between true and predicted virtual normals, on deterministic
/// triplets at strides 2 and 8 pixels (heights in the relief's own 0..1 units,
/// scaled ×0.1 so slopes are bas-relief-like).
pub fn virtual_normal_loss(pred: Tensor<4>, truth: Tensor<4>) -> Tensor<1> {
    let [_, _, h, w] = truth.dims();
    let mut total: Option<Tensor<1>> = None;
    for stride in [2usize, 8] {
        if stride >= h.min(w) {
            continue;
        }
        let np = virtual_normals(pred.clone() * 0.1, stride);
        let nt = virtual_normals(truth.clone() * 0.1, stride);
        let term = (np - nt).abs().sum_dim(1).mean();
        total = Some(match total {
            Some(t) => t + term,
            None => term,
        });
    }
    total.unwrap_or_else(|| pred.sum() * 0.0)
}

fn gradients(x: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
    let [_, _, h, w] = x.dims();
    let gx = x.clone().narrow(3, 1, w - 1) - x.clone().narrow(3, 0, w - 1);
    let gy = x.clone().narrow(2, 1, h - 1) - x.narrow(2, 0, h - 1);
    (gx, gy)
}

/// Seed 004's gradient term: L1 between finite differences of prediction and truth.
pub fn gradient_loss(pred: Tensor<4>, truth: Tensor<4>) -> Tensor<1> {
    let (px, py) = gradients(pred);
    let (tx, ty) = gradients(truth);
    (px - tx).abs().mean() + (py - ty).abs().mean()
}

/// Scales of the gradient-matching part of [`aligned_loss`].
const ALIGNED_SCALES: usize = 4;

/// Scale- and shift-invariant height loss (as MiDaS trains on depth of unknown
/// scale): L1 between the standardized prediction and truth, plus L1 of the
/// residual's gradients at four scales, so that surface slopes (what a relief's
/// normals and its raking-light look are made of) count as much as heights.
pub fn aligned_loss(pred: Tensor<4>, truth: Tensor<4>) -> Tensor<1> {
    let mut residual = standardize(pred) - standardize(truth);
    let mut loss = residual.clone().abs().mean();
    for scale in 0..ALIGNED_SCALES {
        let [_, _, h, w] = residual.dims();
        if h < 2 || w < 2 {
            break;
        }
        let (gx, gy) = gradients(residual.clone());
        loss = loss + (gx.abs().mean() + gy.abs().mean()) / ALIGNED_SCALES as f64;
        if scale + 1 < ALIGNED_SCALES {
            residual = avg_pool2d(residual, AvgPoolOptions::new([2, 2]));
        }
    }
    loss
}

/// Seed 004's edge-aware term: height L1 weighted by the true soft-edge strength
/// (class / 5), so carved edges count more.
pub fn edge_aware_loss(pred: Tensor<4>, truth: Tensor<4>, edge_one_hot: Tensor<4>) -> Tensor<1> {
    ((pred - truth).abs() * continuous_label(edge_one_hot)).mean()
}

/// L1 between predicted slopes `[b, 2, h, w]` (forward differences, channel 0 along
/// x, 1 along y) and those of the standardized truth, so that their scale does not
/// depend on the relief's depth.
pub fn slope_loss(slopes: Tensor<4>, truth: Tensor<4>) -> Tensor<1> {
    let [_, _, h, w] = truth.dims();
    let (tx, ty) = gradients(standardize(truth));
    let px = slopes.clone().narrow(1, 0, 1).narrow(3, 0, w - 1);
    let py = slopes.narrow(1, 1, 1).narrow(2, 0, h - 1);
    (px - tx).abs().mean() + (py - ty).abs().mean()
}

/// Weight of the plain height L1 inside [`DepthTerm::Aligned`]: enough to keep the
/// output inside 0..1 (the aligned part is blind to scale), small beside the rest.
const ABSOLUTE_WEIGHT: f64 = 0.1;

/// The main depth term of eq. 1.
pub fn depth_term(pred: Tensor<4>, truth: Tensor<4>, cfg: &LossConfig) -> Tensor<1> {
    match cfg.depth_term {
        DepthTerm::Silog => silog(pred, truth, cfg.lambda_d),
        DepthTerm::Aligned => aligned_loss(pred.clone(), truth.clone()) + (pred - truth).abs().mean() * ABSOLUTE_WEIGHT,
    }
}

/// L1 between the predicted and the true light direction `[b, 2]`, over the samples whose
/// light is known (`known` `[b, 1]`, 1 or 0); 0 when none is.
pub fn light_loss(pred: Tensor<2>, truth: Tensor<2>, known: Tensor<2>) -> Tensor<1> {
    let count = known.clone().sum().clamp_min(1.0) * 2.0;
    ((pred - truth).abs() * known).sum() / count
}

/// Eq. 1 with eq. 5: L = α·L_sem + β·L_depth + γ·(λ1·L_r + k·(λ2·L_d + λ3·L_m)).
/// The depth-side detector reads detached depth (see the model), so the edge loss
/// trains the detectors and the encoder, never the depth head directly.
pub fn total_loss(out: &MultiTaskOutput, targets: &Targets, cfg: &LossConfig, mode: EdgeMode) -> LossParts {
    let l_sem = cross_entropy(out.semantics.clone(), targets.semantics.clone());
    let mut l_depth = match (&out.height, cfg.depth_term) {
        // A fused depth is stretched to 0..1 by construction; the plain L1 that keeps a
        // height inside 0..1 belongs to the height head's own output.
        (Some(height), DepthTerm::Aligned) => {
            aligned_loss(out.depth.clone(), targets.depth.clone())
                + (height.clone() - targets.depth.clone()).abs().mean() * ABSOLUTE_WEIGHT
        }
        _ => depth_term(out.depth.clone(), targets.depth.clone(), cfg),
    };
    if cfg.point_cloud > 0.0 {
        l_depth = l_depth + point_cloud_loss(out.depth.clone(), targets.depth.clone()) * cfg.point_cloud;
    }
    if cfg.virtual_normal > 0.0 {
        l_depth = l_depth + virtual_normal_loss(out.depth.clone(), targets.depth.clone()) * cfg.virtual_normal;
    }
    if cfg.gradient > 0.0 {
        l_depth = l_depth + gradient_loss(out.depth.clone(), targets.depth.clone()) * cfg.gradient;
    }
    if cfg.aligned > 0.0 {
        l_depth = l_depth + aligned_loss(out.depth.clone(), targets.depth.clone()) * cfg.aligned;
    }
    if cfg.edge_aware > 0.0 {
        l_depth =
            l_depth + edge_aware_loss(out.depth.clone(), targets.depth.clone(), targets.edges.clone()) * cfg.edge_aware;
    }
    if let Some(slopes) = &out.slopes
        && cfg.slope > 0.0
    {
        l_depth = l_depth + slope_loss(slopes.clone(), targets.depth.clone()) * cfg.slope;
    }
    let d_bar = scalar(&(out.depth.clone() - targets.depth.clone()).abs().mean());
    let k = if cfg.dynamic_k {
        dynamic_k(d_bar, cfg.lambda_k)
    } else {
        1.0
    };

    let l_edge = match (&out.edges_photo, &out.edges_depth) {
        (Some(er), Some(ed)) => {
            let l_r = edge_detector_loss(er.clone(), targets.edges.clone(), mode, cfg.lambda_e);
            let l_d = edge_detector_loss(ed.clone(), targets.edges.clone(), mode, cfg.lambda_e);
            let l_m = matching_loss(er.clone(), ed.clone(), mode);
            Some(l_r * cfg.lambda1 + (l_d * cfg.lambda2 + l_m * cfg.lambda3) * k)
        }
        _ => None,
    };
    let mut total = l_sem.clone() * cfg.alpha + l_depth.clone() * cfg.beta;
    if let Some(l_edge) = &l_edge {
        total = total + l_edge.clone() * cfg.gamma;
    }
    let l_light = out
        .light
        .as_ref()
        .filter(|_| cfg.light > 0.0)
        .map(|light| light_loss(light.clone(), targets.light.clone(), targets.light_known.clone()));
    if let Some(l_light) = &l_light {
        total = total + l_light.clone() * cfg.light;
    }
    LossParts {
        semantic: scalar(&l_sem),
        depth: scalar(&l_depth),
        edge: l_edge.as_ref().map(scalar).unwrap_or(0.0),
        light: l_light.as_ref().map(scalar),
        total,
        k,
        mean_abs_depth_error: d_bar,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn tensor4(values: Vec<f32>, shape: [usize; 4], device: &Device) -> Tensor<4> {
        Tensor::from_data(burn::tensor::TensorData::new(values, shape), device)
    }

    fn dev() -> Device {
        Device::flex()
    }

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() < tol, "{a} vs {b}");
    }

    #[test]
    fn cross_entropy_matches_hand_computation() {
        // Two pixels, two classes: logits (0, 0) and (ln 3, 0); labels 0 and 1.
        let logits = tensor4(vec![0.0, 3f32.ln(), 0.0, 0.0], [1, 2, 1, 2], &dev());
        let one_hot = tensor4(vec![1.0, 0.0, 0.0, 1.0], [1, 2, 1, 2], &dev());
        // −(ln ½ + ln ¼) / 2
        let expected = -(0.5f64.ln() + 0.25f64.ln()) / 2.0;
        close(scalar(&cross_entropy(logits, one_hot)), expected, 1e-5);
    }

    #[test]
    fn silog_matches_hand_computation() {
        let pred = tensor4(vec![0.0, 1.0], [1, 1, 1, 2], &dev());
        let truth = tensor4(vec![1.0, 1.0], [1, 1, 1, 2], &dev());
        let e0 = 1f64.ln() - 255f64.ln();
        let expected = (e0 * e0) / 2.0 - 0.15 * (e0 / 2.0).powi(2);
        close(scalar(&silog(pred, truth, 0.15)), expected, 1e-4);
    }

    #[test]
    fn dynamic_k_at_known_errors() {
        close(dynamic_k(0.0, 2.5), 1.0, 1e-12);
        close(dynamic_k(0.08, 2.5), 1.0 - 0.2f64.tanh().powi(2), 1e-12);
        close(dynamic_k(0.45, 2.5), 1.0 - 1.125f64.tanh().powi(2), 1e-12);
        assert!(dynamic_k(0.45, 2.5) < dynamic_k(0.08, 2.5));
    }

    #[test]
    fn refined_edge_loss_value_is_eq_10() {
        // One pixel, 6 classes, uniform logits; truth class 5. CE = ln 6; argmax of a
        // uniform map is class 0, so L1 = 5.
        let logits = tensor4(vec![0.0; 6], [1, 6, 1, 1], &dev());
        let mut one_hot = vec![0.0; 6];
        one_hot[5] = 1.0;
        let one_hot = tensor4(one_hot, [1, 6, 1, 1], &dev());
        close(
            scalar(&refined_edge_loss(logits, one_hot, 0.2)),
            6f64.ln() + 0.2 * 5.0,
            1e-5,
        );
    }

    #[test]
    fn matching_loss_is_zero_for_equal_maps_and_counts_class_units() {
        let a = tensor4(vec![30.0, 0.0, 0.0, 0.0, 0.0, 0.0], [1, 6, 1, 1], &dev());
        let b = tensor4(vec![0.0, 0.0, 0.0, 0.0, 0.0, 30.0], [1, 6, 1, 1], &dev());
        close(
            scalar(&matching_loss(a.clone(), a.clone(), EdgeMode::MultiClass)),
            0.0,
            1e-6,
        );
        close(scalar(&matching_loss(a, b, EdgeMode::MultiClass)), 5.0, 1e-3);
    }

    #[test]
    fn binary_cross_entropy_matches_hand_computation() {
        let logits = tensor4(vec![0.0, 2.0], [1, 1, 1, 2], &dev());
        let label = tensor4(vec![1.0, 0.0], [1, 1, 1, 2], &dev());
        let expected = (2f64.ln() + (1.0 + 2f64.exp()).ln()) / 2.0;
        close(scalar(&binary_cross_entropy(logits, label)), expected, 1e-5);
    }

    #[test]
    fn depth_terms_vanish_on_perfect_prediction_and_not_otherwise() {
        let truth = tensor4(
            (0..64).map(|i| ((i * 7) % 13) as f32 / 13.0).collect(),
            [1, 1, 8, 8],
            &dev(),
        );
        let wrong = truth.clone() * 0.5;
        for f in [point_cloud_loss, virtual_normal_loss, gradient_loss] {
            close(scalar(&f(truth.clone(), truth.clone())), 0.0, 1e-6);
            assert!(scalar(&f(wrong.clone(), truth.clone())) > 1e-4);
        }
    }

    #[test]
    fn aligned_loss_ignores_scale_and_shift_and_matches_hand_computation() {
        let truth = tensor4(
            (0..64).map(|i| ((i * 37 % 64) as f32 / 63.0).sqrt()).collect(),
            [1, 1, 8, 8],
            &dev(),
        );
        close(
            scalar(&aligned_loss(truth.clone() * 3.0 + 0.25, truth.clone())),
            0.0,
            1e-5,
        );
        assert!(scalar(&aligned_loss(truth.clone().powi_scalar(3), truth)) > 0.05);
        // Truth rises left→right, prediction top→bottom: standardized to ±1, the
        // residual is (0, −2; 2, 0): L1 1, mean |∂x| 2 and |∂y| 2 over 4 scales.
        let truth = tensor4(vec![0.0, 1.0, 0.0, 1.0], [1, 1, 2, 2], &dev());
        let pred = tensor4(vec![0.0, 0.0, 1.0, 1.0], [1, 1, 2, 2], &dev());
        close(scalar(&aligned_loss(pred, truth)), 1.0 + 4.0 / 4.0, 1e-6);
    }

    #[test]
    fn light_loss_counts_only_samples_whose_light_is_known() {
        let device = dev();
        let t2 = |v: Vec<f32>, c: usize| Tensor::<2>::from_data(burn::tensor::TensorData::new(v, [2, c]), &device);
        let truth = t2(vec![0.5, -0.5, 0.0, 0.0], 2);
        // Sample 0 is off by 0.1 and 0.3; sample 1 (unknown light) by 1 and 1.
        let pred = t2(vec![0.6, -0.2, 1.0, 1.0], 2);
        let with_known = |known: Vec<f32>| scalar(&light_loss(pred.clone(), truth.clone(), t2(known, 1)));
        close(with_known(vec![1.0, 0.0]), 0.2, 1e-6);
        close(with_known(vec![1.0, 1.0]), 0.6, 1e-6);
        close(with_known(vec![0.0, 0.0]), 0.0, 1e-6);
    }

    #[test]
    fn slope_loss_compares_with_the_standardized_truths_slopes() {
        // Truth rises left→right: standardized to ±1, its x slope is 2, its y slope 0.
        let truth = tensor4(vec![0.0, 1.0, 0.0, 1.0], [1, 1, 2, 2], &dev());
        let exact = tensor4(vec![2.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0], [1, 2, 2, 2], &dev());
        close(scalar(&slope_loss(exact, truth.clone())), 0.0, 1e-6);
        // No slopes: |2| on both x links, nothing on y; the unused last column and row
        // do not count.
        let flat = tensor4(vec![0.0, 9.0, 0.0, 9.0, 0.0, 0.0, 9.0, 9.0], [1, 2, 2, 2], &dev());
        close(scalar(&slope_loss(flat, truth.clone())), 2.0, 1e-6);
        // Blind to the relief's depth.
        let deeper = truth.clone() * 5.0 + 1.0;
        let exact = tensor4(vec![2.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0], [1, 2, 2, 2], &dev());
        close(scalar(&slope_loss(exact, deeper)), 0.0, 1e-6);
    }

    #[test]
    fn point_cloud_loss_matches_hand_computation() {
        // 1×3 row: u0 = 1, v0 = 0 (single row) → weights (1, 0, 1); truth 0.5, pred 0.
        let truth = tensor4(vec![0.5; 3], [1, 1, 1, 3], &dev());
        let pred = tensor4(vec![0.0; 3], [1, 1, 1, 3], &dev());
        let per_pixel = (1.0 - 1.5 / 2.0f64).abs();
        close(scalar(&point_cloud_loss(pred, truth)), 2.0 * per_pixel / 3.0, 1e-6);
    }

    /// Three crops that agree outside a plateau (columns 4..8) and whose plateau is
    /// raised to 0.8 in two of them and floor in the third: the depth term's best single
    /// prediction `c` for the plateau, found by scanning.
    fn best_plateau_value(cfg: &LossConfig) -> f64 {
        let context = [0.0f32, 1.0, 0.3, 0.6];
        let truth = |plateau: f32| (0..64).map(move |i| if i % 8 < 4 { context[i % 8] } else { plateau });
        let truth: Vec<f32> = [0.8, 0.8, 0.0].into_iter().flat_map(truth).collect();
        let truth = tensor4(truth, [3, 1, 8, 8], &dev());
        let loss_at = |c: f32| {
            let pred: Vec<f32> = (0..3 * 64)
                .map(|i| if i % 8 < 4 { context[i % 8] } else { c })
                .collect();
            scalar(&depth_term(tensor4(pred, [3, 1, 8, 8], &dev()), truth.clone(), cfg))
        };
        let candidates = (0..=40).map(|i| i as f32 / 40.0);
        let best = candidates.min_by(|&a, &b| loss_at(a).total_cmp(&loss_at(b))).unwrap();
        best as f64
    }

    #[test]
    fn the_height_term_follows_the_evidence_where_silog_predicts_the_floor() {
        // Two crops of three say "raised to 0.8": the aligned height term puts the
        // plateau up there; SILog's log of height (weights ~64,000× larger at the floor
        // than at the top) keeps it near the floor — "outlines found, tops not filled".
        let aligned = best_plateau_value(&LossConfig::default());
        assert!(aligned >= 0.6, "aligned term's plateau at {aligned}");
        let silog = best_plateau_value(&LossConfig {
            depth_term: DepthTerm::Silog,
            ..LossConfig::default()
        });
        assert!(silog <= 0.2, "SILog's plateau at {silog}");
    }
}
