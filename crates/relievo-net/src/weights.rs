//! Weights on disk: a folder with `model.bpk` (burn record), `config.json`
//! ([`MultiTaskConfig`]) and `meta.json` ([`WeightsMeta`]: format version, class
//! names, input normalisation, training provenance). Every file is written
//! atomically; a missing, corrupt or mismatched file is one clear error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::config::MultiTaskConfig;
use super::model::{InitNet as _, MultiTaskNet};
use crate::export::atomic_write_all;
use crate::labels::SEMANTIC_NAMES;

/// Bumped when the folder layout or the meaning of a field changes.
pub const FORMAT_VERSION: u32 = 1;
pub const MODEL_FILE: &str = "model.bpk";
pub const CONFIG_FILE: &str = "config.json";
pub const META_FILE: &str = "meta.json";

/// Where trained weights came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Provenance {
    /// e.g. "synthetic relief world, seeds 0..", or the dataset folder.
    pub data: String,
    /// The weights training started from ("" = random initialisation).
    pub init: String,
    pub steps: u64,
    pub wall_time_secs: f64,
    /// Free text: command line, machine, date.
    pub notes: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightsMeta {
    pub format_version: u32,
    pub semantic_classes: Vec<String>,
    pub edge_classes: usize,
    /// Photo normalisation: (rgb − mean) / std, rgb in 0..1.
    pub mean: [f32; 3],
    pub std: [f32; 3],
    /// The longest photo side the network was trained to see (inference resizes to it).
    pub working_side_px: usize,
    pub provenance: Provenance,
}

impl Default for WeightsMeta {
    fn default() -> Self {
        Self {
            format_version: FORMAT_VERSION,
            semantic_classes: SEMANTIC_NAMES.iter().map(|s| s.to_string()).collect(),
            edge_classes: crate::labels::EDGE_CLASSES,
            mean: [0.5; 3],
            std: [0.25; 3],
            working_side_px: 512,
            provenance: Provenance::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("{path}: weights not found (expected a folder with {MODEL_FILE}, {CONFIG_FILE} and {META_FILE})")]
    Missing { path: PathBuf },
    #[error("{path}: corrupt weights file: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path}: weights do not match: {reason}")]
    Mismatch { path: PathBuf, reason: String },
    #[error("cannot save weights: {0}")]
    Write(#[from] crate::export::ExportError),
}

/// A loaded network with its configuration and metadata.
#[derive(Clone, Debug)]
pub struct Weights {
    pub model: MultiTaskNet,
    pub config: MultiTaskConfig,
    pub meta: WeightsMeta,
}

fn read(path: &Path) -> Result<Vec<u8>, WeightsError> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => WeightsError::Missing {
            path: path.to_path_buf(),
        },
        _ => WeightsError::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        },
    })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, WeightsError> {
    serde_json::from_slice(&read(path)?).map_err(|e| WeightsError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Reads `config.json`; fields it lacks (switches added after it was written) take
/// the values they had before they existed ([`MultiTaskConfig::legacy`]), so weights
/// saved by an older relievo still load and mean what they meant.
fn read_config(path: &Path) -> Result<MultiTaskConfig, WeightsError> {
    fn fill_defaults(value: &mut serde_json::Value, defaults: serde_json::Value) {
        if let (Some(fields), serde_json::Value::Object(defaults)) = (value.as_object_mut(), defaults) {
            for (key, default) in defaults {
                match fields.get_mut(&key) {
                    Some(field) => fill_defaults(field, default),
                    None => {
                        fields.insert(key, default);
                    }
                }
            }
        }
    }
    let mut value: serde_json::Value = read_json(path)?;
    fill_defaults(
        &mut value,
        serde_json::to_value(MultiTaskConfig::legacy()).expect("config serialises"),
    );
    serde_json::from_value(value).map_err(|e| WeightsError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Loads weights from `dir` onto `device`.
pub fn load(dir: &Path, device: &Device) -> Result<Weights, WeightsError> {
    if !dir.is_dir() {
        return Err(WeightsError::Missing {
            path: dir.to_path_buf(),
        });
    }
    let meta_path = dir.join(META_FILE);
    let meta: WeightsMeta = read_json(&meta_path)?;
    if meta.format_version != FORMAT_VERSION {
        return Err(WeightsError::Mismatch {
            path: meta_path,
            reason: format!(
                "format version {} (this relievo reads {FORMAT_VERSION})",
                meta.format_version
            ),
        });
    }
    if meta.semantic_classes.len() != SEMANTIC_NAMES.len() || meta.edge_classes != crate::labels::EDGE_CLASSES {
        return Err(WeightsError::Mismatch {
            path: meta_path,
            reason: format!(
                "{} semantic / {} edge classes (expected {} / {})",
                meta.semantic_classes.len(),
                meta.edge_classes,
                SEMANTIC_NAMES.len(),
                crate::labels::EDGE_CLASSES
            ),
        });
    }
    let config_path = dir.join(CONFIG_FILE);
    let config = read_config(&config_path)?;
    config.check().map_err(|reason| WeightsError::Mismatch {
        path: config_path,
        reason,
    })?;
    let model_path = dir.join(MODEL_FILE);
    let bytes = read(&model_path)?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| WeightsError::Corrupt {
        path: model_path.clone(),
        reason: e.to_string(),
    })?;
    // burn panics on some damaged records (a tensor whose stored type was altered, found
    // by tests/fuzz.rs): a damaged file must be an error, not the end of the app.
    let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        config.init(device).try_load_record(record)
    }));
    let model = match loaded {
        Ok(Ok(model)) => model,
        Ok(Err(e)) => {
            return Err(WeightsError::Mismatch {
                path: model_path,
                reason: format!("{e} (does config.json belong to it?)"),
            });
        }
        Err(_) => {
            return Err(WeightsError::Corrupt {
                path: model_path,
                reason: "its tensors cannot be read (damaged file)".into(),
            });
        }
    };
    Ok(Weights { model, config, meta })
}

/// Saves `model` with its config and metadata into `dir` (created if needed).
pub fn save(
    dir: &Path,
    model: &MultiTaskNet,
    config: &MultiTaskConfig,
    meta: &WeightsMeta,
) -> Result<(), WeightsError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        WeightsError::Write(crate::export::ExportError::Io {
            path: dir.to_path_buf(),
            source: e,
        })
    })?;
    let bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| WeightsError::Corrupt {
            path: dir.join(MODEL_FILE),
            reason: e.to_string(),
        })?;
    let config_json = serde_json::to_vec_pretty(config).expect("config serialises");
    let meta_json = serde_json::to_vec_pretty(meta).expect("meta serialises");
    // All three written before any is renamed into place: overwriting weights of another
    // shape never leaves a model that its config does not describe.
    let (model_path, config_path, meta_path) = (dir.join(MODEL_FILE), dir.join(CONFIG_FILE), dir.join(META_FILE));
    atomic_write_all(&[
        (&model_path, &bytes),
        (&config_path, &config_json),
        (&meta_path, &meta_json),
    ])?;
    Ok(())
}

/// What [`interpolate`] did, tensor by tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterpolateReport {
    /// Tensors both networks have (weights and batch-norm statistics), interpolated.
    pub blended: usize,
    /// Tensors only the tuned network has (e.g. a head added by its run), kept as they are.
    pub tuned_only: usize,
    /// Tensors only the base network has, dropped.
    pub base_only: usize,
}

/// Every float tensor of `model` (weights and batch-norm statistics) by its path in the
/// module, e.g. `"stem.conv.weight"`.
pub fn float_tensors(model: &MultiTaskNet) -> HashMap<String, TensorData> {
    use burn::module::{ModuleVisitor, Param};
    #[derive(Default)]
    struct Collect {
        path: Vec<String>,
        tensors: HashMap<String, TensorData>,
    }
    impl ModuleVisitor for Collect {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.tensors.insert(self.path.join("."), param.val().to_data());
        }
    }
    let mut collect = Collect::default();
    model.visit(&mut collect);
    collect.tensors
}

/// Weight-space interpolation of a fine-tuned network with the network it started from,
/// `(1 − alpha)·base + alpha·tuned` tensor by tensor (WiSE-FT, Wortsman et al. 2022:
/// on photos unlike the fine-tuning data the blend often does better than either end).
/// The result has `tuned`'s configuration and metadata. Both must be the same network:
/// tensors are matched by their path in the module, and a shared path with another
/// shape is an error.
pub fn interpolate(base: &Weights, tuned: &Weights, alpha: f32) -> Result<(Weights, InterpolateReport), String> {
    let (model, report) = blend(&base.model, tuned.model.clone(), alpha)?;
    if report.blended == 0 {
        return Err("the two weights have no tensor in common".into());
    }
    Ok((
        Weights {
            model,
            config: tuned.config.clone(),
            meta: tuned.meta.clone(),
        },
        report,
    ))
}

/// `(1 − alpha)·base + alpha·tuned`, tensor by tensor, matched by path ([`interpolate`]'s
/// arithmetic; also a training run's moving average of its weights). Tensors only `tuned`
/// has are kept as they are.
pub fn blend(
    base: &MultiTaskNet,
    tuned: MultiTaskNet,
    alpha: f32,
) -> Result<(MultiTaskNet, InterpolateReport), String> {
    use burn::module::{ModuleMapper, Param};

    if !(0.0..=1.0).contains(&alpha) {
        return Err(format!("alpha must be within 0..1, got {alpha}"));
    }
    /// `base`'s tensors by path, flattened, on their device (a training run blends every
    /// step: no copy to host memory and back).
    #[derive(Default)]
    struct Flat {
        path: Vec<String>,
        tensors: HashMap<String, (Vec<usize>, Tensor<1>)>,
    }
    impl burn::module::ModuleVisitor for Flat {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let t = param.val();
            let dims = t.dims();
            self.tensors.insert(
                self.path.join("."),
                (dims.to_vec(), t.reshape([dims.iter().product::<usize>()])),
            );
        }
    }
    struct Blend {
        path: Vec<String>,
        base: HashMap<String, (Vec<usize>, Tensor<1>)>,
        alpha: f32,
        report: InterpolateReport,
        mismatch: Option<String>,
    }
    impl ModuleMapper for Blend {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let path = self.path.join(".");
            let Some((base_shape, base)) = self.base.remove(&path) else {
                self.report.tuned_only += 1;
                return param;
            };
            let shape = param.val().dims();
            if base_shape.as_slice() != shape.as_slice() {
                self.mismatch
                    .get_or_insert(format!("{path} is {base_shape:?} in one and {shape:?} in the other"));
                return param;
            }
            self.report.blended += 1;
            let alpha = self.alpha;
            param.map(|tuned| tuned.mul_scalar(alpha).add(base.reshape(shape).mul_scalar(1.0 - alpha)))
        }
    }

    let mut flat = Flat::default();
    base.visit(&mut flat);
    let mut blend = Blend {
        path: Vec::new(),
        base: flat.tensors,
        alpha,
        report: InterpolateReport {
            blended: 0,
            tuned_only: 0,
            base_only: 0,
        },
        mismatch: None,
    };
    let model = tuned.map(&mut blend);
    if let Some(mismatch) = blend.mismatch {
        return Err(format!("the two weights are not the same network: {mismatch}"));
    }
    let report = InterpolateReport {
        base_only: blend.base.len(),
        ..blend.report
    };
    Ok((model, report))
}

/// Copies the weights folder `from` into `to` (created if needed) as they are on disk, the
/// three files together: all of them or, on any failure, none changes under `to`.
pub fn copy(from: &Path, to: &Path) -> Result<(), WeightsError> {
    let names = [MODEL_FILE, CONFIG_FILE, META_FILE];
    let bytes = names.map(|name| read(&from.join(name)));
    let bytes = bytes.into_iter().collect::<Result<Vec<_>, _>>()?;
    std::fs::create_dir_all(to).map_err(|e| {
        WeightsError::Write(crate::export::ExportError::Io {
            path: to.to_path_buf(),
            source: e,
        })
    })?;
    let paths = names.map(|name| to.join(name));
    let files: Vec<(&Path, &[u8])> = paths
        .iter()
        .map(PathBuf::as_path)
        .zip(bytes.iter().map(Vec::as_slice))
        .collect();
    atomic_write_all(&files)?;
    Ok(())
}

/// The weights shipped with relievo, first found of: `$RELIEVO_MODELS/default`;
/// `share/relievo/models/default` beside the executable's `bin/` (an install under
/// `/usr`, `/usr/local` or `~/.local`); under cargo (`cargo run`, `cargo test`),
/// `models/default` in the tree it runs in; `models/default` in the source tree the binary
/// was built from; `/usr/share/relievo/models/default`. (Checkouts that share a target
/// directory share compiled crates, so the tree compiled in may be another checkout.)
pub fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("RELIEVO_MODELS") {
        return PathBuf::from(dir).join("default");
    }
    // This crate lives in `crates/relievo-net` of the workspace.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap_or(Path::new("."));
    let source_tree = workspace.join("models/default");
    let beside_bin = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("share/relievo/models/default")));
    let cargo_tree = std::env::var_os("CARGO_MANIFEST_DIR").and_then(|dir| {
        Path::new(&dir)
            .ancestors()
            .map(|a| a.join("models/default"))
            .find(|p| p.is_dir())
    });
    beside_bin
        .into_iter()
        .chain(cargo_tree)
        .chain([source_tree.clone(), PathBuf::from("/usr/share/relievo/models/default")])
        .find(|p| p.is_dir())
        .unwrap_or(source_tree)
}
