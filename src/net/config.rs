//! `MultiTaskConfig`: every switch of the network and its loss in one burn `Config`,
//! saved as `config.json` beside the weights. Defaults are seed 000's best setting
//! (Exp 3: multi-class soft edges, dynamic k) with its loss weights.

use burn::config::Config;
use serde::{Deserialize, Serialize};

/// How the soft-edge task is represented (seed 000's Exp 1–4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
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
            EdgeMode::MultiClass => crate::labels::EDGE_CLASSES,
            EdgeMode::Binary | EdgeMode::Continuous => 1,
        }
    }
}

/// Loss weights and the optional terms of seeds 002 and 004.
#[derive(Config, Debug, PartialEq)]
pub struct LossConfig {
    /// α, weight of the semantic loss (eq. 1).
    #[config(default = 1.0)]
    pub alpha: f64,
    /// β, weight of the depth loss (eq. 1).
    #[config(default = 3.0)]
    pub beta: f64,
    /// γ, weight of the edge loss (eq. 1).
    #[config(default = 5.0)]
    pub gamma: f64,
    /// λ1, weight of the photo edge detector's loss L_r (eq. 5).
    #[config(default = 1.0)]
    pub lambda1: f64,
    /// λ2, weight of the depth edge detector's loss L_d (eq. 5).
    #[config(default = 0.5)]
    pub lambda2: f64,
    /// λ3, weight of the matching loss L_m (eq. 5).
    #[config(default = 0.05)]
    pub lambda3: f64,
    /// λk, scale inside k = 1 − tanh²(λk·d̄) (eq. 8).
    #[config(default = 2.5)]
    pub lambda_k: f64,
    /// λe, weight of the ordinal L1 term of the edge loss (eq. 10).
    #[config(default = 0.2)]
    pub lambda_e: f64,
    /// λd, the scale-invariance weight of SILog (eq. 3).
    #[config(default = 0.15)]
    pub lambda_d: f64,
    /// Exp 5 switch: false fixes k = 1.
    #[config(default = true)]
    pub dynamic_k: bool,
    /// Seed 002 eq. 11: point-cloud loss weight (0 = off).
    #[config(default = 0.0)]
    pub point_cloud: f64,
    /// Seed 002 eq. 12: virtual-normal loss weight (0 = off).
    #[config(default = 0.0)]
    pub virtual_normal: f64,
    /// Seed 004: L1 of depth gradients, weight (0 = off).
    #[config(default = 0.0)]
    pub gradient: f64,
    /// Scale- and shift-invariant height + multi-scale gradient term, weight (0 = off).
    #[config(default = 0.0)]
    pub aligned: f64,
    /// Seed 004: edge-aware depth L1 weighted by the true soft-edge strength (0 = off).
    #[config(default = 0.0)]
    pub edge_aware: f64,
}

/// The network and its loss. `init` builds the model on a device.
#[derive(Config, Debug, PartialEq)]
pub struct MultiTaskConfig {
    /// Channels of the encoder stages at 1, 1/2, 1/4, 1/8, 1/16 resolution.
    #[config(default = "[12, 16, 24, 32, 48]")]
    pub encoder_channels: [usize; 5],
    /// Channels of each soft-edge detector's four blocks (its F1..F4 at 1, 1/2, 1/4, 1/8).
    #[config(default = "[6, 8, 12, 16]")]
    pub edge_channels: [usize; 4],
    #[config(default = "EdgeMode::MultiClass")]
    pub edge_mode: EdgeMode,
    /// Seed 004: semantic decoder features gate the depth decoder (guided attention).
    #[config(default = false)]
    pub seg_depth_attention: bool,
    /// Seed 001: the photo's soft-edge map multiplies the depth decoder's features.
    #[config(default = false)]
    pub edge_weighted_decoder: bool,
    #[config(default = "LossConfig::new()")]
    pub loss: LossConfig,
}
