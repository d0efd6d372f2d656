//! Where the network runs. `auto` takes a hardware wgpu adapter (Vulkan, Metal,
//! DX12) and otherwise burn's `flex` CPU backend with a visible notice. Software
//! adapters (Mesa lavapipe/llvmpipe) never count as a GPU: burn-wgpu 0.22.1 computes
//! long reductions wrongly there (see `tests/net_device.rs`).

use burn::tensor::{Device, DeviceKind};

pub use crate::config::DeviceChoice;

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("no hardware GPU adapter found ({0}); use --device cpu or auto")]
    NoGpu(String),
}

/// A device the network can run on, with a label for the status bar.
#[derive(Clone, Debug)]
pub struct ComputeDevice {
    pub device: Device,
    /// e.g. "GPU — NVIDIA GeForce RTX 3060 (Vulkan)" or "CPU — no GPU found".
    pub label: String,
    pub is_gpu: bool,
}

/// A wgpu adapter as seen on this machine.
#[derive(Clone, Debug)]
pub struct AdapterInfo {
    pub name: String,
    pub backend: String,
    pub kind: wgpu::DeviceType,
}

impl AdapterInfo {
    /// Discrete or integrated GPUs only; CPU (software) and virtual adapters are not.
    pub fn is_hardware(&self) -> bool {
        matches!(
            self.kind,
            wgpu::DeviceType::DiscreteGpu | wgpu::DeviceType::IntegratedGpu
        )
    }
}

/// Every wgpu adapter on the primary backends (Vulkan, Metal, DX12, WebGPU).
pub fn adapters() -> Vec<AdapterInfo> {
    let instance = wgpu::Instance::default();
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY))
        .into_iter()
        .map(|a| {
            let info = a.get_info();
            AdapterInfo {
                name: info.name,
                backend: format!("{:?}", info.backend),
                kind: info.device_type,
            }
        })
        .collect()
}

fn hardware_device(adapters: &[AdapterInfo]) -> Option<ComputeDevice> {
    // burn numbers devices per type in wgpu's enumeration order; prefer discrete.
    for wanted in [wgpu::DeviceType::DiscreteGpu, wgpu::DeviceType::IntegratedGpu] {
        let same: Vec<&AdapterInfo> = adapters.iter().filter(|a| a.kind == wanted).collect();
        if let Some(first) = same.first() {
            let kind = match wanted {
                wgpu::DeviceType::DiscreteGpu => DeviceKind::DiscreteGpu(0),
                _ => DeviceKind::IntegratedGpu(0),
            };
            return Some(ComputeDevice {
                device: Device::wgpu(kind),
                label: format!("GPU — {} ({})", first.name, first.backend),
                is_gpu: true,
            });
        }
    }
    None
}

fn cpu(reason: &str) -> ComputeDevice {
    ComputeDevice {
        device: Device::flex(),
        label: format!("CPU — {reason}"),
        is_gpu: false,
    }
}

fn describe(adapters: &[AdapterInfo]) -> String {
    if adapters.is_empty() {
        "no wgpu adapters".into()
    } else {
        let names: Vec<String> = adapters.iter().map(|a| format!("{} [{:?}]", a.name, a.kind)).collect();
        format!("only {}", names.join(", "))
    }
}

/// Picks the device for `choice`.
pub fn select(choice: DeviceChoice) -> Result<ComputeDevice, DeviceError> {
    match choice {
        DeviceChoice::Cpu => Ok(cpu("forced by --device cpu")),
        DeviceChoice::Gpu => {
            let found = adapters();
            hardware_device(&found).ok_or_else(|| DeviceError::NoGpu(describe(&found)))
        }
        DeviceChoice::Auto => Ok(hardware_device(&adapters()).unwrap_or_else(|| cpu("no GPU found"))),
    }
}

/// The software (CPU) wgpu adapter, e.g. Mesa lavapipe, if one exists: for tests
/// that compare wgpu with flex on machines without a GPU. Never used by `select`.
pub fn software_wgpu() -> Option<Device> {
    adapters()
        .iter()
        .any(|a| a.kind == wgpu::DeviceType::Cpu)
        .then(|| Device::wgpu(DeviceKind::Cpu))
}
