//! What background jobs hand back to the app ([`JobOutput`]), below the app struct that
//! holds the running jobs and the dispatcher that starts and collects them.

use std::path::PathBuf;
use std::sync::Arc;

use super::commands::DialogKind;
use super::inspector::DisplayImages;
use super::logic::LightFit;
use super::render::PreviewData;
use super::state::{MeshKey, PreviewKey};
use crate::compare::Comparison;
use crate::engine::{DatasetReport, EngineDevice, LoadedWeights, PreviewImages};
use crate::grid::Grid;
use crate::layers::Layers;
use crate::mesh::Mesh;
use crate::photo::Photo;
use crate::project::Project;

/// What a background job hands back.
pub enum JobOutput {
    Weights {
        device: Arc<dyn EngineDevice>,
        dir: PathBuf,
        weights: Result<Arc<dyn LoadedWeights>, String>,
    },
    Opened {
        path: PathBuf,
        content: Result<(Opened, DisplayImages), String>,
    },
    Layers {
        doc_id: u64,
        layers: Box<Layers>,
        display: DisplayImages,
    },
    Preview {
        key: PreviewKey,
        data: Box<PreviewData>,
        /// The heights without edits, kept for the next dab's preview.
        unedited: Arc<Grid<f32>>,
        /// Time the work took (the job's own time, without waiting to be collected).
        secs: f64,
    },
    Mesh {
        key: MeshKey,
        result: Result<Arc<Mesh>, String>,
    },
    Exported {
        what: &'static str,
        path: PathBuf,
        result: Result<String, String>,
    },
    Light {
        mirror: bool,
        fit: Option<LightFit>,
    },
    Dataset {
        dir: PathBuf,
        report: DatasetReport,
    },
    TrainPreview(Result<PreviewImages, String>),
    SavedWeights {
        dir: PathBuf,
        result: Result<(), String>,
    },
    Picked {
        kind: DialogKind,
        path: Option<PathBuf>,
        quick: bool,
    },
    /// The training run returned (its events arrive separately).
    TrainingEnded(Result<(), String>),
    /// The job saw its cancel flag and stopped early (its result is dropped anyway).
    Cancelled,
    /// The depth layer's images with the edits at `version`.
    DepthView {
        doc_id: u64,
        version: u64,
        display: DisplayImages,
    },
    Compared {
        doc_id: u64,
        scan: PathBuf,
        /// The scan as heights (read for this comparison, or the one placed by hand).
        scan_heights: Option<Arc<Grid<f32>>>,
        result: Result<Comparison, String>,
    },
    /// A damage repair: the filled heights for `mask`, made from the edits at `version`.
    Repaired {
        doc_id: u64,
        version: u64,
        mask: Grid<bool>,
        relief: Arc<Grid<f32>>,
        filled: Result<Grid<f32>, String>,
    },
}

pub enum Opened {
    Photo(Photo),
    Depth(Grid<f32>),
    Project(Box<OpenedProject>),
}

/// A project as read, with its photo if the file is still where it was and unchanged.
pub struct OpenedProject {
    pub(crate) project: Project,
    pub(crate) photo: Option<Photo>,
    /// Why the photo is missing, when the project names one.
    pub(crate) photo_note: Option<String>,
}
