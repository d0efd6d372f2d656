//! The burn-free side of training: the settings of a run ([`TrainConfig`], saved in every
//! checkpoint and as the app's training form), the events a run reports ([`TrainEvent`],
//! with the validation [`EvalReport`]), the switches that pause or stop it
//! ([`TrainControl`]) and what a dataset folder check found ([`DatasetReport`]). The run
//! itself, the data pipeline and the evaluation live in `relievo-train`.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use relievo_core::metrics::{BenchSummary, ClassMetrics, DepthMetrics, EdgeMetrics};
use serde::{Deserialize, Serialize};

use crate::config::MultiTaskConfig;

/// Default maximum learning rate when a run starts from trained weights (`init`), where
/// `TrainConfig::default().lr` is for a run from scratch. Measured: the shipped model
/// fine-tuned for 200 steps on POV-Ray renders of 5 dev panels (+ synthetic, the panel's
/// mix) scores 21.88 % rmse on the 3 other panels at max lr 0.0003 against 22.20 % at
/// 0.002 (22.16 % before); the model card has the runs.
pub const FINE_TUNE_MAX_LR: f64 = 0.0003;

/// The smallest random training crop of the default recipe, as a fraction of an example's
/// shorter side (`TrainConfig::min_crop_fraction`).
pub const DEFAULT_MIN_CROP_FRACTION: f32 = 0.55;

/// Everything a run needs; saved in every checkpoint (and, without `init` and `out`, as
/// the app's training form).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    pub model: MultiTaskConfig,
    /// Dataset folder; `None` with `synthetic` = synthetic only.
    pub data: Option<PathBuf>,
    /// Use the synthetic relief world (alone, or mixed with `data`).
    pub synthetic: bool,
    /// Fraction of synthetic examples when mixing with a folder.
    pub synthetic_fraction: f32,
    /// Side of the synthetic panels, px.
    pub synthetic_size_px: usize,
    /// Weights to start from (fine-tuning); `None` = random initialisation.
    pub init: Option<PathBuf>,
    pub epochs: usize,
    /// Steps per epoch (for synthetic data; folders use ⌈pairs / batch⌉).
    pub steps_per_epoch: usize,
    pub batch: usize,
    /// Training crop side, px (multiple of 16).
    pub crop_px: usize,
    /// OneCycle maximum learning rate.
    pub lr: f64,
    pub pct_start: f64,
    pub seed: u64,
    pub checkpoint_every: usize,
    /// Validation examples per epoch.
    pub val_count: usize,
    /// Share of training crops whose photo gets texture patches independent of the height
    /// (`train::data::texture_patches`): grain added, or detail smoothed away, inside random
    /// blobs. 0 = off.
    pub texture_patches: f32,
    /// The smallest random crop, as a fraction of an example's shorter side (the largest is
    /// 1): 1 = every crop is the whole (square) example, at the scale inference sees it.
    pub min_crop_fraction: f32,
    /// Decay of the moving average of the weights that validation scores and the run yields
    /// (from the first step's weights, `w̄ ← d·w̄ + (1 − d)·w` after every later step `t`,
    /// `d` ramped up as `(1 + t) / (10 + t)` over the first steps); 0 = off, the weights of
    /// the last step.
    pub ema: f32,
    pub out: PathBuf,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            model: MultiTaskConfig::new(),
            data: None,
            synthetic: true,
            synthetic_fraction: 0.5,
            synthetic_size_px: 256,
            init: None,
            epochs: 10,
            steps_per_epoch: 200,
            batch: 4,
            crop_px: 160,
            lr: 0.002,
            pct_start: 0.2,
            seed: 0,
            checkpoint_every: 100,
            val_count: 16,
            texture_patches: 0.0,
            min_crop_fraction: DEFAULT_MIN_CROP_FRACTION,
            ema: 0.0,
            out: PathBuf::from("runs/latest"),
        }
    }
}

/// Losses of one step.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StepLosses {
    pub total: f64,
    pub semantic: f64,
    pub depth: f64,
    pub edge: f64,
    /// The light head's term, when the network has one.
    #[serde(default)]
    pub light: Option<f64>,
}

#[derive(Clone, Debug)]
pub enum TrainEvent {
    Started {
        total_steps: usize,
        resumed_from: usize,
    },
    Step {
        step: usize,
        total_steps: usize,
        epoch: usize,
        losses: StepLosses,
        k: f64,
        lr: f64,
        samples_per_sec: f64,
        eta_secs: f64,
    },
    Validation {
        epoch: usize,
        step: usize,
        report: Box<EvalReport>,
        best: bool,
    },
    Checkpoint {
        step: usize,
        path: PathBuf,
    },
    Finished {
        steps: usize,
        stopped: bool,
        best_dir: PathBuf,
    },
}

/// Shared switches between the run and whoever watches it.
#[derive(Debug, Default)]
pub struct TrainControl {
    pub stop: AtomicBool,
    pub pause: AtomicBool,
}

impl TrainConfig {
    /// Whether the settings can run: counts and sizes in bounds, data chosen, a network
    /// that can be built. The message says what to change.
    pub fn check(&self) -> Result<(), String> {
        let bad = |s: &str| Err(s.to_string());
        if self.batch == 0 || self.epochs == 0 || self.steps_per_epoch == 0 {
            return bad("batch, epochs and steps per epoch must be at least 1");
        }
        // Bounds far beyond any run on a desktop, so that a damaged checkpoint or settings
        // file cannot ask for terabytes or overflow the step count.
        if self.batch > 1024 || self.epochs.saturating_mul(self.steps_per_epoch) > 1_000_000_000 {
            return bad("batch at most 1024 and at most 10⁹ steps");
        }
        if self.crop_px < 32 || self.crop_px % 16 != 0 || self.crop_px > 4096 {
            return bad("crop size must be a multiple of 16, from 32 to 4096");
        }
        if !(16..=8192).contains(&self.synthetic_size_px)
            || !(0.0..=1.0).contains(&self.synthetic_fraction)
            || !(0.0..=1.0).contains(&self.texture_patches)
            || self.val_count > 100_000
        {
            return bad(
                "synthetic panels of 16 to 8192 px, synthetic and texture-patch shares in 0..1, at most 100,000 validation images",
            );
        }
        if !(self.min_crop_fraction > 0.05 && self.min_crop_fraction <= 1.0) {
            return bad("the smallest crop must be a fraction of the example in (0.05, 1]");
        }
        if !(0.0..1.0).contains(&self.ema) {
            return bad("the weight average's decay must be in [0, 1) (0 = off)");
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) || !(0.0..1.0).contains(&self.pct_start) {
            return bad("learning rate must be > 0 and pct_start in [0, 1)");
        }
        if self.data.is_none() && !self.synthetic {
            return bad("choose a dataset folder, synthetic data, or both");
        }
        self.model.check()
    }
}

/// What the dataset check found.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DatasetReport {
    pub pairs: usize,
    pub with_semantics: usize,
    pub with_edges: usize,
    /// One line each: missing pairs, size mismatches, 8-bit depth, unreadable files.
    pub problems: Vec<String>,
}

impl DatasetReport {
    /// Problems that stop training (no usable pair); the rest are warnings.
    pub fn is_usable(&self) -> bool {
        self.pairs > 0
    }
}

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
