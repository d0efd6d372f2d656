//! Evaluation of weights on labelled samples: seed 000's depth, semantic and edge
//! tables (Tables 2–4), the dev benchmark's aligned scores, and the cloud-to-cloud
//! distance in millimetres. Shared by `relievo eval` and per-epoch validation.

use burn::tensor::Device;
use serde::Serialize;

use super::data::Sample;
use crate::labels::{EDGE_CLASSES, SEMANTIC_CLASSES};
use crate::metrics::{self, BenchSummary, ClassMetrics, ConfusionMatrix, DepthMetrics, EdgeMetrics};
use crate::net::{InferOptions, Weights, predict};
use crate::photo::Photo;

/// Physical size assumed for the cloud-to-cloud distance.
#[derive(Clone, Debug, Serialize)]
pub struct PhysicalSize {
    pub width_mm: f32,
    pub relief_mm: f32,
}

impl Default for PhysicalSize {
    fn default() -> Self {
        Self {
            width_mm: 150.0,
            relief_mm: 5.0,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct EvalReport {
    pub images: usize,
    /// Mean over images of seed 000's depth metrics (see `metrics`).
    pub depth: DepthMetrics,
    /// Mean over images of the dev benchmark's aligned scores, with the inverted count.
    pub bench: BenchSummary,
    pub cloud_to_cloud_mm: f64,
    pub size: PhysicalSize,
    /// Over all pixels of images that have semantic labels (None if none has).
    pub semantics: Option<ClassMetrics>,
    pub edges: EdgeMetrics,
}

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

impl EvalReport {
    /// Seed 000-style tables as text.
    pub fn tables(&self) -> String {
        let d = &self.depth;
        let b = &self.bench;
        let mut s = format!("{} images\n\nDepth\n", self.images);
        s += &format!(
            "{:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}\n",
            "δ1", "δ2", "δ3", "RMSE", "RMSElog", "AbsRel", "SqRel", "MAE", "C2C mm"
        );
        s += &format!(
            "{:>8.4} {:>8.4} {:>8.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>10.3}\n",
            d.delta1, d.delta2, d.delta3, d.rmse, d.rmse_log, d.abs_rel, d.sq_rel, d.mae, self.cloud_to_cloud_mm
        );
        s += &format!(
            "\nBenchmark (aligned)\n{:>8} {:>8} {:>8} {:>8} {:>9}\n{:>8.2} {:>8.2} {:>8.2} {:>8.3} {:>9}\n",
            "rmse%", "normal°", "edge%", "d1", "inverted", b.rmse_pct, b.normal_deg, b.edge_pct, b.d1, b.inverted
        );
        if let Some(m) = &self.semantics {
            s += &format!(
                "\nSemantics\n{:>8} {:>8} {:>8} {:>8} {:>8}\n{:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4}\n",
                "recall",
                "precis.",
                "mIoU",
                "F1",
                "acc.",
                m.mean_recall,
                m.mean_precision,
                m.miou,
                m.mean_f1,
                m.accuracy
            );
        }
        let e = &self.edges;
        s += &format!(
            "\nSoft edges\n{:>8} {:>8} {:>8}\n{:>8.4} {:>8.4} {:>8.3}\n",
            "mIoU", "acc.", "RMSE", e.miou, e.accuracy, e.rmse
        );
        s
    }
}
