//! What the user (or a test) can ask the app to do. Widgets, menus, shortcuts, dropped
//! files and finished file dialogs only queue a [`Command`]; `command_handling` applies
//! them in one place. This module names only plain data (settings, job kinds, relief
//! parameters), so every widget module can send commands without importing the code
//! that applies them.

use std::path::PathBuf;

use super::jobs::JobKind;
use super::settings::{EditSettings, Tab, TrainSettings, ViewSettings};
use crate::relief::ReliefParams;
use crate::selection::SelectionOp;

/// A native file dialog the app can show (on a worker thread, so the UI keeps drawing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogKind {
    OpenPhoto,
    OpenDepth,
    ExportStl,
    /// OBJ textured with the photo, or PLY with its colours.
    ExportTextured,
    ExportLayers,
    ExportDepth,
    OpenProject,
    SaveProject,
    CompareScan,
    ExportDifference,
    WeightsFolder,
    DatasetFolder,
    TrainOutput,
    SaveTrainedWeights,
}

/// Which image a point of a point pair is picked on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickSide {
    /// The reconstruction (the layers' pixels).
    Relief,
    /// The scan (its own pixels).
    Scan,
}

/// The answer to "unsaved hand edits": save the project first, discard them, or stay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnsavedChoice {
    Save,
    Discard,
    Cancel,
}

/// A change of the selection's outline, in px.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reshape {
    Grow(f32),
    Shrink(f32),
    Feather(f32),
}

/// Everything the user (or a test) can ask the app to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Open a file: a project by its extension, a depth map if its name says so
    /// (`…depth…`, `…height…`), else a photo.
    OpenPath(PathBuf),
    OpenPhoto(PathBuf),
    OpenDepth(PathBuf),
    /// A `.relievo` project: depth, layers, edits, relief and view as they were saved.
    OpenProject(PathBuf),
    SaveProject(PathBuf),
    ShowDialog(DialogKind),
    ClearRecent,
    /// STL, OBJ or PLY, by the path's extension.
    ExportMesh(PathBuf),
    ExportLayers(PathBuf),
    ExportDepthPng(PathBuf),
    /// The last comparison's difference as a 16-bit PNG and its JSON summary (as
    /// `relievo compare` writes them).
    ExportDifference(PathBuf),
    SetRelief(ReliefParams),
    ApplyPreset(usize),
    /// Light direction in the 3D view (degrees).
    SetLight {
        azimuth_deg: f32,
        elevation_deg: f32,
    },
    /// Estimate the photo's light from the photo and the depth and use it in the 3D view.
    MatchPhotoLight,
    FitView,
    SetView(Box<ViewSettings>),
    ToggleFrameOverlay,
    ToggleReliefPanel,
    /// Run the network on the open photo again.
    RunNetwork,
    LoadWeights(PathBuf),
    /// Go back to the shipped weights.
    UseShippedWeights,
    CancelJob(JobKind),
    SetTab(Tab),
    SetDatasetFolder(Option<PathBuf>),
    SetTrainOutput(PathBuf),
    SetTrainSettings(Box<TrainSettings>),
    TrainStart,
    TrainPause(bool),
    TrainStop,
    TrainResume,
    /// Predict the held-back image with the run's best weights so far.
    TrainPreview,
    /// Copy the run's best weights into a folder.
    SaveTrainedWeights(PathBuf),
    /// Switch the main view to the run's best weights.
    UseTrainedWeights,
    /// Select the depth pixels inside this lasso (pixel coordinates, corners at integers).
    SelectPolygon(Vec<[f32; 2]>),
    /// Select the connected region of the class under this depth pixel (semantic or
    /// soft-edge classes, as the selection tool says).
    SelectMagic([usize; 2]),
    ReshapeSelection(Reshape),
    /// Change the relief inside the selection (one undo step).
    ApplyToSelection(SelectionOp),
    Deselect,
    /// The answer to the unsaved-edits prompt shown before an open or a close.
    ResolveUnsaved(UnsavedChoice),
    /// Brush on or off, and its tool and size.
    SetEdit(EditSettings),
    /// One dab of the brush at a depth-map pixel (x right, y down); dabs until
    /// `EndStroke` are one undo step.
    EditDab([f32; 2]),
    EndStroke,
    Undo,
    Redo,
    /// Remove every edit (undoable).
    ClearEdits,
    /// Fill the pixels marked as damaged from the relief around them.
    RepairDamage,
    /// Align a present-day scan (depth map, or an STL/OBJ/PLY mesh seen from above) to the relief and show
    /// the signed difference.
    CompareScan(PathBuf),
    ClearComparison,
    /// Point-pair picking on or off: clicks in the layers view place points on the
    /// relief and on the scan, side by side.
    SetPointPicking(bool),
    /// A point of the pair being picked, in that image's pixels (x right, y down,
    /// centres at integers): completes the last pair, or starts a new one.
    PickPoint {
        side: PickSide,
        px: [f32; 2],
    },
    /// Forget the picked pairs.
    ResetPoints,
    /// Place the scan by the picked pairs (at least 3), refined by the heights or not,
    /// and measure the difference again.
    ApplyPoints {
        refine: bool,
    },
}
