//! The training panel: choose data (a dataset folder, checked when chosen; the synthetic relief
//! world; or both), start from the shipped weights or from scratch, set seed 000's
//! hyperparameters and loss weights, then Start / Pause / Stop / Resume a training run in
//! a background job (`EngineDevice::train` of the app's engine). Its events arrive through a channel and feed live loss, k and lr curves
//! (egui_plot), a validation table, and a preview of the best weights on a held-back synthetic
//! panel beside its ground truth. The best weights can be saved elsewhere or used in the main
//! view.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use eframe::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints};

use super::commands::{Command, DialogKind};
use super::jobs::{JobHandle, JobKind};
use super::logic;
use super::settings::TrainSettings;
use super::state::{AppView, WeightsState};
use crate::engine::{
    DatasetReport, DepthTerm, EdgeMode, Engine, EngineDevice, PreviewImages, TrainControl, TrainEvent,
};

#[derive(Clone, Debug, PartialEq)]
pub enum TrainPhase {
    Idle,
    Starting,
    Running,
    Paused,
    Stopping,
    Finished { steps: usize, stopped: bool },
    Failed(String),
}

/// One training step on the curves.
#[derive(Clone, Copy, Debug)]
pub struct StepPoint {
    pub step: usize,
    pub total: f64,
    pub semantic: f64,
    pub depth: f64,
    pub edge: f64,
    pub k: f64,
    pub lr: f64,
}

/// One row of the validation table.
#[derive(Clone, Debug)]
pub struct ValidationRow {
    pub epoch: usize,
    pub step: usize,
    pub rmse_pct: f64,
    pub normal_deg: f64,
    pub edge_pct: f64,
    pub d1: f64,
    pub delta1: f64,
    pub abs_rel: f64,
    pub semantic_miou: Option<f64>,
    pub edge_miou: f64,
    pub best: bool,
}

/// Runtime state of the panel.
pub struct TrainingState {
    events: Option<Receiver<TrainEvent>>,
    control: Option<Arc<TrainControl>>,
    pub phase: TrainPhase,
    pub total_steps: usize,
    pub history: Vec<StepPoint>,
    pub validations: Vec<ValidationRow>,
    /// (samples/s, ETA s, epoch) of the last step.
    pub speed: Option<(f64, f64, usize)>,
    pub best_dir: Option<PathBuf>,
    /// Where the current run keeps its best weights.
    pub run_best_dir: Option<PathBuf>,
    pub last_checkpoint: Option<usize>,
    pub last_report: Option<String>,
    pub dataset: Option<(PathBuf, DatasetReport)>,
    pub preview: Option<PreviewImages>,
    preview_textures: Vec<egui::TextureHandle>,
    previews_made: usize,
}

impl Default for TrainingState {
    fn default() -> Self {
        Self {
            events: None,
            control: None,
            phase: TrainPhase::Idle,
            total_steps: 0,
            history: Vec::new(),
            validations: Vec::new(),
            speed: None,
            best_dir: None,
            run_best_dir: None,
            last_checkpoint: None,
            last_report: None,
            dataset: None,
            preview: None,
            preview_textures: Vec::new(),
            previews_made: 0,
        }
    }
}

type TrainWork = Box<dyn FnOnce(&JobHandle) -> Result<(), String> + Send>;

impl TrainingState {
    pub fn is_active(&self) -> bool {
        matches!(
            self.phase,
            TrainPhase::Starting | TrainPhase::Running | TrainPhase::Paused | TrainPhase::Stopping
        )
    }

    /// Checks the form and prepares a run; the returned work runs it on `device` to its end.
    pub fn prepare(
        &mut self,
        settings: &TrainSettings,
        weights_in_use: Option<PathBuf>,
        default_out: PathBuf,
        resume: bool,
        engine: &dyn Engine,
        device: Arc<dyn EngineDevice>,
        ctx: &egui::Context,
    ) -> Result<(String, TrainWork), String> {
        if self.is_active() {
            return Err("a training run is already in progress".into());
        }
        if settings.run.data.is_none() && !settings.run.synthetic {
            return Err("Choose a dataset folder, synthetic data, or both.".into());
        }
        let out = settings.out.clone().unwrap_or(default_out);
        let init = match (settings.from_shipped, weights_in_use) {
            (false, _) => None,
            (true, Some(dir)) => Some(dir),
            (true, None) => {
                return Err(
                    "No weights to start from: untick \"Start from the shipped weights\" to train from scratch.".into(),
                );
            }
        };
        if resume && !engine.has_checkpoint(&out) {
            return Err(format!("Nothing to resume in {}.", out.display()));
        }
        let config = settings.to_config(init, out.clone());
        if !resume {
            self.history.clear();
            self.validations.clear();
            self.best_dir = None;
            self.preview = None;
            self.last_report = None;
        }
        let control = Arc::new(TrainControl::default());
        let (tx, rx) = channel();
        self.events = Some(rx);
        self.control = Some(control.clone());
        self.phase = TrainPhase::Starting;
        self.speed = None;
        self.run_best_dir = Some(engine.best_dir(&out));
        let label = format!("{} into {}", if resume { "resume" } else { "train" }, out.display());
        let ctx = ctx.clone();
        let work: TrainWork = Box::new(move |handle| {
            let result = device.train(config, resume, &control, &mut |event| {
                if let TrainEvent::Step { step, total_steps, .. } = &event {
                    handle.set_progress(*step as f32 / (*total_steps).max(1) as f32);
                }
                let _ = tx.send(event);
                ctx.request_repaint();
            });
            ctx.request_repaint();
            result.map_err(|e| e.to_string())
        });
        Ok((label, work))
    }

    /// Shows new preview images (their textures are made when next drawn).
    pub fn set_preview(&mut self, images: PreviewImages) {
        self.preview = Some(images);
        self.preview_textures.clear();
    }

    /// The run could not be started after all.
    pub fn abandon(&mut self) {
        self.events = None;
        self.control = None;
        self.phase = TrainPhase::Idle;
    }

    pub fn fail(&mut self, error: String) {
        self.events = None;
        self.control = None;
        self.phase = TrainPhase::Failed(error);
    }

    pub fn set_paused(&mut self, paused: bool) {
        if let Some(control) = &self.control
            && matches!(
                self.phase,
                TrainPhase::Running | TrainPhase::Paused | TrainPhase::Starting
            )
        {
            control.pause.store(paused, Ordering::Relaxed);
            self.phase = if paused {
                TrainPhase::Paused
            } else {
                TrainPhase::Running
            };
        }
    }

    /// Asks the run to stop after the current step (it saves a checkpoint first).
    pub fn stop(&mut self) {
        if let Some(control) = &self.control
            && self.is_active()
        {
            control.stop.store(true, Ordering::Relaxed);
            control.pause.store(false, Ordering::Relaxed);
            self.phase = TrainPhase::Stopping;
        }
    }

    /// On exit: stop without waiting.
    pub fn stop_now(&mut self) {
        self.stop();
    }

    /// Takes the run's events; queues a preview when new best weights exist.
    pub fn poll(&mut self, commands: &mut Vec<Command>) {
        loop {
            let Some(events) = &self.events else { return };
            match events.try_recv() {
                Ok(event) => self.on_event(event, commands),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    self.events = None;
                    self.control = None;
                    if self.is_active() {
                        self.phase = TrainPhase::Finished {
                            steps: self.history.last().map_or(0, |s| s.step),
                            stopped: true,
                        };
                    }
                    return;
                }
            }
        }
    }

    fn on_event(&mut self, event: TrainEvent, commands: &mut Vec<Command>) {
        match event {
            TrainEvent::Started {
                total_steps,
                resumed_from,
            } => {
                self.total_steps = total_steps;
                self.history.retain(|p| p.step <= resumed_from);
                if self.phase == TrainPhase::Starting {
                    self.phase = TrainPhase::Running;
                }
            }
            TrainEvent::Step {
                step,
                total_steps,
                epoch,
                losses,
                k,
                lr,
                samples_per_sec,
                eta_secs,
            } => {
                self.total_steps = total_steps;
                self.history.push(StepPoint {
                    step,
                    total: losses.total,
                    semantic: losses.semantic,
                    depth: losses.depth,
                    edge: losses.edge,
                    k,
                    lr,
                });
                self.speed = Some((samples_per_sec, eta_secs, epoch));
                if self.phase == TrainPhase::Starting {
                    self.phase = TrainPhase::Running;
                }
            }
            TrainEvent::Validation {
                epoch,
                step,
                report,
                best,
            } => {
                self.validations.push(ValidationRow {
                    epoch,
                    step,
                    rmse_pct: report.bench.rmse_pct,
                    normal_deg: report.bench.normal_deg,
                    edge_pct: report.bench.edge_pct,
                    d1: report.bench.d1,
                    delta1: report.depth.delta1,
                    abs_rel: report.depth.abs_rel,
                    semantic_miou: report.semantics.as_ref().map(|m| m.miou),
                    edge_miou: report.edges.miou,
                    best,
                });
                self.last_report = Some(report.tables());
                if best && let Some(dir) = &self.run_best_dir {
                    self.best_dir = Some(dir.clone());
                    commands.push(Command::TrainPreview);
                }
            }
            TrainEvent::Checkpoint { step, .. } => self.last_checkpoint = Some(step),
            TrainEvent::Finished {
                steps,
                stopped,
                best_dir,
            } => {
                self.best_dir = Some(best_dir);
                self.phase = TrainPhase::Finished { steps, stopped };
                self.control = None;
                commands.push(Command::TrainPreview);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// UI

/// The Training tab: draws `state` over what `app` shows and returns the commands its
/// widgets ask for.
pub fn training_ui(state: &mut TrainingState, app: &AppView, ui: &mut egui::Ui) -> Vec<Command> {
    let mut commands = Vec::new();
    egui::Panel::left("training_settings")
        .resizable(true)
        .default_size(330.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| settings_ui(state, app, &mut commands, ui));
        });
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| run_ui(state, app, &mut commands, ui));
    });
    commands
}

fn settings_ui(state: &TrainingState, app: &AppView, commands: &mut Vec<Command>, ui: &mut egui::Ui) {
    let mut s = app.settings.train.clone();
    let active = state.is_active();
    ui.heading("Data");
    ui.add_enabled_ui(!active, |ui| {
        ui.horizontal(|ui| {
            ui.label("Dataset folder:");
            if ui.button("Choose…").clicked() {
                commands.push(Command::ShowDialog(DialogKind::DatasetFolder));
            }
            if s.run.data.is_some() && ui.button("Clear").clicked() {
                commands.push(Command::SetDatasetFolder(None));
            }
        });
        match &s.run.data {
            None => {
                ui.weak("none (images/, depth/, optional semantics/ and edges/)");
            }
            Some(dir) => {
                ui.monospace(dir.display().to_string());
                dataset_report_ui(state, app, ui, dir);
            }
        }
        ui.checkbox(&mut s.run.synthetic, "Synthetic relief world");
        if s.run.data.is_some() && s.run.synthetic {
            ui.add(egui::Slider::new(&mut s.run.synthetic_fraction, 0.0..=1.0).text("synthetic share"));
        }
        ui.add(egui::Slider::new(&mut s.run.synthetic_size_px, 32..=512).text("synthetic panel px"));
        ui.add(egui::Slider::new(&mut s.run.texture_patches, 0.0..=1.0).text("texture patches"))
            .on_hover_text(
                "Share of training crops given grain or smoothing in random blobs, independent of the height",
            );
        ui.add(egui::Slider::new(&mut s.run.min_crop_fraction, 0.1..=1.0).text("smallest crop"))
            .on_hover_text("Smallest random crop, as a share of an example's shorter side (1 = whole panels)");
        ui.separator();
        ui.heading("Start from");
        let shipped = match &app.weights {
            WeightsState::Ready { dir, .. } => Some(dir.display().to_string()),
            _ => None,
        };
        let toggled = ui
            .checkbox(&mut s.from_shipped, "Start from the shipped weights")
            .on_hover_text(
                shipped
                    .clone()
                    .unwrap_or_else(|| "no weights loaded: the run starts from random weights".into()),
            )
            .changed();
        // The learning rate follows the start while it is still the default of the other one.
        let (scratch, fine_tune) = (
            crate::engine::TrainConfig::default().lr,
            crate::engine::FINE_TUNE_MAX_LR,
        );
        if toggled && s.from_shipped && s.run.lr == scratch {
            s.run.lr = fine_tune;
        } else if toggled && !s.from_shipped && s.run.lr == fine_tune {
            s.run.lr = scratch;
        }
        if s.from_shipped && shipped.is_none() {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "No weights loaded: untick to train from scratch.",
            );
        }
        ui.separator();
        ui.heading("Hyperparameters");
        egui::Grid::new("train_hyper").num_columns(2).show(ui, |ui| {
            let usize_row = |ui: &mut egui::Ui, label: &str, v: &mut usize, range: std::ops::RangeInclusive<usize>| {
                ui.label(label);
                ui.add(egui::DragValue::new(v).range(range));
                ui.end_row();
            };
            usize_row(ui, "epochs", &mut s.run.epochs, 1..=10_000);
            usize_row(ui, "steps per epoch", &mut s.run.steps_per_epoch, 1..=1_000_000);
            usize_row(ui, "batch", &mut s.run.batch, 1..=256);
            ui.label("crop px");
            ui.add(egui::DragValue::new(&mut s.run.crop_px).range(32..=1024).speed(16.0));
            ui.end_row();
            ui.label("max learning rate");
            ui.add(
                egui::DragValue::new(&mut s.run.lr)
                    .range(1e-6..=1.0)
                    .speed(0.0005)
                    .max_decimals(6),
            );
            ui.end_row();
            ui.label("warm-up share");
            ui.add(egui::DragValue::new(&mut s.run.pct_start).range(0.0..=0.95).speed(0.01));
            ui.end_row();
            ui.label("seed");
            ui.add(egui::DragValue::new(&mut s.run.seed));
            ui.end_row();
            ui.label("weight average decay").on_hover_text(
                "Validation scores and the run yields a moving average of the weights; 0 = the last step's",
            );
            ui.add(
                egui::DragValue::new(&mut s.run.ema)
                    .range(0.0..=0.9999)
                    .speed(0.0005)
                    .max_decimals(4),
            );
            ui.end_row();
            usize_row(ui, "validation images", &mut s.run.val_count, 0..=1000);
            usize_row(ui, "checkpoint every", &mut s.run.checkpoint_every, 1..=1_000_000);
        });
        ui.horizontal(|ui| {
            ui.label("edge mode");
            egui::ComboBox::from_id_salt("edge_mode")
                .selected_text(format!("{:?}", s.run.model.edge_mode))
                .show_ui(ui, |ui| {
                    for mode in [
                        EdgeMode::None,
                        EdgeMode::Binary,
                        EdgeMode::MultiClass,
                        EdgeMode::Continuous,
                    ] {
                        ui.selectable_value(&mut s.run.model.edge_mode, mode, format!("{mode:?}"));
                    }
                });
        });
        ui.separator();
        ui.heading("Loss weights");
        egui::Grid::new("train_loss").num_columns(2).show(ui, |ui| {
            let l = &mut s.run.model.loss;
            for (label, value) in [
                ("α semantic", &mut l.alpha),
                ("β depth", &mut l.beta),
                ("γ edge", &mut l.gamma),
                ("λ1 photo edges", &mut l.lambda1),
                ("λ2 depth edges", &mut l.lambda2),
                ("λ3 matching", &mut l.lambda3),
                ("λk", &mut l.lambda_k),
                ("λe ordinal L1", &mut l.lambda_e),
                ("λd SILog", &mut l.lambda_d),
            ] {
                ui.label(label);
                ui.add(egui::DragValue::new(value).range(0.0..=100.0).speed(0.01));
                ui.end_row();
            }
            ui.label("dynamic k");
            ui.checkbox(&mut l.dynamic_k, "");
            ui.end_row();
            ui.label("depth term");
            egui::ComboBox::from_id_salt("depth_term")
                .selected_text(depth_term_label(l.depth_term))
                .show_ui(ui, |ui| {
                    for term in [DepthTerm::Aligned, DepthTerm::Silog] {
                        ui.selectable_value(&mut l.depth_term, term, depth_term_label(term));
                    }
                });
            ui.end_row();
        });
        egui::CollapsingHeader::new("Extra terms (seeds 002, 004)").show(ui, |ui| {
            egui::Grid::new("train_loss_extra").num_columns(2).show(ui, |ui| {
                let l = &mut s.run.model.loss;
                for (label, value) in [
                    ("point cloud", &mut l.point_cloud),
                    ("virtual normal", &mut l.virtual_normal),
                    ("depth gradient", &mut l.gradient),
                    ("aligned height + slopes", &mut l.aligned),
                    ("edge-aware depth", &mut l.edge_aware),
                ] {
                    ui.label(label);
                    ui.add(egui::DragValue::new(value).range(0.0..=100.0).speed(0.01));
                    ui.end_row();
                }
            });
        });
        if ui.button("Reset to the defaults").clicked() {
            let data = s.run.data.take();
            s = TrainSettings {
                out: s.out.take(),
                ..TrainSettings::default()
            };
            s.run.data = data;
        }
        ui.separator();
        ui.heading("Output");
        let out = s.out.clone().unwrap_or_else(default_run_dir);
        ui.monospace(out.display().to_string());
        if ui.button("Choose output folder…").clicked() {
            commands.push(Command::ShowDialog(DialogKind::TrainOutput));
        }
    });
    if s != app.settings.train {
        commands.push(Command::SetTrainSettings(Box::new(s)));
    }
}

fn depth_term_label(term: DepthTerm) -> &'static str {
    match term {
        DepthTerm::Aligned => "aligned height + slopes",
        DepthTerm::Silog => "SILog (seed 000)",
    }
}

fn dataset_report_ui(state: &TrainingState, app: &AppView, ui: &mut egui::Ui, dir: &std::path::Path) {
    if app.is_running(JobKind::DatasetCheck) {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("checking…");
        });
        return;
    }
    let Some((checked, report)) = &state.dataset else {
        return;
    };
    if checked != dir {
        return;
    }
    let colour = if report.is_usable() {
        ui.visuals().text_color()
    } else {
        ui.visuals().error_fg_color
    };
    ui.colored_label(
        colour,
        format!(
            "{} pairs · {} with semantics · {} with edges",
            report.pairs, report.with_semantics, report.with_edges
        ),
    );
    if !report.problems.is_empty() {
        egui::CollapsingHeader::new(format!("{} problems", report.problems.len()))
            .id_salt("dataset_problems")
            .show(ui, |ui| {
                egui::ScrollArea::vertical().max_height(160.0).show(ui, |ui| {
                    for p in &report.problems {
                        ui.label(p);
                    }
                });
            });
    }
}

fn run_ui(state: &mut TrainingState, app: &AppView, commands: &mut Vec<Command>, ui: &mut egui::Ui) {
    let t = &*state;
    ui.horizontal(|ui| {
        let idle = !t.is_active();
        if ui.add_enabled(idle, egui::Button::new("Start")).clicked() {
            commands.push(Command::TrainStart);
        }
        let paused = t.phase == TrainPhase::Paused;
        let can_pause = matches!(t.phase, TrainPhase::Running | TrainPhase::Paused | TrainPhase::Starting);
        if ui
            .add_enabled(can_pause, egui::Button::new(if paused { "Continue" } else { "Pause" }))
            .clicked()
        {
            commands.push(Command::TrainPause(!paused));
        }
        if ui
            .add_enabled(
                t.is_active() && t.phase != TrainPhase::Stopping,
                egui::Button::new("Stop"),
            )
            .clicked()
        {
            commands.push(Command::TrainStop);
        }
        let out = app.settings.train.out.clone().unwrap_or_else(default_run_dir);
        let resumable = idle && app.engine.has_checkpoint(&out);
        if ui
            .add_enabled(resumable, egui::Button::new("Resume"))
            .on_hover_text("Continue the last run from its checkpoint")
            .clicked()
        {
            commands.push(Command::TrainResume);
        }
    });
    let t = &*state;
    let status = match &t.phase {
        TrainPhase::Idle => "Not started.".to_string(),
        TrainPhase::Starting => "Starting (preparing data and weights)…".to_string(),
        TrainPhase::Running => "Training.".to_string(),
        TrainPhase::Paused => "Paused.".to_string(),
        TrainPhase::Stopping => "Stopping after this step (saving a checkpoint)…".to_string(),
        TrainPhase::Finished { steps, stopped: true } => format!("Stopped at step {steps}; Resume continues."),
        TrainPhase::Finished { steps, stopped: false } => format!("Finished after {steps} steps."),
        TrainPhase::Failed(e) => format!("Failed: {e}"),
    };
    ui.label(status);
    if let Some(last) = t.history.last() {
        let fraction = last.step as f32 / t.total_steps.max(1) as f32;
        let (speed, eta, epoch) = t.speed.unwrap_or((0.0, 0.0, 0));
        ui.add(egui::ProgressBar::new(fraction).text(format!(
            "step {} / {} · epoch {epoch} · {speed:.1} samples/s · ETA {}",
            last.step,
            t.total_steps,
            logic::format_secs(eta)
        )));
    }
    ui.separator();
    ui.heading("Losses");
    let series =
        |f: fn(&StepPoint) -> f64| -> Vec<[f64; 2]> { t.history.iter().map(|p| [p.step as f64, f(p)]).collect() };
    Plot::new("train_losses")
        .height(200.0)
        .legend(Legend::default())
        .x_axis_label("step")
        .show(ui, |plot| {
            plot.line(Line::new("total", PlotPoints::from(series(|p| p.total))));
            plot.line(Line::new("semantic", PlotPoints::from(series(|p| p.semantic))));
            plot.line(Line::new("depth", PlotPoints::from(series(|p| p.depth))));
            plot.line(Line::new("edge", PlotPoints::from(series(|p| p.edge))));
        });
    ui.columns(2, |columns| {
        Plot::new("train_k")
            .height(120.0)
            .legend(Legend::default())
            .x_axis_label("step")
            .show(&mut columns[0], |plot| {
                plot.line(Line::new("k", PlotPoints::from(series(|p| p.k))));
            });
        Plot::new("train_lr")
            .height(120.0)
            .legend(Legend::default())
            .x_axis_label("step")
            .show(&mut columns[1], |plot| {
                plot.line(Line::new("lr", PlotPoints::from(series(|p| p.lr))));
            });
    });
    ui.separator();
    ui.heading("Validation");
    if t.validations.is_empty() {
        ui.weak("After each epoch.");
    } else {
        egui::Grid::new("validation_table").striped(true).show(ui, |ui| {
            for h in [
                "epoch",
                "step",
                "rmse %",
                "normal °",
                "edge %",
                "d1",
                "δ1",
                "AbsRel",
                "sem. mIoU",
                "edge mIoU",
                "",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for r in &t.validations {
                ui.label(r.epoch.to_string());
                ui.label(r.step.to_string());
                ui.label(format!("{:.2}", r.rmse_pct));
                ui.label(format!("{:.2}", r.normal_deg));
                ui.label(format!("{:.2}", r.edge_pct));
                ui.label(format!("{:.3}", r.d1));
                ui.label(format!("{:.3}", r.delta1));
                ui.label(format!("{:.3}", r.abs_rel));
                ui.label(r.semantic_miou.map_or_else(|| "–".into(), |m| format!("{m:.3}")));
                ui.label(format!("{:.3}", r.edge_miou));
                ui.label(if r.best { "best" } else { "" });
                ui.end_row();
            }
        });
        if let Some(report) = &t.last_report {
            egui::CollapsingHeader::new("Last report (seed 000 tables)").show(ui, |ui| {
                ui.monospace(report);
            });
        }
    }
    ui.separator();
    preview_ui(state, app, commands, ui);
}

fn preview_ui(state: &mut TrainingState, app: &AppView, commands: &mut Vec<Command>, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.heading("Preview");
        if app.is_running(JobKind::TrainPreview) {
            ui.spinner();
        }
        let has_best = state.best_dir.is_some();
        if ui.add_enabled(has_best, egui::Button::new("Refresh")).clicked() {
            commands.push(Command::TrainPreview);
        }
        if ui.add_enabled(has_best, egui::Button::new("Save weights…")).clicked() {
            commands.push(Command::ShowDialog(DialogKind::SaveTrainedWeights));
        }
        if ui
            .add_enabled(has_best && !state.is_active(), egui::Button::new("Use in main view"))
            .on_hover_text("Switch the layers view to these weights")
            .clicked()
        {
            commands.push(Command::UseTrainedWeights);
        }
    });
    let t = state;
    let Some(preview) = &t.preview else {
        ui.weak("The best weights predict a held-back panel here after each validation.");
        return;
    };
    if t.preview_textures.is_empty() {
        t.previews_made += 1;
        t.preview_textures = preview
            .images
            .iter()
            .enumerate()
            .map(|(i, (_, rgb))| {
                ui.ctx().load_texture(
                    format!("train_preview_{}_{i}", t.previews_made),
                    egui::ColorImage::from_rgb(preview.size, rgb),
                    egui::TextureOptions::NEAREST,
                )
            })
            .collect();
    }
    ui.weak(format!("On {}", preview.source));
    let side = 150.0;
    let aspect = preview.size[1] as f32 / preview.size[0].max(1) as f32;
    ui.horizontal_wrapped(|ui| {
        for ((label, _), texture) in preview.images.iter().zip(&t.preview_textures) {
            ui.vertical(|ui| {
                ui.add(egui::Image::new((texture.id(), egui::vec2(side, side * aspect))));
                ui.small(*label);
            });
        }
    });
}

/// Where training runs go unless the user picks a folder: `<data dir>/relievo/runs/latest`.
pub fn default_run_dir() -> PathBuf {
    eframe::storage_dir("relievo")
        .map(|d| d.join("runs").join("latest"))
        .unwrap_or_else(|| std::env::temp_dir().join("relievo-runs").join("latest"))
}
