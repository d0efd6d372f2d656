//! The multi-task relief network (seed 000, scaled down): a shared CNN encoder with
//! skip connections and a context module, a depth decoder and a semantic decoder,
//! and the edge matching module — two LDC-like soft-edge detectors of identical
//! structure, one on the photo (its map is also an extra encoder input) and one on
//! the predicted depth. Fully convolutional: any input whose sides are multiples of
//! 16 (inference pads to that).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, sigmoid, softmax};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor};

use super::config::{EdgeMode, MultiTaskConfig};
use crate::labels::{EDGE_CLASSES, SEMANTIC_CLASSES};

/// Sides of the network input must be multiples of this (four stride-2 stages).
pub const SIZE_MULTIPLE_PX: usize = 16;

/// conv 3×3 → batch norm → ReLU.
#[derive(Module, Debug)]
pub struct ConvBnRelu {
    conv: Conv2d,
    norm: BatchNorm,
}

impl ConvBnRelu {
    fn new(channels_in: usize, channels_out: usize, stride: usize, dilation: usize, device: &Device) -> Self {
        let conv = Conv2dConfig::new([channels_in, channels_out], [3, 3])
            .with_stride([stride, stride])
            .with_dilation([dilation, dilation])
            .with_padding(PaddingConfig2d::Explicit(dilation, dilation, dilation, dilation))
            .with_bias(false)
            .init(device);
        Self {
            conv,
            norm: BatchNormConfig::new(channels_out).init(device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(self.norm.forward(self.conv.forward(x)))
    }
}

fn conv1x1(channels_in: usize, channels_out: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([channels_in, channels_out], [1, 1]).init(device)
}

fn conv3x3(channels_in: usize, channels_out: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([channels_in, channels_out], [3, 3])
        .with_padding(PaddingConfig2d::Same)
        .init(device)
}

/// Bilinear resize of `[b, c, h, w]` to `[b, c, height, width]`.
pub fn resize(x: Tensor<4>, height: usize, width: usize) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    if h == height && w == width {
        return x;
    }
    interpolate(
        x,
        InterpolateOptions::new(InterpolateMode::Bilinear).with_output_size([height, width]),
    )
}

/// Two 3×3 conv blocks, the first with `stride`.
#[derive(Module, Debug)]
pub struct Stage {
    a: ConvBnRelu,
    b: ConvBnRelu,
}

impl Stage {
    fn new(channels_in: usize, channels_out: usize, stride: usize, device: &Device) -> Self {
        Self {
            a: ConvBnRelu::new(channels_in, channels_out, stride, 1, device),
            b: ConvBnRelu::new(channels_out, channels_out, 1, 1, device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.b.forward(self.a.forward(x))
    }
}

/// LDC-like soft-edge detector: four blocks at 1, 1/2, 1/4, 1/8 resolution, each with
/// a side output (F1..F4) upsampled to full size and fused by a 1×1 convolution.
#[derive(Module, Debug)]
pub struct EdgeDetector {
    blocks: Vec<Stage>,
    sides: Vec<Conv2d>,
    fuse: Conv2d,
}

impl EdgeDetector {
    fn new(channels_in: usize, channels: [usize; 4], outputs: usize, device: &Device) -> Self {
        let mut blocks = Vec::new();
        let mut sides = Vec::new();
        let mut previous = channels_in;
        for (i, &c) in channels.iter().enumerate() {
            blocks.push(Stage::new(previous, c, if i == 0 { 1 } else { 2 }, device));
            sides.push(conv1x1(c, outputs, device));
            previous = c;
        }
        Self {
            blocks,
            sides,
            fuse: conv1x1(4 * outputs, outputs, device),
        }
    }

    /// `[b, c_in, h, w]` → edge logits `[b, outputs, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        let mut feature = x;
        let mut maps = Vec::with_capacity(4);
        for (block, side) in self.blocks.iter().zip(&self.sides) {
            feature = block.forward(feature);
            maps.push(resize(side.forward(feature.clone()), h, w));
        }
        self.fuse.forward(Tensor::cat(maps, 1))
    }
}

/// Context module at the bottleneck: parallel dilated convolutions (rates 1, 2, 4)
/// and a global-average branch, concatenated and fused.
#[derive(Module, Debug)]
pub struct ContextModule {
    branches: Vec<ConvBnRelu>,
    global: Conv2d,
    fuse: ConvBnRelu,
}

impl ContextModule {
    fn new(channels: usize, device: &Device) -> Self {
        let branch = channels / 2;
        Self {
            branches: [1, 2, 4]
                .iter()
                .map(|&d| ConvBnRelu::new(channels, branch, 1, d, device))
                .collect(),
            global: conv1x1(channels, branch, device),
            fuse: ConvBnRelu::new(4 * branch, channels, 1, 1, device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, _, h, w] = x.dims();
        let mut parts: Vec<Tensor<4>> = self.branches.iter().map(|br| br.forward(x.clone())).collect();
        let pooled = x.mean_dim(2).mean_dim(3); // [b, c, 1, 1]
        let global = relu(self.global.forward(pooled));
        let c = global.dims()[1];
        parts.push(global.expand([b, c, h, w]));
        self.fuse.forward(Tensor::cat(parts, 1))
    }
}

/// One decoder step: upsample, "up-conv", concatenate the skip, conv.
#[derive(Module, Debug)]
pub struct UpBlock {
    up: ConvBnRelu,
    merge: ConvBnRelu,
}

impl UpBlock {
    fn new(channels_in: usize, skip: usize, channels_out: usize, device: &Device) -> Self {
        Self {
            up: ConvBnRelu::new(channels_in, channels_out, 1, 1, device),
            merge: ConvBnRelu::new(channels_out + skip, channels_out, 1, 1, device),
        }
    }

    fn forward(&self, x: Tensor<4>, skip: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = skip.dims();
        let x = self.up.forward(resize(x, h, w));
        self.merge.forward(Tensor::cat(vec![x, skip], 1))
    }
}

/// A decoder: four up blocks from 1/16 to full resolution, then a 3×3 head.
#[derive(Module, Debug)]
pub struct Decoder {
    ups: Vec<UpBlock>,
    head: Conv2d,
}

impl Decoder {
    fn new(encoder: [usize; 5], outputs: usize, device: &Device) -> Self {
        let ups = (0..4)
            .rev()
            .map(|i| UpBlock::new(encoder[i + 1], encoder[i], encoder[i], device))
            .collect();
        Self {
            ups,
            head: conv3x3(encoder[0], outputs, device),
        }
    }
}

/// Per-scale 1×1 convolutions turning semantic features into depth attention (seed 004).
#[derive(Module, Debug)]
pub struct SemanticAttention {
    gates: Vec<Conv2d>,
}

/// Everything the network predicts for a batch.
#[derive(Debug, Clone)]
pub struct MultiTaskOutput {
    /// Relief height in 0..1, `[b, 1, h, w]`.
    pub depth: Tensor<4>,
    /// Semantic logits, `[b, 4, h, w]`.
    pub semantics: Tensor<4>,
    /// Soft-edge logits from the photo (`e_r`), `[b, E, h, w]`; `None` in `EdgeMode::None`.
    pub edges_photo: Option<Tensor<4>>,
    /// Soft-edge logits from the predicted depth (`e_d`), same shape as `edges_photo`.
    pub edges_depth: Option<Tensor<4>>,
}

/// The whole network. Build with [`MultiTaskConfig::init`].
#[derive(Module, Debug)]
pub struct MultiTaskNet {
    photo_edges: Option<EdgeDetector>,
    depth_edges: Option<EdgeDetector>,
    stem: Stage,
    stages: Vec<Stage>,
    context: ContextModule,
    depth_decoder: Decoder,
    semantic_decoder: Decoder,
    attention: Option<SemanticAttention>,
    #[module(skip)]
    edge_mode: EdgeMode,
    #[module(skip)]
    edge_weighted_decoder: bool,
}

impl MultiTaskConfig {
    pub fn init(&self, device: &Device) -> MultiTaskNet {
        let enc = self.encoder_channels;
        let edge_outputs = self.edge_mode.channels();
        let with_edges = self.edge_mode != EdgeMode::None;
        let photo_edges = with_edges.then(|| EdgeDetector::new(3, self.edge_channels, edge_outputs, device));
        let depth_edges = with_edges.then(|| EdgeDetector::new(1, self.edge_channels, edge_outputs, device));
        let stem = Stage::new(3 + usize::from(with_edges), enc[0], 1, device);
        let stages = (0..4).map(|i| Stage::new(enc[i], enc[i + 1], 2, device)).collect();
        let attention = self.seg_depth_attention.then(|| SemanticAttention {
            gates: (0..4).rev().map(|i| conv1x1(enc[i], enc[i], device)).collect(),
        });
        MultiTaskNet {
            photo_edges,
            depth_edges,
            stem,
            stages,
            context: ContextModule::new(enc[4], device),
            depth_decoder: Decoder::new(enc, 1, device),
            semantic_decoder: Decoder::new(enc, SEMANTIC_CLASSES, device),
            attention,
            edge_mode: self.edge_mode,
            edge_weighted_decoder: self.edge_weighted_decoder,
        }
    }
}

/// One-channel "edge image" in 0..1 from edge logits: expected class / 5 for the
/// multi-class mode, the sigmoid otherwise.
pub fn edge_strength(logits: Tensor<4>, mode: EdgeMode) -> Tensor<4> {
    match mode {
        EdgeMode::MultiClass => {
            let [b, c, h, w] = logits.dims();
            let device = logits.device();
            let classes = Tensor::<1, burn::tensor::Int>::arange(0..c as i64, &device)
                .float()
                .reshape([1, c, 1, 1])
                .expand([b, c, h, w]);
            (softmax(logits, 1) * classes).sum_dim(1) / (EDGE_CLASSES - 1) as f64
        }
        _ => sigmoid(logits),
    }
}

impl MultiTaskNet {
    pub fn edge_mode(&self) -> EdgeMode {
        self.edge_mode
    }

    /// `photo`: normalised RGB `[b, 3, h, w]` with h, w multiples of 16.
    pub fn forward(&self, photo: Tensor<4>) -> MultiTaskOutput {
        let edges_photo = self.photo_edges.as_ref().map(|d| d.forward(photo.clone()));
        let photo_edge_map = edges_photo.clone().map(|e| edge_strength(e, self.edge_mode)); // [b, 1, h, w]
        let input = match &photo_edge_map {
            Some(map) => Tensor::cat(vec![photo, map.clone()], 1),
            None => photo,
        };

        // Encoder: skips at 1, 1/2, 1/4, 1/8; bottleneck at 1/16.
        let mut skips = vec![self.stem.forward(input)];
        for stage in &self.stages {
            let next = stage.forward(skips.last().expect("stem output").clone());
            skips.push(next);
        }
        let bottleneck = self.context.forward(skips.pop().expect("bottleneck"));

        let mut depth = bottleneck.clone();
        let mut semantic = bottleneck;
        for (i, (d_up, s_up)) in self
            .depth_decoder
            .ups
            .iter()
            .zip(&self.semantic_decoder.ups)
            .enumerate()
        {
            let skip = skips[3 - i].clone();
            semantic = s_up.forward(semantic, skip.clone());
            depth = d_up.forward(depth, skip);
            if let Some(attention) = &self.attention {
                depth = depth.clone() * (sigmoid(attention.gates[i].forward(semantic.clone())) + 1.0);
            }
            if self.edge_weighted_decoder
                && let Some(map) = &photo_edge_map
            {
                let [_, _, h, w] = depth.dims();
                depth = depth.clone() * (resize(map.clone(), h, w) + 1.0);
            }
        }
        let depth = sigmoid(self.depth_decoder.head.forward(depth));
        let semantics = self.semantic_decoder.head.forward(semantic);
        let edges_depth = self.depth_edges.as_ref().map(|d| d.forward(depth.clone()));
        MultiTaskOutput {
            depth,
            semantics,
            edges_photo,
            edges_depth,
        }
    }
}

impl MultiTaskConfig {
    /// Multiply–accumulates ×2 of every convolution for one `height × width` image
    /// (elementwise work, norms and resizes not counted).
    pub fn flops(&self, height: usize, width: usize) -> u64 {
        let conv = |cin: usize, cout: usize, k: usize, h: usize, w: usize| 2 * (cin * cout * k * k * h * w) as u64;
        let at = |level: u32| (height >> level, width >> level);
        let stage = |cin: usize, cout: usize, level: u32| {
            let (h, w) = at(level);
            conv(cin, cout, 3, h, w) + conv(cout, cout, 3, h, w)
        };
        let enc = self.encoder_channels;
        let e_out = self.edge_mode.channels();
        let mut total = 0;
        if self.edge_mode != EdgeMode::None {
            for cin in [3usize, 1] {
                let mut prev = cin;
                for (i, &c) in self.edge_channels.iter().enumerate() {
                    total += stage(prev, c, i as u32);
                    let (h, w) = at(i as u32);
                    total += conv(c, e_out, 1, h, w);
                    prev = c;
                }
                total += conv(4 * e_out, e_out, 1, height, width);
            }
        }
        total += stage(3 + usize::from(self.edge_mode != EdgeMode::None), enc[0], 0);
        for i in 0..4 {
            total += stage(enc[i], enc[i + 1], i as u32 + 1);
        }
        let (h, w) = at(4);
        let branch = enc[4] / 2;
        total += 3 * conv(enc[4], branch, 3, h, w) + conv(4 * branch, enc[4], 3, h, w);
        for outputs in [1usize, crate::labels::SEMANTIC_CLASSES] {
            for i in (0..4).rev() {
                let (h, w) = at(i as u32);
                total += conv(enc[i + 1], enc[i], 3, h, w) + conv(2 * enc[i], enc[i], 3, h, w);
                if self.seg_depth_attention && outputs == 1 {
                    total += conv(enc[i], enc[i], 1, h, w);
                }
            }
            total += conv(enc[0], outputs, 3, height, width);
        }
        total
    }
}
