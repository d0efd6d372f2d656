//! The multi-task relief network of seed 000 in burn: model, losses, device choice,
//! weights on disk and inference. Tensors never leave this module and `train`.

// The core modules under the paths the code names them by (`crate::grid`, …).
use relievo_core::{cancel, export, filter, grid, labels, layers, photo};

pub mod config;
pub mod device;
pub mod fusion;
pub mod infer;
pub mod loss;
pub mod model;
pub mod weights;

pub use config::{DepthTerm, EdgeMode, LossConfig, MultiTaskConfig};
pub use device::{ComputeDevice, DeviceChoice};
pub use infer::{InferOptions, predict, predict_cancellable};
pub use model::{ConvShapes, InitNet, MultiTaskNet, MultiTaskOutput};
pub use weights::{Weights, WeightsMeta};
