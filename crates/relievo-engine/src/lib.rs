//! The network as the app sees it, without burn. The settings and results that cross
//! between the app and the network are plain serde data here ([`config`]: the network and
//! its loss, the device choice, the inference options; [`training`]: a run's settings,
//! events, switches, the dataset check and the validation report), and the app drives the
//! network through the object-safe [`Engine`] trait: `relievo-train` implements it with
//! burn (`relievo_train::BurnEngine`) and the binary and the tests hand that to the app,
//! so `cargo tree -p relievo-app` has no burn in it.

use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use relievo_core::cancel::{Cancel, Cancelled};
use relievo_core::layers::Layers;
use relievo_core::photo::Photo;

pub mod config;
pub mod training;

pub use config::{DepthTerm, DeviceChoice, EdgeMode, InferOptions, LossConfig, MultiTaskConfig};
pub use training::{
    DatasetReport, EvalReport, FINE_TUNE_MAX_LR, PhysicalSize, StepLosses, TrainConfig, TrainControl, TrainEvent,
};

/// What the app asks of the network outside a device: where the shipped weights are, which
/// device to run on, and the file work around weights, datasets and runs.
pub trait Engine: Send + Sync {
    /// The weights shipped with relievo (`$RELIEVO_MODELS/default`, …).
    fn default_weights_dir(&self) -> PathBuf;
    /// The device for `choice`, or why there is none (e.g. no hardware GPU for `Gpu`).
    fn select_device(&self, choice: DeviceChoice) -> anyhow::Result<Arc<dyn EngineDevice>>;
    /// The CPU, always there; `reason` says why it is used ("no GPU found").
    fn cpu_device(&self, reason: &str) -> Arc<dyn EngineDevice>;
    /// Copies the weights folder `from` into `to`: all of its files or, on failure, none.
    fn copy_weights(&self, from: &Path, to: &Path) -> anyhow::Result<()>;
    /// Checks a dataset folder (pairs found, labels, problems).
    fn check_dataset(&self, dir: &Path) -> DatasetReport;
    /// Whether `out` holds a checkpoint a run can resume.
    fn has_checkpoint(&self, out: &Path) -> bool;
    /// Where a run in `out` keeps its best weights.
    fn best_dir(&self, out: &Path) -> PathBuf;
}

/// A device the network runs on, and the work that runs on it.
pub trait EngineDevice: Send + Sync + Debug {
    /// e.g. "GPU — NVIDIA GeForce RTX 3060 (Vulkan)" or "CPU — no GPU found".
    fn label(&self) -> &str;
    fn is_gpu(&self) -> bool;
    /// Loads the weights folder `dir` onto this device.
    fn load_weights(&self, dir: &Path) -> anyhow::Result<Arc<dyn LoadedWeights>>;
    /// Trains (or resumes) `config` to its end, reporting every event; `control` pauses or
    /// stops it.
    fn train(
        &self,
        config: TrainConfig,
        resume: bool,
        control: &TrainControl,
        on_event: &mut dyn FnMut(TrainEvent),
    ) -> anyhow::Result<()>;
    /// The weights in `weights_dir` on the held-back synthetic panel of `seed` (side about
    /// `size_px`), beside its truth; on `photo` when no panel can be made.
    fn train_preview(
        &self,
        weights_dir: &Path,
        photo: Option<Arc<Photo>>,
        seed: u64,
        size_px: usize,
    ) -> Result<PreviewImages, String>;
}

/// Weights loaded onto a device (opaque to the app).
pub trait LoadedWeights: Send + Sync {
    /// The three layers of `photo` at its full resolution; stops within a fraction of a
    /// second of `cancel` being set.
    fn predict(&self, photo: &Photo, options: &InferOptions, cancel: &Cancel) -> Result<Layers, Cancelled>;
}

/// A training preview: the held-back panel, its truth and the prediction, as RGB8 images.
#[derive(Clone, Debug)]
pub struct PreviewImages {
    pub source: String,
    pub size: [usize; 2],
    /// Photo, then truth and prediction of depth, edges, semantics.
    pub images: Vec<(&'static str, Vec<u8>)>,
}
