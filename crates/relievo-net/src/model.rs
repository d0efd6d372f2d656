//! The multi-task relief network (seed 000, scaled down): a shared CNN encoder with
//! skip connections and a context module, a depth decoder and a semantic decoder,
//! and the edge matching module — two LDC-like soft-edge detectors of identical
//! structure, one on the photo (its map is also an extra encoder input) and one on
//! the predicted depth. Fully convolutional: any input whose sides are multiples of
//! [`MultiTaskConfig::size_multiple`] (inference pads to that).
//!
//! With `pixel_unshuffle` f > 1 the photo is folded into f × f blocks before the first
//! convolution and every output unfolded (depth, semantics) or resized (soft edges)
//! back to full resolution, so that all convolutions run at 1/f or below: burn's CPU
//! backend runs wide layers at low resolution many times faster per FLOP than narrow
//! ones at full resolution (`relievo model-info --bench-train --layers`).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, sigmoid, softmax};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor};

use super::config::{EdgeMode, MultiTaskConfig};
use crate::cancel::{Cancel, Cancelled};
use crate::labels::{EDGE_CLASSES, SEMANTIC_CLASSES};

pub use super::config::STAGES_MULTIPLE_PX;

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

/// The slope head on the depth decoder's last features (`channels`): two slopes per
/// output pixel, folded as `f × f` blocks like the depth head's output.
fn slope_head(channels: usize, f: usize, device: &Device) -> Conv2d {
    conv3x3(channels, 2 * f * f, device)
}

/// The light head on the bottleneck's global average (`channels`): where the light comes from.
fn light_head(channels: usize, device: &Device) -> Linear {
    LinearConfig::new(channels, 2).init(device)
}

/// Bilinear resize of `[b, c, h, w]` to `[b, c, height, width]`; `half_pixel` maps
/// pixel centres (PyTorch's align_corners = false), otherwise corners.
pub fn resize(x: Tensor<4>, height: usize, width: usize, half_pixel: bool) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    if h == height && w == width {
        return x;
    }
    let mut options = InterpolateOptions::new(InterpolateMode::Bilinear).with_output_size([height, width]);
    options.align_corners = !half_pixel;
    interpolate(x, options)
}

/// Pixel unshuffle: `[b, c, h, w]` → `[b, c·f², h/f, w/f]`, channel `c·f² + i·f + j`
/// holding pixel (i, j) of each f × f block.
pub fn pixel_unshuffle(x: Tensor<4>, f: usize) -> Tensor<4> {
    if f == 1 {
        return x;
    }
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h / f, f, w / f, f])
        .permute([0, 1, 3, 5, 2, 4])
        .reshape([b, c * f * f, h / f, w / f])
}

/// Pixel shuffle, the inverse of [`pixel_unshuffle`]: `[b, c·f², h, w]` → `[b, c, h·f, w·f]`.
pub fn pixel_shuffle(x: Tensor<4>, f: usize) -> Tensor<4> {
    if f == 1 {
        return x;
    }
    let [b, cff, h, w] = x.dims();
    let c = cff / (f * f);
    x.reshape([b, c, f, f, h, w])
        .permute([0, 1, 4, 2, 5, 3])
        .reshape([b, c, h * f, w * f])
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

/// LDC-like soft-edge detector: four blocks at 1, 1/2, 1/4, 1/8 of its input's
/// resolution, each with a side output (F1..F4) upsampled to the input size and fused
/// by a 1×1 convolution.
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
    pub fn forward(&self, x: Tensor<4>, half_pixel: bool) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        let mut feature = x;
        let mut maps = Vec::with_capacity(4);
        for (block, side) in self.blocks.iter().zip(&self.sides) {
            feature = block.forward(feature);
            maps.push(resize(side.forward(feature.clone()), h, w, half_pixel));
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

    fn forward(&self, x: Tensor<4>, skip: Tensor<4>, half_pixel: bool) -> Tensor<4> {
        let [_, _, h, w] = skip.dims();
        let x = self.up.forward(resize(x, h, w, half_pixel));
        self.merge.forward(Tensor::cat(vec![x, skip], 1))
    }
}

/// A decoder: four up blocks from the bottleneck to the first stage's resolution,
/// then a 3×3 head with `outputs · f²` channels that a pixel shuffle unfolds.
#[derive(Module, Debug)]
pub struct Decoder {
    ups: Vec<UpBlock>,
    head: Conv2d,
}

impl Decoder {
    fn new(encoder: [usize; 5], outputs: usize, unshuffle: usize, device: &Device) -> Self {
        let ups = (0..4)
            .rev()
            .map(|i| UpBlock::new(encoder[i + 1], encoder[i], encoder[i], device))
            .collect();
        Self {
            ups,
            head: conv3x3(encoder[0], outputs * unshuffle * unshuffle, device),
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
    /// Slopes of the standardized height (see [`crate::loss::slope_loss`]), `[b, 2, h, w]`:
    /// channel 0 is `h(x + 1, y) − h(x, y)`, channel 1 `h(x, y + 1) − h(x, y)`; `None`
    /// without a slope head.
    pub slopes: Option<Tensor<4>>,
    /// Where the light comes from, `[b, 2]` (see [`crate::loss::Targets::light`]); `None`
    /// without a light head.
    pub light: Option<Tensor<2>>,
    /// The height head's own output when `depth` is its fusion with the slopes
    /// ([`MultiTaskNet::with_slope_screen`]); `None` when `depth` is that output.
    pub height: Option<Tensor<4>>,
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
    slope_head: Option<Conv2d>,
    light_head: Option<Linear>,
    #[module(skip)]
    edge_mode: EdgeMode,
    #[module(skip)]
    edge_weighted_decoder: bool,
    #[module(skip)]
    unshuffle: usize,
    #[module(skip)]
    half_pixel: bool,
    /// λ of the slope fusion ([`crate::fusion`]); 0 = none.
    #[module(skip)]
    slope_screen: f64,
}

/// Builds the network a [`MultiTaskConfig`] describes (the config is burn-free data in
/// `relievo-engine`; this is burn's `ModelConfig::init`).
pub trait InitNet {
    fn init(&self, device: &Device) -> MultiTaskNet;
}

impl InitNet for MultiTaskConfig {
    fn init(&self, device: &Device) -> MultiTaskNet {
        let enc = self.encoder_channels;
        let f = self.pixel_unshuffle.max(1);
        let edge_outputs = self.edge_mode.channels();
        let with_edges = self.edge_mode != EdgeMode::None;
        let detector =
            |channels_in: usize| EdgeDetector::new(channels_in * f * f, self.edge_channels, edge_outputs, device);
        let photo_edges = with_edges.then(|| detector(3));
        let depth_edges = with_edges.then(|| detector(1));
        let stem = Stage::new((3 + usize::from(with_edges)) * f * f, enc[0], 1, device);
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
            depth_decoder: Decoder::new(enc, 1, f, device),
            semantic_decoder: Decoder::new(enc, SEMANTIC_CLASSES, f, device),
            attention,
            slope_head: self.slope_head.then(|| slope_head(enc[0], f, device)),
            light_head: self.light_head.then(|| light_head(enc[4], device)),
            edge_mode: self.edge_mode,
            edge_weighted_decoder: self.edge_weighted_decoder,
            unshuffle: f,
            half_pixel: self.half_pixel_resize,
            slope_screen: if self.slope_head { self.slope_screen } else { 0.0 },
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

    pub fn has_slope_head(&self) -> bool {
        self.slope_head.is_some()
    }

    /// This network with a new, untrained slope head if it has none (a run that starts
    /// from weights without one); it reads what the depth head reads.
    pub fn with_slope_head(mut self, device: &Device) -> Self {
        if self.slope_head.is_none() {
            let channels = self.depth_decoder.head.weight.dims()[1];
            self.slope_head = Some(slope_head(channels, self.unshuffle, device));
        }
        self
    }

    /// This network with its depth output fused with its slopes at weight `lambda`
    /// (`MultiTaskConfig::slope_screen`), in training and inference alike; 0 = the
    /// height head alone. Without a slope head there is nothing to fuse.
    pub fn with_slope_screen(mut self, lambda: f64) -> Self {
        self.slope_screen = if self.slope_head.is_some() { lambda } else { 0.0 };
        self
    }

    pub fn has_light_head(&self) -> bool {
        self.light_head.is_some()
    }

    /// This network with a new, untrained light head if it has none.
    pub fn with_light_head(mut self, device: &Device) -> Self {
        if self.light_head.is_none() {
            let channels = self.context.fuse.conv.weight.dims()[0];
            self.light_head = Some(light_head(channels, device));
        }
        self
    }

    /// Input sides must be multiples of this.
    pub fn size_multiple(&self) -> usize {
        self.unshuffle * STAGES_MULTIPLE_PX
    }

    /// Edge logits of a detector on a full-resolution input `[b, c, h, w]`.
    fn detect_edges(&self, detector: &EdgeDetector, x: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        resize(
            detector.forward(pixel_unshuffle(x, self.unshuffle), self.half_pixel),
            h,
            w,
            self.half_pixel,
        )
    }

    /// `photo`: normalised RGB `[b, 3, h, w]` with h, w multiples of [`Self::size_multiple`].
    pub fn forward(&self, photo: Tensor<4>) -> MultiTaskOutput {
        match self.forward_cancellable(photo, &Cancel::default()) {
            Ok(out) => out,
            Err(Cancelled) => unreachable!("nobody else holds this flag"),
        }
    }

    /// [`Self::forward`] that checks `cancel` between its stages (the photo's edge detector,
    /// each encoder stage, the context module, each decoder step), so that a pass over a
    /// large photo stops within a fraction of a second of the flag being set.
    pub fn forward_cancellable(&self, photo: Tensor<4>, cancel: &Cancel) -> Result<MultiTaskOutput, Cancelled> {
        let f = self.unshuffle;
        cancel.check()?;
        let edges_photo = self.photo_edges.as_ref().map(|d| self.detect_edges(d, photo.clone()));
        cancel.check()?;
        let photo_edge_map = edges_photo.clone().map(|e| edge_strength(e, self.edge_mode)); // [b, 1, h, w]
        let input = match &photo_edge_map {
            Some(map) => Tensor::cat(vec![photo, map.clone()], 1),
            None => photo,
        };

        // Encoder: skips at 1/f, 1/2f, 1/4f, 1/8f; bottleneck at 1/16f.
        let mut skips = vec![self.stem.forward(pixel_unshuffle(input, f))];
        for stage in &self.stages {
            cancel.check()?;
            let next = stage.forward(skips.last().expect("stem output").clone());
            skips.push(next);
        }
        cancel.check()?;
        let bottleneck = self.context.forward(skips.pop().expect("bottleneck"));
        let light = self.light_head.as_ref().map(|head| {
            let [b, c, _, _] = bottleneck.dims();
            head.forward(bottleneck.clone().mean_dim(3).mean_dim(2).reshape([b, c]))
        });

        let mut depth = bottleneck.clone();
        let mut semantic = bottleneck;
        for (i, (d_up, s_up)) in self
            .depth_decoder
            .ups
            .iter()
            .zip(&self.semantic_decoder.ups)
            .enumerate()
        {
            cancel.check()?;
            let skip = skips[3 - i].clone();
            semantic = s_up.forward(semantic, skip.clone(), self.half_pixel);
            depth = d_up.forward(depth, skip, self.half_pixel);
            if let Some(attention) = &self.attention {
                depth = depth.clone() * (sigmoid(attention.gates[i].forward(semantic.clone())) + 1.0);
            }
            if self.edge_weighted_decoder
                && let Some(map) = &photo_edge_map
            {
                let [_, _, h, w] = depth.dims();
                depth = depth.clone() * (resize(map.clone(), h, w, self.half_pixel) + 1.0);
            }
        }
        cancel.check()?;
        let slopes = self
            .slope_head
            .as_ref()
            .map(|head| pixel_shuffle(head.forward(depth.clone()), f));
        let height = sigmoid(pixel_shuffle(self.depth_decoder.head.forward(depth), f));
        let (depth, height) = match &slopes {
            Some(g) if self.slope_screen > 0.0 => (
                crate::fusion::fuse(height.clone(), g.clone(), self.slope_screen),
                Some(height),
            ),
            _ => (height, None),
        };
        let semantics = pixel_shuffle(self.semantic_decoder.head.forward(semantic), f);
        cancel.check()?;
        // The depth-side detector learns to read edges from the depth; it must not
        // reshape the depth (its loss would push pixel-scale texture into it).
        let edges_depth = self
            .depth_edges
            .as_ref()
            .map(|d| self.detect_edges(d, depth.clone().detach()));
        Ok(MultiTaskOutput {
            depth,
            semantics,
            edges_photo,
            edges_depth,
            slopes,
            light,
            height,
        })
    }
}

/// One convolution of the network, for FLOP counts and per-layer timing.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ConvLayer {
    pub name: String,
    pub channels_in: usize,
    pub channels_out: usize,
    pub kernel: usize,
    pub stride: usize,
    pub dilation: usize,
    /// Output size.
    pub height: usize,
    pub width: usize,
}

impl ConvLayer {
    /// Multiply–accumulates × 2 of one forward pass.
    pub fn flops(&self) -> u64 {
        2 * (self.channels_in * self.channels_out * self.kernel * self.kernel * self.height * self.width) as u64
    }
}

/// The convolutions of the network a [`MultiTaskConfig`] describes, for FLOPs and timing.
pub trait ConvShapes {
    /// Every convolution of the network on one `height × width` image, in forward order.
    fn conv_layers(&self, height: usize, width: usize) -> Vec<ConvLayer>;
    /// Multiply–accumulates × 2 of every convolution for one `height × width` image
    /// (elementwise work, norms and resizes not counted).
    fn flops(&self, height: usize, width: usize) -> u64;
}

impl ConvShapes for MultiTaskConfig {
    fn conv_layers(&self, height: usize, width: usize) -> Vec<ConvLayer> {
        let f = self.pixel_unshuffle.max(1);
        let at = |level: usize| ((height / f) >> level, (width / f) >> level);
        let mut layers = Vec::new();
        let mut conv =
            |name: String, cin: usize, cout: usize, k: usize, stride: usize, dilation: usize, level: usize| {
                let (h, w) = at(level);
                layers.push(ConvLayer {
                    name,
                    channels_in: cin,
                    channels_out: cout,
                    kernel: k,
                    stride,
                    dilation,
                    height: h,
                    width: w,
                });
            };
        let enc = self.encoder_channels;
        let e_out = self.edge_mode.channels();
        let with_edges = self.edge_mode != EdgeMode::None;
        if with_edges {
            for (detector, cin) in [("photo_edges", 3usize), ("depth_edges", 1)] {
                let mut prev = cin * f * f;
                for (i, &c) in self.edge_channels.iter().enumerate() {
                    let stride = if i == 0 { 1 } else { 2 };
                    conv(format!("{detector}.block{i}.a"), prev, c, 3, stride, 1, i);
                    conv(format!("{detector}.block{i}.b"), c, c, 3, 1, 1, i);
                    conv(format!("{detector}.side{i}"), c, e_out, 1, 1, 1, i);
                    prev = c;
                }
                conv(format!("{detector}.fuse"), 4 * e_out, e_out, 1, 1, 1, 0);
            }
        }
        let stem_in = (3 + usize::from(with_edges)) * f * f;
        conv("stem.a".into(), stem_in, enc[0], 3, 1, 1, 0);
        conv("stem.b".into(), enc[0], enc[0], 3, 1, 1, 0);
        for i in 0..4 {
            conv(format!("stage{}.a", i + 1), enc[i], enc[i + 1], 3, 2, 1, i + 1);
            conv(format!("stage{}.b", i + 1), enc[i + 1], enc[i + 1], 3, 1, 1, i + 1);
        }
        let branch = enc[4] / 2;
        for d in [1, 2, 4] {
            conv(format!("context.rate{d}"), enc[4], branch, 3, 1, d, 4);
        }
        conv("context.fuse".into(), 4 * branch, enc[4], 3, 1, 1, 4);
        for (decoder, outputs) in [("depth", 1usize), ("semantic", SEMANTIC_CLASSES)] {
            for i in (0..4).rev() {
                conv(format!("{decoder}.up{i}.up"), enc[i + 1], enc[i], 3, 1, 1, i);
                conv(format!("{decoder}.up{i}.merge"), 2 * enc[i], enc[i], 3, 1, 1, i);
                if self.seg_depth_attention && outputs == 1 {
                    conv(format!("attention{i}"), enc[i], enc[i], 1, 1, 1, i);
                }
            }
            conv(format!("{decoder}.head"), enc[0], outputs * f * f, 3, 1, 1, 0);
            if self.slope_head && outputs == 1 {
                conv("depth.slope_head".into(), enc[0], 2 * f * f, 3, 1, 1, 0);
            }
        }
        layers
    }

    fn flops(&self, height: usize, width: usize) -> u64 {
        self.conv_layers(height, width).iter().map(ConvLayer::flops).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::edge_detector_loss;
    use burn::optim::GradientsParams;
    use burn::tensor::TensorData;

    fn values(t: Tensor<4>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    /// A network of today's shape with 8 channels per encoder stage.
    fn tiny() -> MultiTaskConfig {
        MultiTaskConfig::new()
            .with_encoder_channels([8, 8, 8, 8, 8])
            .with_edge_channels([4, 4, 4, 4])
    }

    #[test]
    fn pixel_unshuffle_folds_blocks_into_channels_and_shuffle_undoes_it() {
        let device = Device::flex();
        let x = Tensor::<4>::from_data(
            TensorData::new((0..32).map(|v| v as f32).collect::<Vec<_>>(), [1, 2, 4, 4]),
            &device,
        );
        let folded = pixel_unshuffle(x.clone(), 2);
        assert_eq!(folded.dims(), [1, 8, 2, 2]);
        // Channel 1 of the first input channel holds pixel (0, 1) of each 2 × 2 block.
        assert_eq!(values(folded.clone().narrow(1, 1, 1)), vec![1.0, 3.0, 9.0, 11.0]);
        assert_eq!(values(pixel_shuffle(folded, 2)), values(x));
    }

    #[test]
    fn half_pixel_resize_maps_pixel_centres() {
        let device = Device::flex();
        let x = Tensor::<4>::from_data(TensorData::new(vec![0.0f32, 1.0, 2.0, 3.0], [1, 1, 2, 2]), &device);
        // PyTorch, align_corners = False: the first row of a 2× upsample is 0, ¼, ¾, 1.
        let up = values(resize(x.clone(), 4, 4, true));
        assert_eq!(&up[..4], &[0.0, 0.25, 0.75, 1.0]);
        let corners = values(resize(x, 4, 4, false));
        assert!((corners[1] - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn conv_layers_count_the_first_networks_flops_as_before() {
        // 11.79 GFLOPs per 512² image: the figure of the stage-1..3 model cards.
        assert_eq!(MultiTaskConfig::legacy().flops(512, 512), 11_789_402_112);
        let new = MultiTaskConfig::new();
        assert!(new.flops(512, 512) >= 5 * MultiTaskConfig::legacy().flops(512, 512));
    }

    #[test]
    fn a_slope_head_added_to_trained_weights_predicts_two_slopes_and_counts_its_flops() {
        let device = Device::flex();
        let config = tiny();
        let photo = Tensor::<4>::random([1, 3, 32, 64], burn::tensor::Distribution::Default, &device);
        let plain = config.init(&device);
        assert!(plain.forward(photo.clone()).slopes.is_none());
        let with_head = MultiTaskConfig {
            slope_head: true,
            ..config.clone()
        };
        let grown = plain.with_slope_head(&device);
        assert!(grown.has_slope_head());
        assert_eq!(grown.forward(photo).slopes.unwrap().dims(), [1, 2, 32, 64]);
        // 8 → 2·2² channels, 3 × 3, at half of 64²: 2 · 8 · 8 · 9 · 32².
        assert_eq!(with_head.flops(64, 64) - config.flops(64, 64), 2 * 8 * 8 * 9 * 32 * 32);
    }

    #[test]
    fn a_light_head_added_to_trained_weights_predicts_one_direction_per_photo() {
        let device = Device::flex();
        let config = tiny();
        let photo = Tensor::<4>::random([3, 3, 32, 64], burn::tensor::Distribution::Default, &device);
        let plain = config.init(&device);
        assert!(!plain.has_light_head() && plain.forward(photo.clone()).light.is_none());
        let grown = plain.with_light_head(&device);
        assert!(grown.has_light_head());
        assert_eq!(grown.forward(photo.clone()).light.unwrap().dims(), [3, 2]);
        let built = config.with_light_head(true).init(&device);
        assert_eq!(built.forward(photo).light.unwrap().dims(), [3, 2]);
    }

    #[test]
    fn the_depth_side_edge_loss_sends_no_gradient_to_the_depth_head() {
        let device = Device::flex().autodiff();
        device.seed(3);
        let config = tiny();
        let model = config.init(&device);
        let photo = Tensor::<4>::random([1, 3, 32, 32], burn::tensor::Distribution::Default, &device);
        let out = model.forward(photo);
        let mut one_hot = vec![0f32; 6 * 32 * 32];
        one_hot[3 * 32 * 32..4 * 32 * 32].fill(1.0);
        let one_hot = Tensor::<4>::from_data(TensorData::new(one_hot, [1, 6, 32, 32]), &device);
        let loss = edge_detector_loss(out.edges_depth.unwrap(), one_hot, EdgeMode::MultiClass, 0.2);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let head = model.depth_decoder.head.weight.id;
        assert!(grads.get::<4>(head).is_none(), "the depth head received a gradient");
        let detector = model.depth_edges.as_ref().unwrap().fuse.weight.id;
        assert!(grads.get::<4>(detector).is_some(), "the detector itself learns");
    }

    #[test]
    fn a_fused_depth_trains_both_the_height_and_the_slope_head() {
        let device = Device::flex().autodiff();
        device.seed(4);
        let model = tiny().with_slope_head(true).init(&device).with_slope_screen(0.01);
        let photo = Tensor::<4>::random([2, 3, 32, 32], burn::tensor::Distribution::Default, &device);
        let truth = Tensor::<4>::random([2, 1, 32, 32], burn::tensor::Distribution::Default, &device);
        let out = model.forward(photo);
        let height = out.height.expect("the height head's own output beside the fused depth");
        assert_ne!(values(height.clone()), values(out.depth.clone()), "nothing was fused");
        let grads = GradientsParams::from_grads(crate::loss::aligned_loss(out.depth, truth).backward(), &model);
        let height_head = model.depth_decoder.head.weight.id;
        let slope_head = model.slope_head.as_ref().unwrap().weight.id;
        assert!(
            grads.get::<4>(height_head).is_some(),
            "the height head received no gradient"
        );
        assert!(
            grads.get::<4>(slope_head).is_some(),
            "the slope head received no gradient"
        );
    }
}
