//! The training-throughput benchmark behind `relievo model-info --bench-train`: full
//! training steps (forward, loss, backward, Adam) of a configuration at a crop and
//! batch, timed on a device, reported as samples/s and effective GFLOP/s (the
//! convolutions' forward FLOPs × 3 for forward + backward, per second of step). With
//! `layers`, each convolution of the network is also timed alone (forward + backward
//! at its own shape), which shows where the step's time goes.

use std::time::Instant;

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2dConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor};
use serde::Serialize;

use super::DEFAULT_MIN_CROP_FRACTION;
use super::data::{Source, augment, to_batch};
use crate::net::loss::total_loss;
use crate::net::model::ConvLayer;
use crate::net::{ConvShapes as _, InitNet as _, MultiTaskConfig, WeightsMeta};
use crate::rng::Rng;

/// One convolution timed alone.
#[derive(Clone, Debug, Serialize)]
pub struct LayerTime {
    #[serde(flatten)]
    pub layer: ConvLayer,
    /// Median forward + backward time for the whole batch.
    pub secs: f64,
    pub gflops_per_s: f64,
}

/// What [`bench_train`] measured.
#[derive(Clone, Debug, Serialize)]
pub struct TrainBench {
    pub crop_px: usize,
    pub batch: usize,
    pub steps: usize,
    /// Median wall time of one training step.
    pub step_secs: f64,
    pub train_samples_per_s: f64,
    /// Convolution FLOPs (forward × 3) of a step divided by its median time.
    pub train_gflops_per_s: f64,
    /// Forward GFLOPs of one training crop.
    pub gflops_per_crop: f64,
    pub gflops_per_image_512: f64,
    /// Per convolution, with `layers` (empty otherwise).
    pub layers: Vec<LayerTime>,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Whether [`bench_train`] can run these settings (a crop the network accepts, a
/// batch and steps ≥ 1).
pub fn check(config: &MultiTaskConfig, crop_px: usize, batch: usize, steps: usize) -> Result<(), String> {
    let multiple = config.size_multiple();
    if crop_px == 0 || crop_px % multiple != 0 || batch == 0 || steps == 0 {
        return Err(format!(
            "the benchmark needs a crop that is a multiple of {multiple} px, a batch and steps ≥ 1"
        ));
    }
    Ok(())
}

/// Times `steps` training steps (after one warm-up step) of a freshly initialised
/// `config` on `device`, on one batch of synthetic crops prepared beforehand (data
/// preparation runs on its own thread in training and is not counted).
pub fn bench_train(
    config: &MultiTaskConfig,
    crop_px: usize,
    batch: usize,
    steps: usize,
    layers: bool,
    device: &Device,
) -> Result<TrainBench, String> {
    check(config, crop_px, batch, steps)?;
    let train_device = device.clone().autodiff();
    train_device.seed(0);
    let mut model = config.init(&train_device);
    let mut optim = AdamConfig::new().init();
    let source = Source::Synthetic { size_px: 256 };
    let samples = (0..batch as u64)
        .map(|i| {
            let sample = source.example(0, i)?;
            Ok(augment(&sample, crop_px, DEFAULT_MIN_CROP_FRACTION, &mut Rng::new(i)))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let (photo, targets) = to_batch(&samples, &WeightsMeta::default(), &train_device);
    let mut times = Vec::with_capacity(steps);
    for step in 0..=steps {
        let t = Instant::now();
        let out = model.forward(photo.clone());
        let parts = total_loss(&out, &targets, &config.loss, config.edge_mode);
        let grads = GradientsParams::from_grads(parts.total.backward(), &model);
        model = optim.step(1e-4, model, grads);
        // Reading a parameter back waits for the step on asynchronous devices.
        let _ = model.num_params();
        if step > 0 {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    let step_secs = median(times);
    let gflops_per_crop = config.flops(crop_px, crop_px) as f64 / 1e9;
    let layers = if layers {
        config
            .conv_layers(crop_px, crop_px)
            .into_iter()
            .map(|layer| time_layer(layer, batch, &train_device))
            .collect()
    } else {
        Vec::new()
    };
    Ok(TrainBench {
        crop_px,
        batch,
        steps,
        step_secs,
        train_samples_per_s: batch as f64 / step_secs,
        train_gflops_per_s: 3.0 * gflops_per_crop * batch as f64 / step_secs,
        gflops_per_crop,
        gflops_per_image_512: config.flops(512, 512) as f64 / 1e9,
        layers,
    })
}

/// Forward + backward of one convolution at its shape, median of 3 after a warm-up.
fn time_layer(layer: ConvLayer, batch: usize, device: &Device) -> LayerTime {
    let pad = if layer.kernel == 1 { 0 } else { layer.dilation };
    let conv = Conv2dConfig::new([layer.channels_in, layer.channels_out], [layer.kernel, layer.kernel])
        .with_stride([layer.stride, layer.stride])
        .with_dilation([layer.dilation, layer.dilation])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(false)
        .init(device);
    let input = Tensor::<4>::random(
        [
            batch,
            layer.channels_in,
            layer.height * layer.stride,
            layer.width * layer.stride,
        ],
        Distribution::Normal(0.0, 1.0),
        device,
    )
    .require_grad();
    let mut times = Vec::new();
    for i in 0..4 {
        let t = Instant::now();
        let out = conv.forward(input.clone());
        let grads = out.sum().backward();
        let _ = input.grad(&grads);
        if i > 0 {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    let secs = median(times);
    let gflops_per_s = 3.0 * layer.flops() as f64 * batch as f64 / secs / 1e9;
    LayerTime {
        layer,
        secs,
        gflops_per_s,
    }
}
