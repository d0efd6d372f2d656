//! Evaluation of weights on labelled samples: seed 000's depth, semantic and edge
//! tables (Tables 2–4), the dev benchmark's aligned scores, and the cloud-to-cloud
//! distance in millimetres. Shared by `relievo eval` and per-epoch validation.

use burn::tensor::Device;
pub use relievo_engine::training::{EvalReport, PhysicalSize};

use super::data::Sample;
use crate::labels::{EDGE_CLASSES, SEMANTIC_CLASSES};
use crate::metrics::{self, BenchSummary, ConfusionMatrix, DepthMetrics, EdgeMetrics};
use crate::net::{InferOptions, Weights, predict};
use crate::photo::Photo;

/// Evaluates `weights` on `samples` (anything that yields samples), predicting as
/// the app does with `infer`, reporting progress as (done, total).
pub fn evaluate(
    weights: &Weights,
    samples: impl ExactSizeIterator<Item = Result<Sample, String>>,
    device: &Device,
    infer: &InferOptions,
    size: PhysicalSize,
    mut progress: impl FnMut(usize, usize),
) -> Result<EvalReport, String> {
    let total = samples.len();
    let (mut depth, mut bench, mut c2c) = (Vec::new(), Vec::new(), 0.0);
    let mut semantics = ConfusionMatrix::new(SEMANTIC_CLASSES);
    let mut edges = ConfusionMatrix::new(EDGE_CLASSES);
    for (i, sample) in samples.enumerate() {
        let sample = sample?;
        let photo = Photo {
            rgb: sample.photo.clone(),
            was_grey: false,
        };
        let layers = predict(weights, &photo, device, infer);
        depth.push(metrics::depth_metrics(&layers.depth, &sample.height));
        bench.push(metrics::bench_score(&layers.depth, &sample.height));
        c2c += metrics::cloud_to_cloud_mm(&layers.depth, &sample.height, size.width_mm, size.relief_mm);
        if let Some(truth) = &sample.semantics {
            semantics.add(&layers.semantics.data, &truth.data);
        }
        edges.add(&layers.edges.data, &sample.edges.data);
        progress(i + 1, total);
    }
    let (Some(d), Some(b)) = (DepthMetrics::mean(&depth), BenchSummary::of(&bench)) else {
        return Err("no images to evaluate".into());
    };
    Ok(EvalReport {
        images: depth.len(),
        depth: d,
        bench: b,
        cloud_to_cloud_mm: c2c / depth.len() as f64,
        size,
        semantics: (semantics.total() > 0).then(|| semantics.metrics()),
        edges: EdgeMetrics::from_confusion(&edges),
    })
}
