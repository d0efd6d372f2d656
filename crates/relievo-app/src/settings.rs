//! The persisted preferences ([`Settings`], eframe storage) and the parts commands carry
//! (the tab, the 3D view's settings, the inspector's, the training form): plain data that
//! imports nothing else from the app but the renderer's shading choice, so that `commands`,
//! `state` and the panels can name them without a cycle.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::render::Shading;
use crate::edit::Brush;
use crate::engine::TrainConfig;
use crate::relief::ReliefParams;
use crate::selection::Profile;

/// The central area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tab {
    Layers,
    Relief3d,
    #[default]
    Split,
    Training,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Layers, Tab::Relief3d, Tab::Split, Tab::Training];

    pub fn label(self) -> &'static str {
        match self {
            Tab::Layers => "Layers",
            Tab::Relief3d => "3D relief",
            Tab::Split => "Layers + 3D",
            Tab::Training => "Training",
        }
    }
}

/// The 3D view's preferences.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewSettings {
    /// Light direction: counter-clockwise from +x (the relief's right edge), degrees.
    pub light_azimuth_deg: f32,
    /// Light height above the relief's plane, degrees (low = raking).
    pub light_elevation_deg: f32,
    /// Share of ambient light, 0..1.
    pub ambient: f32,
    pub shading: Shading,
    pub curvature_gain: f32,
    pub show_axes: bool,
    pub show_scale: bool,
    /// Colour the relief's top by the difference to a scan, when there is a comparison.
    pub colour_by_difference: bool,
}

impl Default for ViewSettings {
    fn default() -> Self {
        Self {
            light_azimuth_deg: 135.0,
            light_elevation_deg: 25.0,
            ambient: 0.25,
            shading: Shading::Stone,
            curvature_gain: 60.0,
            show_axes: true,
            show_scale: true,
            colour_by_difference: false,
        }
    }
}

/// The training form (persisted): the library's run configuration itself, whose defaults
/// are the recipe of the shipped model, with the learning rate for fine-tuning
/// ([`crate::engine::FINE_TUNE_MAX_LR`]) since the form starts from the shipped weights.
/// Where the run starts and where it writes are the form's own choices (`from_shipped`,
/// `out`), filled into the configuration when a run starts ([`Self::to_config`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainSettings {
    pub run: TrainConfig,
    /// Fine-tune the weights in use instead of starting from random ones.
    pub from_shipped: bool,
    /// Where the run writes checkpoints and its best weights; `None` = the app's data folder.
    pub out: Option<PathBuf>,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self {
            run: TrainConfig {
                lr: crate::engine::FINE_TUNE_MAX_LR,
                ..TrainConfig::default()
            },
            from_shipped: true,
            out: None,
        }
    }
}

impl TrainSettings {
    /// The library's configuration for a run starting from `init` and writing into `out`.
    /// The form sets only the network's edge mode and loss; its shape is this version's
    /// default (a fine-tuning run takes it from the weights), never one persisted by an older
    /// version.
    pub fn to_config(&self, init: Option<PathBuf>, out: PathBuf) -> TrainConfig {
        TrainConfig {
            init,
            out,
            model: crate::engine::MultiTaskConfig {
                edge_mode: self.run.model.edge_mode,
                loss: self.run.model.loss.clone(),
                ..crate::engine::MultiTaskConfig::new()
            },
            ..self.run.clone()
        }
    }
}

/// Hand editing of the relief in the layers view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EditSettings {
    /// Dragging on the layers paints with `brush` (otherwise it pans).
    pub active: bool,
    pub brush: Brush,
    /// A repair follows the network's relief inside the hole (else it continues the
    /// surroundings smoothly).
    pub repair_guided: bool,
    /// Draw the damage marks and the restored pixels over the layers.
    pub show_restoration: bool,
    pub restoration_opacity: f32,
    pub select: SelectionSettings,
}

/// What a click or drag on the layers selects (instead of painting).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SelectTool {
    /// The brush paints.
    Off,
    /// Drag around a region.
    Lasso,
    /// Click: the connected region of the semantic class under the cursor.
    MagicSemantic,
    /// Click: the connected region of the soft-edge class under the cursor.
    MagicEdges,
}

impl SelectTool {
    pub const ALL: [SelectTool; 4] = [
        SelectTool::Off,
        SelectTool::Lasso,
        SelectTool::MagicSemantic,
        SelectTool::MagicEdges,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SelectTool::Off => "brush",
            SelectTool::Lasso => "lasso",
            SelectTool::MagicSemantic => "magic: class",
            SelectTool::MagicEdges => "magic: edge class",
        }
    }
}

/// The selection tool and the parameters of the operations on a selection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SelectionSettings {
    pub tool: SelectTool,
    /// Grow, shrink and feather by this many px.
    pub reshape_px: f32,
    pub offset_mm: f32,
    pub scale: f32,
    pub smooth_px: f32,
    pub inflate_mm: f32,
    pub inflate_width_px: f32,
    pub profile: Profile,
}

impl Default for SelectionSettings {
    fn default() -> Self {
        Self {
            tool: SelectTool::Off,
            reshape_px: 3.0,
            offset_mm: 0.2,
            scale: 1.5,
            smooth_px: 6.0,
            inflate_mm: 1.0,
            inflate_width_px: 12.0,
            profile: Profile::Round,
        }
    }
}

impl Default for EditSettings {
    fn default() -> Self {
        Self {
            active: false,
            brush: Brush::default(),
            repair_guided: false,
            show_restoration: true,
            restoration_opacity: 0.5,
            select: SelectionSettings::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum InspectorLayout {
    /// All four layers side by side, zoomed and panned together.
    #[default]
    Grid,
    /// One layer, optionally over the photo.
    Single,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LayerKind {
    #[default]
    Photo,
    Depth,
    Edges,
    Semantics,
}

impl LayerKind {
    pub const ALL: [LayerKind; 4] = [
        LayerKind::Photo,
        LayerKind::Depth,
        LayerKind::Edges,
        LayerKind::Semantics,
    ];

    pub fn label(self) -> &'static str {
        match self {
            LayerKind::Photo => "Photo",
            LayerKind::Depth => "Depth",
            LayerKind::Edges => "Soft edges",
            LayerKind::Semantics => "Semantics",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DepthColours {
    Grey,
    /// Perceptual (viridis).
    #[default]
    Viridis,
}

/// A file in the Open recent menu.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecentFile {
    pub path: PathBuf,
    pub depth_map: bool,
}

impl Default for RecentFile {
    fn default() -> Self {
        Self {
            path: PathBuf::new(),
            depth_map: false,
        }
    }
}

/// The inspector's preferences.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InspectorSettings {
    pub layout: InspectorLayout,
    /// The layer shown in the single-layer layout.
    pub layer: LayerKind,
    /// Draw `overlay_layer` over the photo in the single-layer layout.
    pub overlay: bool,
    pub overlay_layer: LayerKind,
    pub overlay_opacity: f32,
    pub depth_colours: DepthColours,
    /// Opacity of the difference to a scan drawn over the layers (0 hides it).
    pub difference_opacity: f32,
    /// Point pairs placing a scan are refined by the heights.
    pub refine_points: bool,
}

impl Default for InspectorSettings {
    fn default() -> Self {
        Self {
            layout: InspectorLayout::Grid,
            layer: LayerKind::Photo,
            overlay: false,
            overlay_layer: LayerKind::Semantics,
            overlay_opacity: 0.5,
            depth_colours: DepthColours::Viridis,
            difference_opacity: 0.8,
            refine_points: true,
        }
    }
}

/// Everything that persists between runs (eframe storage, key `eframe::APP_KEY`); panel sizes
/// persist through egui's own memory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Folder of the last file opened or written, where dialogs start.
    pub last_folder: Option<PathBuf>,
    pub recent: Vec<RecentFile>,
    pub relief: ReliefParams,
    pub view: ViewSettings,
    pub inspector: InspectorSettings,
    pub tab: Tab,
    pub show_relief_panel: bool,
    pub show_frame_overlay: bool,
    /// Weights the user switched to (e.g. fine-tuned); `None` = the shipped ones.
    pub weights_dir: Option<PathBuf>,
    pub train: TrainSettings,
    pub edit: EditSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            last_folder: None,
            recent: Vec::new(),
            relief: ReliefParams::default(),
            view: ViewSettings::default(),
            inspector: InspectorSettings::default(),
            tab: Tab::default(),
            show_relief_panel: true,
            show_frame_overlay: false,
            weights_dir: None,
            train: TrainSettings::default(),
            edit: EditSettings::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_takes_the_forms_edge_mode_and_loss_but_never_a_persisted_network_shape() {
        let mut form = TrainSettings::default();
        form.run.model.encoder_channels = [4, 4, 4, 4, 4]; // as an older version might have saved
        form.run.model.edge_mode = crate::engine::EdgeMode::Binary;
        form.run.model.loss.gamma = 1.0;
        form.run.epochs = 3;
        let run = form.to_config(None, PathBuf::from("out"));
        assert_eq!(
            run.model.encoder_channels,
            crate::engine::MultiTaskConfig::new().encoder_channels
        );
        assert_eq!(run.model.edge_mode, crate::engine::EdgeMode::Binary);
        assert_eq!(run.model.loss.gamma, 1.0);
        assert_eq!((run.epochs, run.out, run.init), (3, PathBuf::from("out"), None));
        assert_eq!(run.lr, crate::engine::FINE_TUNE_MAX_LR);
    }
}
