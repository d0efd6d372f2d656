//! Named background jobs. Every long piece of work (loading, inference, meshing, exports,
//! training, file dialogs) runs on its own thread under a [`JobKind`]; a second job of a kind
//! that is already running is refused with a message ("another mesh export is already in
//! progress"). A job reports progress and reads a cancel flag through its [`JobHandle`]; its
//! result comes back through a channel that the UI polls once per frame, and the worker wakes
//! the UI when it is done. Cancelling detaches a job: its result, when it comes, is dropped, so a
//! new job of that kind may start at once. A panic in a job becomes an error message.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::cancel::Cancel;

/// What a job does; at most one job of each kind runs at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobKind {
    LoadWeights,
    OpenFile,
    Inference,
    Preview,
    Mesh,
    ExportMesh,
    ExportLayers,
    ExportDepth,
    ExportDifference,
    LightEstimate,
    DatasetCheck,
    Training,
    TrainPreview,
    SaveWeights,
    FileDialog,
    Repair,
    SaveProject,
    Compare,
    DepthView,
}

impl JobKind {
    /// Lower-case noun phrase for messages ("another {name} is already in progress").
    pub fn name(self) -> &'static str {
        match self {
            JobKind::LoadWeights => "weights loading",
            JobKind::OpenFile => "file opening",
            JobKind::Inference => "inference",
            JobKind::Preview => "preview update",
            JobKind::Mesh => "meshing",
            JobKind::ExportMesh => "mesh export",
            JobKind::ExportLayers => "layers export",
            JobKind::ExportDepth => "depth PNG export",
            JobKind::ExportDifference => "difference export",
            JobKind::LightEstimate => "light estimation",
            JobKind::DatasetCheck => "dataset check",
            JobKind::Training => "training run",
            JobKind::TrainPreview => "training preview",
            JobKind::SaveWeights => "weights saving",
            JobKind::FileDialog => "file dialog",
            JobKind::Repair => "damage repair",
            JobKind::SaveProject => "project saving",
            JobKind::Compare => "scan comparison",
            JobKind::DepthView => "depth view update",
        }
    }

    /// Whether the UI offers a Cancel button for it (quick jobs do not need one).
    pub fn cancellable(self) -> bool {
        !matches!(
            self,
            JobKind::Preview | JobKind::FileDialog | JobKind::LightEstimate | JobKind::DepthView
        )
    }
}

/// The worker's side of a job: progress, a status line, and the cancel flag.
#[derive(Clone, Debug)]
pub struct JobHandle {
    /// Progress in 0..1 as `f32` bits; NaN while unknown.
    progress: Arc<AtomicU32>,
    cancel: Cancel,
    status: Arc<Mutex<String>>,
}

impl Default for JobHandle {
    fn default() -> Self {
        Self {
            progress: Arc::new(AtomicU32::new(f32::NAN.to_bits())),
            cancel: Cancel::default(),
            status: Arc::new(Mutex::new(String::new())),
        }
    }
}

impl JobHandle {
    pub fn set_progress(&self, fraction: f32) {
        self.progress
            .store(fraction.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
    }

    /// Progress in 0..1, `None` while unknown.
    pub fn progress(&self) -> Option<f32> {
        let p = f32::from_bits(self.progress.load(Ordering::Relaxed));
        (!p.is_nan()).then_some(p)
    }

    pub fn set_status(&self, status: impl Into<String>) {
        if let Ok(mut s) = self.status.lock() {
            *s = status.into();
        }
    }

    pub fn status(&self) -> String {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// The flag to hand to library work that can stop early (inference, meshing).
    pub fn cancel_flag(&self) -> &Cancel {
        &self.cancel
    }

    fn cancel(&self) {
        self.cancel.cancel();
    }
}

/// A running job as the UI sees it.
pub struct RunningJob<T> {
    pub kind: JobKind,
    /// What it works on, e.g. the file name.
    pub label: String,
    pub started: Instant,
    pub handle: JobHandle,
    result: Receiver<Result<T, String>>,
}

/// A finished job's outcome: its value, or the message of its panic.
pub struct Finished<T> {
    pub kind: JobKind,
    pub label: String,
    pub elapsed_secs: f64,
    pub result: Result<T, String>,
}

/// The set of running jobs; `T` is what jobs return.
pub struct Jobs<T> {
    running: Vec<RunningJob<T>>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl<T: Send + 'static> Jobs<T> {
    /// `wake` is called from the worker thread when a job finishes (e.g. to request a repaint).
    pub fn new(wake: Arc<dyn Fn() + Send + Sync>) -> Self {
        Self {
            running: Vec::new(),
            wake,
        }
    }

    /// Replaces what finished jobs call (for jobs started from now on).
    pub fn set_wake(&mut self, wake: Arc<dyn Fn() + Send + Sync>) {
        self.wake = wake;
    }

    /// Starts `work` on a new thread, unless a job of `kind` is running.
    pub fn spawn(
        &mut self,
        kind: JobKind,
        label: impl Into<String>,
        work: impl FnOnce(&JobHandle) -> T + Send + 'static,
    ) -> Result<(), String> {
        if self.is_running(kind) {
            return Err(format!("another {} is already in progress", kind.name()));
        }
        let handle = JobHandle::default();
        let (tx, rx) = channel();
        let worker_handle = handle.clone();
        let wake = self.wake.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("relievo {}", kind.name()))
            .spawn(move || {
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&worker_handle)));
                let result = outcome.map_err(|panic| {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "unknown error".into());
                    format!("{} failed unexpectedly: {message}", kind.name())
                });
                let _ = tx.send(result);
                wake();
            });
        spawned.map_err(|e| format!("cannot start the {}: {e}", kind.name()))?;
        self.running.push(RunningJob {
            kind,
            label: label.into(),
            started: Instant::now(),
            handle,
            result: rx,
        });
        Ok(())
    }

    pub fn is_running(&self, kind: JobKind) -> bool {
        self.running.iter().any(|j| j.kind == kind)
    }

    pub fn any_running(&self) -> bool {
        !self.running.is_empty()
    }

    pub fn running(&self) -> &[RunningJob<T>] {
        &self.running
    }

    pub fn get(&self, kind: JobKind) -> Option<&RunningJob<T>> {
        self.running.iter().find(|j| j.kind == kind)
    }

    /// Sets the job's cancel flag and forgets it: whatever it returns later is dropped.
    pub fn cancel(&mut self, kind: JobKind) -> bool {
        let before = self.running.len();
        self.running.retain(|j| {
            if j.kind == kind {
                j.handle.cancel();
                false
            } else {
                true
            }
        });
        self.running.len() != before
    }

    /// The jobs that finished since the last call.
    pub fn poll(&mut self) -> Vec<Finished<T>> {
        let mut finished = Vec::new();
        self.running.retain(|job| match job.result.try_recv() {
            Ok(result) => {
                finished.push(Finished {
                    kind: job.kind,
                    label: job.label.clone(),
                    elapsed_secs: job.started.elapsed().as_secs_f64(),
                    result,
                });
                false
            }
            Err(TryRecvError::Empty) => true,
            Err(TryRecvError::Disconnected) => {
                finished.push(Finished {
                    kind: job.kind,
                    label: job.label.clone(),
                    elapsed_secs: job.started.elapsed().as_secs_f64(),
                    result: Err(format!("{} ended without a result", job.kind.name())),
                });
                false
            }
        });
        finished
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    fn wait_for<T: Send + 'static>(jobs: &mut Jobs<T>) -> Vec<Finished<T>> {
        for _ in 0..500 {
            let done = jobs.poll();
            if !done.is_empty() {
                return done;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        panic!("job did not finish");
    }

    #[test]
    fn duplicate_is_refused_and_results_arrive() {
        let mut jobs: Jobs<u32> = Jobs::new(Arc::new(|| {}));
        let gate = Arc::new(AtomicBool::new(false));
        let g = gate.clone();
        jobs.spawn(JobKind::ExportMesh, "a.stl", move |h| {
            h.set_progress(0.5);
            while !g.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1));
            }
            7
        })
        .unwrap();
        let refused = jobs.spawn(JobKind::ExportMesh, "b.stl", |_| 8).unwrap_err();
        assert_eq!(refused, "another mesh export is already in progress");
        gate.store(true, Ordering::Relaxed);
        let done = wait_for(&mut jobs);
        assert_eq!(
            (done[0].kind, done[0].result.as_ref().ok()),
            (JobKind::ExportMesh, Some(&7))
        );
        assert!(!jobs.any_running());
    }

    #[test]
    fn panics_become_errors_and_cancel_detaches() {
        let mut jobs: Jobs<u32> = Jobs::new(Arc::new(|| {}));
        jobs.spawn(JobKind::Mesh, "", |_| panic!("boom")).unwrap();
        let done = wait_for(&mut jobs);
        assert!(done[0].result.as_ref().unwrap_err().contains("boom"));
        jobs.spawn(JobKind::Mesh, "", |h| {
            while !h.is_cancelled() {
                std::thread::sleep(Duration::from_millis(1));
            }
            1
        })
        .unwrap();
        assert!(jobs.cancel(JobKind::Mesh));
        assert!(
            jobs.spawn(JobKind::Mesh, "", |_| 2).is_ok(),
            "a cancelled job no longer blocks its kind"
        );
        assert_eq!(*wait_for(&mut jobs)[0].result.as_ref().unwrap(), 2);
    }
}
