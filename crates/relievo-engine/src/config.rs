//! `MultiTaskConfig`: every switch of the network and its loss in one plain serde struct,
//! saved as `config.json` beside the weights (the same JSON burn's `Config` derive wrote:
//! every field, in declaration order). Defaults are seed 000's best setting
//! (Exp 3: multi-class soft edges, dynamic k) with its loss weights, except where
//! measurements on this project said otherwise: the depth term (height, not SILog on
//! depth) and the shape of the network (wide layers at half resolution, which burn's
//! CPU backend runs ten times faster per FLOP than narrow full-resolution ones).
//! [`MultiTaskConfig::legacy`] says what a `config.json` written before a field existed
//! meant. Also the other settings that cross the [`crate::Engine`]: the device choice and
//! the inference options.

use serde::{Deserialize, Serialize};

/// How the soft-edge task is represented (seed 000's Exp 1–4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
pub enum EdgeMode {
    /// Exp 1: no edge matching module at all.
    None,
    /// Exp 2: one "edge / not edge" logit (label: soft-edge value ≥ 100, class ≥ 2).
    Binary,
    /// Exp 3 (default): six ordered classes, refined ordinal loss (eqs. 10–11).
    #[default]
    MultiClass,
    /// Exp 4: one continuous map in 0..1 (value / 255), L1 loss.
    Continuous,
}

impl EdgeMode {
    /// Channels each edge detector outputs.
    pub fn channels(self) -> usize {
        match self {
            EdgeMode::None => 0,
            EdgeMode::MultiClass => relievo_core::labels::EDGE_CLASSES,
            EdgeMode::Binary | EdgeMode::Continuous => 1,
        }
    }
}

/// The main depth term of eq. 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
pub enum DepthTerm {
    /// Seed 000's SILog (eqs. 3–4) on heights mapped to 1..255. Seed 000 regresses
    /// depth, where the floor is the far value; on height its log weights an error at
    /// the floor ~64,000× more than at the top, so under doubt it predicts floor.
    Silog,
    /// Linear in height and blind to its scale and shift ([`super::loss::aligned_loss`]:
    /// standardized heights and their slopes at four scales), plus a tenth of the plain
    /// height L1 that keeps the output inside 0..1.
    #[default]
    Aligned,
}

/// Loss weights and the optional terms of seeds 002 and 004. A field missing from a
/// saved `config.json` or from the app's settings takes its default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LossConfig {
    /// α, weight of the semantic loss (eq. 1).
    pub alpha: f64,
    /// β, weight of the depth loss (eq. 1).
    pub beta: f64,
    /// γ, weight of the edge loss (eq. 1).
    pub gamma: f64,
    /// λ1, weight of the photo edge detector's loss L_r (eq. 5).
    pub lambda1: f64,
    /// λ2, weight of the depth edge detector's loss L_d (eq. 5).
    pub lambda2: f64,
    /// λ3, weight of the matching loss L_m (eq. 5).
    pub lambda3: f64,
    /// λk, scale inside k = 1 − tanh²(λk·d̄) (eq. 8).
    pub lambda_k: f64,
    /// λe, weight of the ordinal L1 term of the edge loss (eq. 10).
    pub lambda_e: f64,
    /// λd, the scale-invariance weight of SILog (eq. 3).
    pub lambda_d: f64,
    /// Exp 5 switch: false fixes k = 1.
    pub dynamic_k: bool,
    /// Seed 002 eq. 11: point-cloud loss weight (0 = off).
    pub point_cloud: f64,
    /// Seed 002 eq. 12: virtual-normal loss weight (0 = off).
    pub virtual_normal: f64,
    /// Seed 004: L1 of depth gradients, weight (0 = off).
    pub gradient: f64,
    /// The main depth term (weighted by β).
    pub depth_term: DepthTerm,
    /// Extra scale- and shift-invariant height + multi-scale slope term on top of the
    /// main depth term, weight (0 = off).
    pub aligned: f64,
    /// Seed 004: edge-aware depth L1 weighted by the true soft-edge strength (0 = off).
    pub edge_aware: f64,
    /// L1 of the slope head's output against the standardized truth's slopes, inside
    /// the depth loss (only for a network with a slope head).
    pub slope: f64,
    /// L1 of the light head's direction against the renderer's light, on samples whose
    /// light is known (only for a network with a light head).
    pub light: f64,
}

impl Default for LossConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            beta: 3.0,
            gamma: 5.0,
            lambda1: 1.0,
            lambda2: 0.5,
            lambda3: 0.05,
            lambda_k: 2.5,
            lambda_e: 0.2,
            lambda_d: 0.15,
            dynamic_k: true,
            point_cloud: 0.0,
            virtual_normal: 0.0,
            gradient: 0.0,
            depth_term: DepthTerm::Aligned,
            aligned: 0.0,
            edge_aware: 0.0,
            slope: 1.0,
            light: 1.0,
        }
    }
}

/// Most channels a layer of a loadable network may have (the shipped ones use ≤ 192).
pub const MAX_CHANNELS: usize = 1024;
/// Largest pixel-unshuffle factor a loadable network may have.
pub const MAX_PIXEL_UNSHUFFLE: usize = 8;

/// Four stride-2 stages after the unshuffle: the first stage's sides must be multiples of this.
pub const STAGES_MULTIPLE_PX: usize = 16;

/// The network and its loss. `relievo_net::InitNet::init` builds the model on a device.
/// Every field is required in JSON, as it was under burn's `Config`: `config.json` files
/// are read through `relievo_net::weights`, which fills fields they lack from
/// [`MultiTaskConfig::legacy`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MultiTaskConfig {
    /// Channels of the five encoder stages, the first at 1/`pixel_unshuffle` of the
    /// input resolution, each next one at half the previous.
    pub encoder_channels: [usize; 5],
    /// Channels of each soft-edge detector's four blocks (its F1..F4), the first at
    /// 1/`pixel_unshuffle` of the input resolution.
    pub edge_channels: [usize; 4],
    /// The photo is folded into `f × f` pixel blocks (pixel unshuffle, f² × 3 channels)
    /// before the first convolution and the outputs unfolded back (pixel shuffle), so
    /// no convolution runs at full resolution. 1 = the first stage at full resolution.
    pub pixel_unshuffle: usize,
    /// Bilinear resizes inside the network map pixel centres (half-pixel, as the
    /// stride-2 encoder samples them); false = burn's corner-aligned default.
    pub half_pixel_resize: bool,
    pub edge_mode: EdgeMode,
    /// Seed 004: semantic decoder features gate the depth decoder (guided attention).
    pub seg_depth_attention: bool,
    /// Seed 001: the photo's soft-edge map multiplies the depth decoder's features.
    pub edge_weighted_decoder: bool,
    /// A second depth head predicts the relief's slopes (∂h/∂x, ∂h/∂y), trained beside
    /// the height; with `slope_screen` > 0 the network's depth is their fusion with the
    /// height by a screened Poisson solve, so that a region's level comes from the slopes
    /// around it.
    pub slope_head: bool,
    /// Weight λ of the predicted height in that solve (`min |∇h − g|² + λ|h − h₀|²`), in
    /// training and inference alike: small lets the slopes decide levels over long
    /// distances, large keeps the height. 0 (the default) does not fuse: the head only
    /// trains, as an auxiliary task (`models/MODEL_CARD.md`).
    pub slope_screen: f64,
    /// An auxiliary head predicts where the light comes from (the horizontal part of the
    /// unit vector towards it) from the bottleneck's global average, trained on synthetic
    /// panels, whose light is known; inference does not use it.
    pub light_head: bool,
    pub loss: LossConfig,
}

impl Default for MultiTaskConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl MultiTaskConfig {
    /// Today's defaults (seed 000's Exp 3 with this project's depth term and shape); the
    /// `with_*` builders below change one field each (burn's `Config` derive made them).
    pub fn new() -> Self {
        Self {
            encoder_channels: [48, 96, 128, 160, 192],
            edge_channels: [32, 48, 64, 64],
            pixel_unshuffle: 2,
            half_pixel_resize: true,
            edge_mode: EdgeMode::MultiClass,
            seg_depth_attention: false,
            edge_weighted_decoder: false,
            slope_head: false,
            slope_screen: 0.0,
            light_head: false,
            loss: LossConfig::default(),
        }
    }

    pub fn with_encoder_channels(mut self, encoder_channels: [usize; 5]) -> Self {
        self.encoder_channels = encoder_channels;
        self
    }

    pub fn with_edge_channels(mut self, edge_channels: [usize; 4]) -> Self {
        self.edge_channels = edge_channels;
        self
    }

    pub fn with_edge_mode(mut self, edge_mode: EdgeMode) -> Self {
        self.edge_mode = edge_mode;
        self
    }

    pub fn with_pixel_unshuffle(mut self, pixel_unshuffle: usize) -> Self {
        self.pixel_unshuffle = pixel_unshuffle;
        self
    }

    pub fn with_seg_depth_attention(mut self, seg_depth_attention: bool) -> Self {
        self.seg_depth_attention = seg_depth_attention;
        self
    }

    pub fn with_half_pixel_resize(mut self, half_pixel_resize: bool) -> Self {
        self.half_pixel_resize = half_pixel_resize;
        self
    }

    pub fn with_edge_weighted_decoder(mut self, edge_weighted_decoder: bool) -> Self {
        self.edge_weighted_decoder = edge_weighted_decoder;
        self
    }

    pub fn with_slope_head(mut self, slope_head: bool) -> Self {
        self.slope_head = slope_head;
        self
    }

    pub fn with_light_head(mut self, light_head: bool) -> Self {
        self.light_head = light_head;
        self
    }

    pub fn with_loss(mut self, loss: LossConfig) -> Self {
        self.loss = loss;
        self
    }

    /// What a `config.json` meant before a field existed: its missing fields take
    /// these values (the shape and loss of the stage-1..3 networks), not today's defaults.
    pub fn legacy() -> Self {
        Self {
            encoder_channels: [12, 16, 24, 32, 48],
            edge_channels: [6, 8, 12, 16],
            pixel_unshuffle: 1,
            half_pixel_resize: false,
            loss: LossConfig {
                depth_term: DepthTerm::Silog,
                ..LossConfig::default()
            },
            ..Self::new()
        }
    }

    /// Whether this shape can be built: every channel count in 1..=[`MAX_CHANNELS`],
    /// the unshuffle factor in 1..=[`MAX_PIXEL_UNSHUFFLE`], a slope screen ≥ 0. A `config.json` outside
    /// these would panic inside burn (zero channels) or ask for gigabytes of parameters.
    pub fn check(&self) -> Result<(), String> {
        let channels = self.encoder_channels.iter().chain(&self.edge_channels);
        if let Some(c) = channels.copied().find(|c| !(1..=MAX_CHANNELS).contains(c)) {
            return Err(format!("a layer with {c} channels (1 to {MAX_CHANNELS} supported)"));
        }
        if !(1..=MAX_PIXEL_UNSHUFFLE).contains(&self.pixel_unshuffle) {
            return Err(format!(
                "pixel_unshuffle {} (1 to {MAX_PIXEL_UNSHUFFLE} supported)",
                self.pixel_unshuffle
            ));
        }
        if !(self.slope_screen.is_finite() && self.slope_screen >= 0.0) {
            return Err(format!(
                "slope_screen {} (0 or a positive number needed)",
                self.slope_screen
            ));
        }
        Ok(())
    }

    /// Input sides must be multiples of this (the unshuffle, then four stride-2 stages).
    pub fn size_multiple(&self) -> usize {
        self.pixel_unshuffle.max(1) * STAGES_MULTIPLE_PX
    }
}

/// Where the network runs (`relievo_net::device::select`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum DeviceChoice {
    /// A hardware GPU if one is found, else the CPU.
    #[default]
    Auto,
    /// A hardware GPU, or an error.
    Gpu,
    /// The CPU (burn's flex backend).
    Cpu,
}

/// How a photo is run through the network (`relievo_net::predict`).
#[derive(Clone, Debug, PartialEq)]
pub struct InferOptions {
    /// Longest side the network sees; `None` = the weights' working side, `Some(0)`
    /// = the photo's own resolution.
    pub max_side_px: Option<usize>,
    /// Tiles are at most this many pixels on a side (the memory bound).
    pub tile_px: usize,
    /// Overlap between neighbouring tiles, blended linearly.
    pub overlap_px: usize,
    /// Also run the photo mirrored left–right and average the two predictions (mirrored
    /// back). Twice the work; the result is exactly mirror-symmetric in the network's
    /// sense (a mirrored photo gives the mirrored layers), and on the dev benchmark it
    /// lowers the depth error (model card, "Mirror averaging").
    pub mirror_average: bool,
}

impl Default for InferOptions {
    fn default() -> Self {
        Self {
            max_side_px: None,
            tile_px: 768,
            overlap_px: 64,
            mirror_average: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `config.json` written by burn's `Config` derive before the slope and light heads existed (the
    /// shipped weights' until 2026-12-03).
    const BURN_CONFIG: &str = include_str!("testdata/config_written_by_burn.json");

    fn burn_written() -> serde_json::Value {
        serde_json::from_str(BURN_CONFIG).expect("JSON")
    }

    /// Keys of a JSON object in their order in the text (serde_json sorts a `Value`'s keys).
    fn keys_in_order(text: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for line in text.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix('"')
                && let Some((key, _)) = rest.split_once("\":")
            {
                keys.push(key.to_string());
            }
        }
        keys
    }

    #[test]
    fn the_json_is_the_one_burns_config_wrote() {
        let ours = serde_json::to_string_pretty(&MultiTaskConfig::new()).unwrap();
        // The same fields in the same order, the burn-written file lacking only later ones.
        let later = ["slope_head", "slope_screen", "slope", "light_head", "light"];
        let ours_then: Vec<String> = keys_in_order(&ours)
            .into_iter()
            .filter(|k| !later.contains(&k.as_str()))
            .collect();
        assert_eq!(keys_in_order(BURN_CONFIG), ours_then);
        // With those filled as `legacy` fills them, the burn-written file is today's default.
        let mut value = burn_written();
        value["slope_head"] = false.into();
        value["slope_screen"] = 0.0.into();
        value["loss"]["slope"] = MultiTaskConfig::legacy().loss.slope.into();
        value["light_head"] = false.into();
        value["loss"]["light"] = MultiTaskConfig::legacy().loss.light.into();
        let read: MultiTaskConfig = serde_json::from_value(value).unwrap();
        assert_eq!(read, MultiTaskConfig::new());
        assert_eq!(
            serde_json::from_str::<MultiTaskConfig>(&ours).unwrap(),
            MultiTaskConfig::new()
        );
    }

    #[test]
    fn every_field_is_required_as_under_burn() {
        // A missing field is an error here; `relievo_net::weights` fills it from `legacy`.
        let err = serde_json::from_value::<MultiTaskConfig>(burn_written()).unwrap_err();
        assert!(err.to_string().contains("slope_head"), "{err}");
    }

    #[test]
    fn builders_change_their_field_only() {
        let c = MultiTaskConfig::new()
            .with_encoder_channels([4, 4, 8, 8, 8])
            .with_edge_channels([2, 2, 4, 4])
            .with_edge_mode(EdgeMode::Binary)
            .with_slope_head(true);
        assert_eq!(
            c,
            MultiTaskConfig {
                encoder_channels: [4, 4, 8, 8, 8],
                edge_channels: [2, 2, 4, 4],
                edge_mode: EdgeMode::Binary,
                slope_head: true,
                ..MultiTaskConfig::new()
            }
        );
    }
}
