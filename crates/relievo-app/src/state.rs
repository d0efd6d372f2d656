//! The app's runtime state below the app struct: the document and what was computed from
//! it, the network's state, messages, and [`AppView`], what a panel reads of the rest of
//! the app in a frame. Imports nothing from the panels or the app struct.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::commands::PickSide;
use super::jobs::JobKind;
use super::settings::Settings;
use crate::compare::{Comparison, PointPair};
use crate::edit::EditLayer;
use crate::engine::{Engine, LoadedWeights};
use crate::grid::Grid;
use crate::layers::Layers;
use crate::mesh::Mesh;
use crate::photo::Photo;
use crate::relief::ReliefParams;
use crate::selection::Selection;

/// The network as far as the app knows it.
pub enum WeightsState {
    Loading,
    Ready {
        weights: Arc<dyn LoadedWeights>,
        dir: PathBuf,
    },
    Missing {
        dir: PathBuf,
        reason: String,
    },
}

/// The file being worked on and what has been computed from it.
pub struct Document {
    /// Increases with every opened file; results of jobs started for an older one are dropped.
    pub id: u64,
    pub path: PathBuf,
    pub photo: Option<Arc<Photo>>,
    /// The network's layers (photos only).
    pub layers: Option<Arc<Layers>>,
    /// The depth the relief is made from: the layers' depth or the opened depth map.
    pub depth: Option<Arc<Grid<f32>>>,
    /// (min, max) of `depth`.
    pub depth_range: (f32, f32),
    /// Why there are no layers, when the network will not bring them by itself.
    pub no_layers: Option<NoLayers>,
    /// Hand edits over `depth` (created by the first brush dab).
    pub edits: Option<EditLayer>,
    /// The region the selection operations change (depth pixels).
    pub selection: Option<Selection>,
    /// Changes whenever `selection` does (for the overlay's texture).
    pub selection_version: u64,
    /// The last comparison with a present-day scan.
    pub comparison: Option<ScanComparison>,
    /// Point pairs picked to place the scan by hand.
    pub picked: PickedPairs,
    /// The unedited relief in mm per depth pixel, for the brushes, and the parameters it
    /// was made with.
    pub(crate) relief_heights: Option<(ReliefParams, Arc<Grid<f32>>)>,
    /// The edit layer's version when it was last saved in (or opened from) a project.
    pub saved_edits_version: u64,
}

impl Document {
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "untitled".into())
    }

    /// The unedited relief in mm per depth pixel for `params`, made again only when a
    /// parameter that changes it did; `None` without a depth.
    pub(crate) fn relief_heights_for(
        &mut self,
        params: &ReliefParams,
    ) -> Option<Result<Arc<Grid<f32>>, crate::relief::ReliefError>> {
        let depth = self.depth.clone()?;
        let same = |p: &ReliefParams| {
            (p.relief_mm, p.base_mm, p.smoothing_px, p.invert)
                == (params.relief_mm, params.base_mm, params.smoothing_px, params.invert)
        };
        if let Some((p, heights)) = &self.relief_heights
            && same(p)
        {
            return Some(Ok(heights.clone()));
        }
        Some(crate::relief::heights_mm(&depth, params).map(|z| {
            let z = Arc::new(z);
            self.relief_heights = Some((params.clone(), z.clone()));
            z
        }))
    }

    /// Hand edits (or marks) that no project holds: changed since the last save or
    /// open, and not all cleared.
    pub fn has_unsaved_edits(&self) -> bool {
        self.edits
            .as_ref()
            .is_some_and(|e| e.version() != self.saved_edits_version && !e.is_empty())
    }

    /// Pixel size of what is shown.
    pub fn size_px(&self) -> Option<[usize; 2]> {
        self.photo
            .as_ref()
            .map(|p| [p.width(), p.height()])
            .or_else(|| self.depth.as_ref().map(|d| [d.width, d.height]))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

#[derive(Clone, Debug)]
pub struct Message {
    pub severity: Severity,
    pub text: String,
    pub at: Instant,
}

/// Why a document has no layers.
#[derive(Clone, Debug, PartialEq)]
pub enum NoLayers {
    /// A depth map was opened: there is no photo to run the network on.
    DepthMap,
    /// The project was saved without layers.
    NotInProject,
    /// No network weights (the reason they could not be loaded).
    NoWeights(String),
    /// The user cancelled the inference.
    Cancelled,
    /// The inference failed (its message).
    Failed(String),
}

impl NoLayers {
    /// For "No soft edges: …" and "No depth yet (…)".
    pub fn describe(&self) -> String {
        match self {
            NoLayers::DepthMap => "a depth map has no photo layers".into(),
            NoLayers::NotInProject => "the project holds no photo layers".into(),
            NoLayers::NoWeights(reason) => format!("no network weights ({reason})"),
            NoLayers::Cancelled => "inference cancelled (Model › Run the network again)".into(),
            NoLayers::Failed(e) => format!("the network failed: {e}"),
        }
    }
}

/// The reconstruction compared with a present-day scan of the panel.
pub struct ScanComparison {
    pub scan: PathBuf,
    pub result: Comparison,
    /// Increases with every comparison (the inspector's texture follows it).
    pub serial: u64,
}

/// Point pairs picked by hand to place the scan: each a point on the relief and the same
/// point on the scan, in each one's pixels (centres at integers).
#[derive(Clone, Debug, Default)]
pub struct PickedPairs {
    /// Picking mode: clicks in the layers view place points.
    pub active: bool,
    /// The scan last read for a comparison, aligned or not: what the pairs place.
    pub scan: Option<ReadScan>,
    /// (relief point, scan point) per pair; only the last may lack one.
    pub pairs: Vec<[Option<[f32; 2]>; 2]>,
}

/// A scan read as heights.
#[derive(Clone, Debug)]
pub struct ReadScan {
    pub path: PathBuf,
    pub heights: Arc<Grid<f32>>,
    /// Increases with every scan read (the inspector's texture follows it).
    pub serial: u64,
}

impl PickedPairs {
    /// Places a point on `side`: into the last pair if it still lacks it (or moves it
    /// there, if the pair waits for the other side), else starts a new pair.
    pub fn pick(&mut self, side: PickSide, px: [f32; 2]) {
        let k = match side {
            PickSide::Relief => 0,
            PickSide::Scan => 1,
        };
        match self.pairs.last_mut() {
            Some(last) if last.iter().any(Option::is_none) => last[k] = Some(px),
            _ => {
                let mut pair = [None; 2];
                pair[k] = Some(px);
                self.pairs.push(pair);
            }
        }
    }

    /// The pairs with both points.
    pub fn complete(&self) -> Vec<PointPair> {
        self.pairs
            .iter()
            .filter_map(|[r, s]| {
                Some(PointPair {
                    recon_px: (*r)?,
                    scan_px: (*s)?,
                })
            })
            .collect()
    }
}

/// What a mesh is made from: the document, the relief parameters and the edits' version.
#[derive(Clone, Debug, PartialEq)]
pub struct MeshKey {
    pub doc_id: u64,
    pub params: ReliefParams,
    pub edits_version: u64,
}

/// What the exact-mesh job computed, and from what.
#[derive(Clone)]
pub struct MeshResult {
    pub key: MeshKey,
    pub mesh: Arc<Mesh>,
    pub secs: f64,
}

/// What the 3D preview's heights were made from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PreviewKey {
    pub(crate) doc_id: u64,
    pub(crate) smoothing_bits: u32,
    pub(crate) edits_version: u64,
    /// Edits are stored in mm and the preview in 0..1 of the relief: with edits, the
    /// relief height and inversion shape the heights too.
    pub(crate) relief_bits: u32,
    pub(crate) invert: bool,
}

/// Durations of the last runs of each step, for the status bar.
#[derive(Clone, Debug, Default)]
pub struct Timings {
    pub inference_secs: Option<f64>,
    pub mesh_secs: Option<f64>,
    pub preview_secs: Option<f64>,
    pub export_secs: Option<f64>,
}

/// What a panel reads of the rest of the app during a frame. Panels change the app only
/// through the commands they return (and their own state and settings, which they own).
pub struct AppView<'a> {
    pub doc: Option<&'a Document>,
    pub settings: &'a Settings,
    pub weights: &'a WeightsState,
    /// The network (the training panel asks it whether a run can resume).
    pub engine: &'a dyn Engine,
    /// The kinds of the background jobs running now.
    pub running: Vec<JobKind>,
}

impl AppView<'_> {
    pub fn is_running(&self, kind: JobKind) -> bool {
        self.running.contains(&kind)
    }

    /// Layers of the current document, when the network has produced them.
    pub fn layers(&self) -> Option<&Arc<Layers>> {
        self.doc.and_then(|d| d.layers.as_ref())
    }
}
