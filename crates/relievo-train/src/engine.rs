//! [`BurnEngine`]: the app's [`Engine`] over the burn network — devices, weights, inference,
//! dataset checks, training runs and the training preview. The binary and the tests hand it
//! to the app, which names no burn type.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::tensor::Device;
use relievo_engine::{Engine, EngineDevice, LoadedWeights, PreviewImages};

use crate::cancel::{Cancel, Cancelled};
use crate::data::{DatasetReport, Source};
use crate::grid::Grid;
use crate::layers::{self, Layers};
use crate::net::{self, DeviceChoice, InferOptions, Weights};
use crate::photo::Photo;
use crate::{TrainConfig, TrainControl, TrainEvent};

/// Seed offset of the held-back preview panel (never drawn by training or validation, which
/// use `seed` and `seed ^ 0x7a11da7e`).
const HELD_BACK_SEED: u64 = 0x0b5e_55ed_0f_f5e7;

/// The network in burn, as the app's [`Engine`].
#[derive(Clone, Copy, Debug, Default)]
pub struct BurnEngine;

impl BurnEngine {
    /// The engine behind a shared handle, as the app takes it.
    pub fn shared() -> Arc<dyn Engine> {
        Arc::new(Self)
    }
}

impl Engine for BurnEngine {
    fn default_weights_dir(&self) -> PathBuf {
        net::weights::default_dir()
    }

    fn select_device(&self, choice: DeviceChoice) -> anyhow::Result<Arc<dyn EngineDevice>> {
        Ok(Arc::new(BurnDevice(net::device::select(choice)?)))
    }

    fn cpu_device(&self, reason: &str) -> Arc<dyn EngineDevice> {
        Arc::new(BurnDevice(net::ComputeDevice {
            device: Device::flex(),
            label: format!("CPU — {reason}"),
            is_gpu: false,
        }))
    }

    fn copy_weights(&self, from: &Path, to: &Path) -> anyhow::Result<()> {
        Ok(net::weights::copy(from, to)?)
    }

    fn check_dataset(&self, dir: &Path) -> DatasetReport {
        crate::data::check_folder(dir).1
    }

    fn has_checkpoint(&self, out: &Path) -> bool {
        crate::has_checkpoint(out)
    }

    fn best_dir(&self, out: &Path) -> PathBuf {
        crate::best_dir(out)
    }
}

/// A burn device with its label.
#[derive(Clone, Debug)]
pub struct BurnDevice(pub net::ComputeDevice);

impl EngineDevice for BurnDevice {
    fn label(&self) -> &str {
        &self.0.label
    }

    fn is_gpu(&self) -> bool {
        self.0.is_gpu
    }

    fn load_weights(&self, dir: &Path) -> anyhow::Result<Arc<dyn LoadedWeights>> {
        let weights = net::weights::load(dir, &self.0.device)?;
        Ok(Arc::new(BurnWeights {
            weights,
            device: self.0.device.clone(),
        }))
    }

    fn train(
        &self,
        config: TrainConfig,
        resume: bool,
        control: &TrainControl,
        on_event: &mut dyn FnMut(TrainEvent),
    ) -> anyhow::Result<()> {
        crate::run(config, resume, &self.0.device, control, on_event)?;
        Ok(())
    }

    fn train_preview(
        &self,
        weights_dir: &Path,
        photo: Option<Arc<Photo>>,
        seed: u64,
        size_px: usize,
    ) -> Result<PreviewImages, String> {
        preview(weights_dir, &self.0.device, photo, seed, size_px)
    }
}

/// Weights on the device they were loaded onto.
pub struct BurnWeights {
    pub weights: Weights,
    pub device: Device,
}

impl LoadedWeights for BurnWeights {
    fn predict(&self, photo: &Photo, options: &InferOptions, cancel: &Cancel) -> Result<Layers, Cancelled> {
        net::predict_cancellable(&self.weights, photo, &self.device, options, cancel)
    }
}

/// Loads the weights in `dir` and predicts the held-back synthetic panel of `seed` (or
/// `photo`, when there is one and no panel can be made): the training panel's preview.
pub fn preview(
    dir: &Path,
    device: &Device,
    photo: Option<Arc<Photo>>,
    seed: u64,
    size_px: usize,
) -> Result<PreviewImages, String> {
    let weights = net::weights::load(dir, device).map_err(|e| format!("{:#}", anyhow::Error::new(e)))?;
    let options = InferOptions {
        max_side_px: Some(0),
        ..Default::default()
    };
    let grey = |g: &Grid<f32>| layers::depth_grey_rgb(g);
    let source = Source::Synthetic {
        size_px: size_px.clamp(32, 384),
    };
    match source.example(seed ^ HELD_BACK_SEED, 0) {
        Ok(sample) => {
            let photo = Photo {
                rgb: sample.photo.clone(),
                was_grey: false,
            };
            let predicted = net::predict(&weights, &photo, device, &options);
            let mut images = vec![("photo", rgb8(&photo))];
            images.push(("depth (truth)", grey(&sample.height)));
            images.push(("depth (predicted)", grey(&predicted.depth.stretched())));
            images.push(("edges (truth)", layers::edges_rgb(&sample.edges)));
            images.push(("edges (predicted)", layers::edges_rgb(&predicted.edges)));
            if let Some(s) = &sample.semantics {
                images.push(("semantics (truth)", layers::semantics_rgb(s)));
            }
            images.push(("semantics (predicted)", layers::semantics_rgb(&predicted.semantics)));
            Ok(PreviewImages {
                source: format!("held-back synthetic panel (seed {seed} ^ {HELD_BACK_SEED:#x})"),
                size: [photo.width(), photo.height()],
                images,
            })
        }
        Err(e) => {
            let Some(photo) = photo else { return Err(e) };
            let predicted = net::predict(&weights, &photo, device, &InferOptions::default());
            Ok(PreviewImages {
                source: "the open photo".into(),
                size: [photo.width(), photo.height()],
                images: vec![
                    ("photo", rgb8(&photo)),
                    ("depth (predicted)", grey(&predicted.depth)),
                    ("edges (predicted)", layers::edges_rgb(&predicted.edges)),
                    ("semantics (predicted)", layers::semantics_rgb(&predicted.semantics)),
                ],
            })
        }
    }
}

fn rgb8(photo: &Photo) -> Vec<u8> {
    photo
        .rgb
        .data
        .iter()
        .flat_map(|p| p.map(|c| (c.clamp(0.0, 1.0) * 255.0).round() as u8))
        .collect()
}
