//! Training and fine-tuning (seed 000's recipe): Adam + OneCycle, augmentations,
//! the dynamic edge-enhanced loss, validation each epoch, checkpoints that resume
//! exactly (same data order, optimizer and schedule state), the best weights kept.
//! Progress is reported as [`TrainEvent`]s (CLI progress bar, GUI panel); a
//! [`TrainControl`] pauses or stops the run cleanly with a checkpoint.

// The crates below under the paths the code names them by (`crate::net`, `crate::grid`, …).
use relievo_core::{cancel, export, filter, grid, labels, layers, metrics, photo, rng};
use relievo_net as net;
use relievo_synth as synth;

pub mod bench;
pub mod data;
pub mod engine;
pub mod eval;

pub use engine::BurnEngine;
pub use relievo_engine::training::{
    DEFAULT_MIN_CROP_FRACTION, FINE_TUNE_MAX_LR, StepLosses, TrainConfig, TrainControl, TrainEvent,
};

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};

use crate::export::atomic_write;
use crate::net::loss::total_loss;
use crate::net::weights::{self, Provenance, WeightsMeta};
use crate::net::{InferOptions, InitNet as _, MultiTaskConfig, Weights};
use crate::rng::Rng;
use data::{Sample, Source, augment, texture_patches, to_batch};
use eval::{PhysicalSize, evaluate};

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{0}")]
    Data(String),
    #[error(transparent)]
    Weights(#[from] weights::WeightsError),
    #[error("checkpoint {path}: {reason}")]
    Checkpoint { path: PathBuf, reason: String },
    #[error("invalid training settings: {0}")]
    Settings(String),
}

/// Saved beside the checkpoint weights.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct RunState {
    step: usize,
    best_rmse_pct: Option<f64>,
    wall_time_secs: f64,
    config: TrainConfig,
}

const CHECKPOINT_DIR: &str = "checkpoint";
/// A checkpoint is written whole into this folder, then swapped in (see [`swap_in`]).
const CHECKPOINT_PARTIAL: &str = "checkpoint.partial";
/// The previous checkpoint while the new one is swapped in.
const CHECKPOINT_OLD: &str = "checkpoint.old";
const BEST_DIR: &str = "best";
/// The moving average of the weights (`TrainConfig::ema`), inside a checkpoint.
const EMA_DIR: &str = "ema";
const OPTIMIZER_FILE: &str = "optimizer.bin";
const STATE_FILE: &str = "state.json";
/// Seed offset of the validation stream (disjoint from training examples).
const VALIDATION_SEED: u64 = 0x7a11_da7e;

/// Where a run in `out` keeps its best weights.
pub fn best_dir(out: &Path) -> PathBuf {
    out.join(BEST_DIR)
}

/// Whether `out` holds a checkpoint that `--resume` can continue.
pub fn has_checkpoint(out: &Path) -> bool {
    [CHECKPOINT_DIR, CHECKPOINT_OLD]
        .iter()
        .any(|dir| out.join(dir).join(STATE_FILE).is_file())
}

/// Replaces `out/checkpoint` by the complete `out/checkpoint.partial` with two renames.
/// Killed at any moment, `out` keeps a whole checkpoint: the new one, or the previous
/// one under `checkpoint` or (between the renames) `checkpoint.old`, which
/// [`take_back_old_checkpoint`] restores. A checkpoint is three files (weights,
/// optimizer, state); written in place, a kill between them would resume the weights
/// of one step with the schedule of another.
fn swap_in(out: &Path) -> std::io::Result<()> {
    let (current, partial, old) = (
        out.join(CHECKPOINT_DIR),
        out.join(CHECKPOINT_PARTIAL),
        out.join(CHECKPOINT_OLD),
    );
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    if current.exists() {
        std::fs::rename(&current, &old)?;
    }
    std::fs::rename(&partial, &current)?;
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(())
}

/// After a kill between [`swap_in`]'s renames: the previous checkpoint is taken back.
fn take_back_old_checkpoint(out: &Path) -> std::io::Result<()> {
    let (current, old) = (out.join(CHECKPOINT_DIR), out.join(CHECKPOINT_OLD));
    if !current.join(STATE_FILE).is_file() && old.join(STATE_FILE).is_file() {
        if current.exists() {
            std::fs::remove_dir_all(&current)?;
        }
        std::fs::rename(&old, &current)?;
    }
    Ok(())
}

/// OneCycle learning rate (PyTorch's defaults: cosine, div 25, final div 1e4).
pub fn one_cycle_lr(step: usize, total: usize, max_lr: f64, pct_start: f64) -> f64 {
    let initial = max_lr / 25.0;
    let final_lr = initial / 1e4;
    let up = ((pct_start * total as f64) - 1.0).max(1.0);
    let t = step as f64;
    let cos = |from: f64, to: f64, frac: f64| to + (from - to) * (1.0 + (std::f64::consts::PI * frac).cos()) / 2.0;
    if t <= up {
        cos(initial, max_lr, t / up)
    } else {
        let down = (total as f64 - 1.0 - up).max(1.0);
        cos(max_lr, final_lr, ((t - up) / down).min(1.0))
    }
}

/// What a run makes of its settings: where examples come from and how many steps it takes.
trait RunPlan {
    fn source(&self) -> Result<(Source, Option<data::DatasetReport>), TrainError>;
    fn total_steps(&self, source: &Source) -> usize;
}

impl RunPlan for TrainConfig {
    /// Builds the example source, checking the folder first.
    fn source(&self) -> Result<(Source, Option<data::DatasetReport>), TrainError> {
        let size_px = self.synthetic_size_px;
        match &self.data {
            None => Ok((Source::Synthetic { size_px }, None)),
            Some(dir) => {
                let (folder, report) = data::check_folder(dir);
                if !report.is_usable() {
                    return Err(TrainError::Data(format!(
                        "{}: no usable image/depth pairs ({})",
                        dir.display(),
                        report.problems.first().cloned().unwrap_or_default()
                    )));
                }
                let source = if self.synthetic {
                    Source::Mix {
                        folder,
                        size_px,
                        synthetic_fraction: self.synthetic_fraction,
                    }
                } else {
                    Source::Folder(folder)
                };
                Ok((source, Some(report)))
            }
        }
    }

    fn total_steps(&self, source: &Source) -> usize {
        let per_epoch = match source {
            Source::Folder(f) => f.pairs.len().div_ceil(self.batch),
            _ => self.steps_per_epoch,
        };
        per_epoch.max(1) * self.epochs
    }
}

/// The validation examples: a fixed, disjoint stream of the same source.
fn validation_samples(source: &Source, cfg: &TrainConfig) -> Vec<Result<Sample, String>> {
    (0..cfg.val_count as u64)
        .map(|i| source.example(cfg.seed ^ VALIDATION_SEED, i))
        .collect()
}

fn batch_samples(source: &Source, cfg: &TrainConfig, step: usize) -> Result<Vec<Sample>, TrainError> {
    (0..cfg.batch)
        .map(|i| {
            let index = (step * cfg.batch + i) as u64;
            let sample = source.example(cfg.seed, index).map_err(TrainError::Data)?;
            let mut rng = Rng::new(Rng::mix(cfg.seed ^ 0xa09, index));
            let mut crop = augment(&sample, cfg.crop_px, cfg.min_crop_fraction, &mut rng);
            if cfg.texture_patches > 0.0 && rng.f32() < cfg.texture_patches {
                texture_patches(&mut crop.photo, &mut rng);
            }
            Ok(crop)
        })
        .collect()
}

fn checkpoint_error(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Checkpoint {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn meta_for(cfg: &TrainConfig, steps: u64, wall_time_secs: f64) -> WeightsMeta {
    WeightsMeta {
        // A whole example spans crop / mean crop fraction pixels of what the network saw.
        working_side_px: (cfg.crop_px as f32 / data::mean_crop_fraction(cfg.min_crop_fraction)).round() as usize,
        provenance: Provenance {
            data: match (&cfg.data, cfg.synthetic) {
                (Some(d), true) => format!("{} + synthetic relief world", d.display()),
                (Some(d), false) => d.display().to_string(),
                (None, _) => "synthetic relief world".into(),
            },
            init: cfg.init.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            steps,
            wall_time_secs,
            notes: format!(
                "relievo {} train: batch {}, crop {} px, max lr {}, seed {}{}",
                env!("CARGO_PKG_VERSION"),
                cfg.batch,
                cfg.crop_px,
                cfg.lr,
                cfg.seed,
                if cfg.ema > 0.0 {
                    format!(", weight average decay {}", cfg.ema)
                } else {
                    String::new()
                }
            ),
        },
        ..WeightsMeta::default()
    }
}

fn read_state(checkpoint_dir: &Path) -> Result<RunState, TrainError> {
    let path = checkpoint_dir.join(STATE_FILE);
    let text = std::fs::read(&path).map_err(|e| checkpoint_error(&path, e))?;
    serde_json::from_slice(&text).map_err(|e| checkpoint_error(&path, e))
}

/// The settings of the run whose checkpoint is in `out` (what `--resume` continues),
/// checked as a new run's are.
pub fn checkpoint_config(out: &Path) -> Result<TrainConfig, TrainError> {
    let config = read_state(&out.join(CHECKPOINT_DIR))?.config;
    config.check().map_err(TrainError::Settings)?;
    Ok(config)
}

/// Trains (or resumes, if `resume` and a checkpoint exists in `cfg.out`).
pub fn run(
    cfg: TrainConfig,
    resume: bool,
    device: &Device,
    control: &TrainControl,
    mut on_event: impl FnMut(TrainEvent),
) -> Result<Weights, TrainError> {
    let checkpoint_dir = cfg.out.join(CHECKPOINT_DIR);
    let (cfg, mut state) = if resume && has_checkpoint(&cfg.out) {
        take_back_old_checkpoint(&cfg.out).map_err(|e| checkpoint_error(&checkpoint_dir, e))?;
        let state = read_state(&checkpoint_dir)?;
        (state.config.clone(), state)
    } else {
        (
            cfg.clone(),
            RunState {
                step: 0,
                best_rmse_pct: None,
                wall_time_secs: 0.0,
                config: cfg,
            },
        )
    };
    cfg.check().map_err(TrainError::Settings)?;
    let (source, _) = cfg.source()?;
    let total_steps = cfg.total_steps(&source);
    let steps_per_epoch = total_steps / cfg.epochs;
    let train_device = device.clone().autodiff();
    train_device.seed(cfg.seed);

    let (mut model, model_config, mut optim) = if state.step > 0 {
        let w = weights::load(&checkpoint_dir, &train_device)?;
        let path = checkpoint_dir.join(OPTIMIZER_FILE);
        let bytes = std::fs::read(&path).map_err(|e| checkpoint_error(&path, e))?;
        let optim = AdamConfig::new()
            .init()
            .from_bytes(Bytes::from_bytes_vec(bytes))
            .map_err(|e| checkpoint_error(&path, e))?;
        (w.model, w.config, optim)
    } else if let Some(init) = &cfg.init {
        // The architecture comes from the weights, the loss settings from this run; a
        // slope or light head the run asks for and the weights lack starts untrained, and a
        // slope screen the run asks for fuses the slopes from its first step.
        let w = weights::load(init, &train_device)?;
        let mut config = MultiTaskConfig {
            loss: cfg.model.loss.clone(),
            ..w.config
        };
        let mut model = w.model;
        if cfg.model.slope_head && !config.slope_head {
            config.slope_head = true;
            model = model.with_slope_head(&train_device);
        }
        if cfg.model.slope_screen > 0.0 {
            config.slope_screen = cfg.model.slope_screen;
            model = model.with_slope_screen(config.slope_screen);
        }
        if cfg.model.light_head && !config.light_head {
            config.light_head = true;
            model = model.with_light_head(&train_device);
        }
        (model, config, AdamConfig::new().init())
    } else {
        (
            cfg.model.init(&train_device),
            cfg.model.clone(),
            AdamConfig::new().init(),
        )
    };
    if cfg.crop_px % model_config.size_multiple() != 0 {
        return Err(TrainError::Settings(format!(
            "crop size must be a multiple of {} px for this network",
            model_config.size_multiple()
        )));
    }
    // The moving average of the weights, when the run keeps one: what validation scores and
    // the run yields, part of every checkpoint. It starts at the first step's weights: burn
    // initialises parameters when first touched, so reading them before the first forward
    // pass would change the order of their random draws, and with it the run.
    let mut average = if cfg.ema > 0.0 && state.step > 0 {
        Some(weights::load(&checkpoint_dir.join(EMA_DIR), device)?.model)
    } else {
        None
    };
    let loss_cfg = model_config.loss.clone();
    let edge_mode = model_config.edge_mode;
    let meta = WeightsMeta::default();
    let val = validation_samples(&source, &cfg);

    on_event(TrainEvent::Started {
        total_steps,
        resumed_from: state.step,
    });
    let started = Instant::now();
    let wall_before = state.wall_time_secs;
    let mut stopped = false;

    // Batches are prepared one step ahead on another thread.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<Sample>, TrainError>>(2);
    let first_step = state.step;
    let producer = {
        let (source, cfg) = (source.clone(), cfg.clone());
        std::thread::spawn(move || {
            for step in first_step..total_steps {
                if tx.send(batch_samples(&source, &cfg, step)).is_err() {
                    break;
                }
            }
        })
    };

    let save_checkpoint = |model: &crate::net::MultiTaskNet,
                           average: Option<&crate::net::MultiTaskNet>,
                           optim: &burn::optim::ModuleOptimizer,
                           state: &RunState|
     -> Result<(), TrainError> {
        let partial = cfg.out.join(CHECKPOINT_PARTIAL);
        if partial.exists() {
            std::fs::remove_dir_all(&partial).map_err(|e| checkpoint_error(&partial, e))?;
        }
        let meta = meta_for(&cfg, state.step as u64, state.wall_time_secs);
        weights::save(&partial, model, &model_config, &meta)?;
        if let Some(average) = average {
            weights::save(&partial.join(EMA_DIR), average, &model_config, &meta)?;
        }
        let bytes = optim.into_bytes().map_err(|e| checkpoint_error(&partial, e))?;
        atomic_write(&partial.join(OPTIMIZER_FILE), |w| w.write_all(&bytes))
            .map_err(|e| checkpoint_error(&partial, e))?;
        let json = serde_json::to_vec_pretty(state).expect("state serialises");
        atomic_write(&partial.join(STATE_FILE), |w| w.write_all(&json)).map_err(|e| checkpoint_error(&partial, e))?;
        swap_in(&cfg.out).map_err(|e| checkpoint_error(&checkpoint_dir, e))
    };

    let mut window = Instant::now();
    let mut window_samples = 0usize;
    while state.step < total_steps {
        while control.pause.load(Ordering::Relaxed) && !control.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
        }
        if control.stop.load(Ordering::Relaxed) {
            stopped = true;
            break;
        }
        let samples = rx
            .recv()
            .map_err(|_| TrainError::Data("data thread ended early".into()))??;
        let (photo, targets) = to_batch(&samples, &meta, &train_device);
        let out = model.forward(photo);
        let parts = total_loss(&out, &targets, &loss_cfg, edge_mode);
        let total = parts.total.clone().into_scalar::<f32>() as f64;
        if !total.is_finite() {
            return Err(TrainError::Settings(format!(
                "loss became {total} at step {}; lower the learning rate",
                state.step
            )));
        }
        let lr = one_cycle_lr(state.step, total_steps, cfg.lr, cfg.pct_start);
        let grads = GradientsParams::from_grads(parts.total.backward(), &model);
        model = optim.step(lr, model, grads);
        if cfg.ema > 0.0 {
            let current = model.valid();
            average = Some(match average.take() {
                None => current,
                Some(previous) => {
                    // Ramped up so that the first steps' weights fade soon.
                    let decay = cfg.ema.min((1.0 + state.step as f32) / (10.0 + state.step as f32));
                    weights::blend(&previous, current, 1.0 - decay)
                        .map_err(TrainError::Settings)?
                        .0
                }
            });
        }
        state.step += 1;
        window_samples += cfg.batch;
        let elapsed = window.elapsed().as_secs_f64().max(1e-9);
        let samples_per_sec = window_samples as f64 / elapsed;
        if elapsed > 30.0 {
            window = Instant::now();
            window_samples = 0;
        }
        state.wall_time_secs = wall_before + started.elapsed().as_secs_f64();
        on_event(TrainEvent::Step {
            step: state.step,
            total_steps,
            epoch: (state.step - 1) / steps_per_epoch + 1,
            losses: StepLosses {
                total,
                semantic: parts.semantic,
                depth: parts.depth,
                edge: parts.edge,
                light: parts.light,
            },
            k: parts.k,
            lr,
            samples_per_sec,
            eta_secs: (total_steps - state.step) as f64 * cfg.batch as f64 / samples_per_sec.max(1e-9),
        });

        if state.step % steps_per_epoch == 0 && !val.is_empty() {
            let current = Weights {
                model: average.clone().unwrap_or_else(|| model.valid()),
                config: model_config.clone(),
                meta: meta_for(&cfg, state.step as u64, state.wall_time_secs),
            };
            let report = evaluate(
                &current,
                val.iter().cloned(),
                device,
                &InferOptions::default(),
                PhysicalSize::default(),
                |_, _| {},
            )
            .map_err(TrainError::Data)?;
            let best = state.best_rmse_pct.is_none_or(|b| report.bench.rmse_pct < b);
            if best {
                state.best_rmse_pct = Some(report.bench.rmse_pct);
                weights::save(&best_dir(&cfg.out), &current.model, &model_config, &current.meta)?;
            }
            on_event(TrainEvent::Validation {
                epoch: state.step / steps_per_epoch,
                step: state.step,
                report: Box::new(report),
                best,
            });
        }
        if state.step % cfg.checkpoint_every == 0 || state.step == total_steps {
            save_checkpoint(&model, average.as_ref(), &optim, &state)?;
            on_event(TrainEvent::Checkpoint {
                step: state.step,
                path: checkpoint_dir.clone(),
            });
        }
    }
    drop(rx);
    let _ = producer.join();
    if stopped {
        save_checkpoint(&model, average.as_ref(), &optim, &state)?;
        on_event(TrainEvent::Checkpoint {
            step: state.step,
            path: checkpoint_dir.clone(),
        });
    }
    let best_dir = best_dir(&cfg.out);
    let final_meta = meta_for(&cfg, state.step as u64, state.wall_time_secs);
    let model = average.unwrap_or_else(|| model.valid());
    if !best_dir.join(weights::MODEL_FILE).is_file() {
        weights::save(&best_dir, &model, &model_config, &final_meta)?;
    }
    on_event(TrainEvent::Finished {
        steps: state.step,
        stopped,
        best_dir,
    });
    Ok(Weights {
        model,
        config: model_config,
        meta: final_meta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_cycle_rises_then_falls() {
        let total = 100;
        let lrs: Vec<f64> = (0..total).map(|s| one_cycle_lr(s, total, 0.01, 0.2)).collect();
        assert!((lrs[0] - 0.01 / 25.0).abs() < 1e-12);
        let peak = lrs.iter().cloned().fold(0.0, f64::max);
        assert!((peak - 0.01).abs() < 1e-9);
        let peak_at = lrs.iter().position(|&l| l == peak).unwrap();
        assert!((18..=20).contains(&peak_at), "peak at {peak_at}");
        assert!(lrs[total - 1] < 1e-6);
    }
}
