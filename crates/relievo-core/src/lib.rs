//! relievo's core: everything between a photo and a printable solid that needs neither
//! the network (burn) nor the window (egui/wgpu). Grids and filters, photo loading,
//! the layers' files, labels and metrics, the relief's physical parameters, the
//! mesher, exports, the edit layer, damage repair, scan comparison and project files.
//! The network (`relievo-net`), training (`relievo-train`), the synthetic world
//! (`relievo-synth`) and the app (`relievo-app`) build on it; nothing here names them.

pub mod cancel;
pub mod compare;
pub mod edit;
pub mod export;
pub mod filter;
pub mod grid;
pub mod labels;
pub mod layers;
pub mod mesh;
pub mod metrics;
pub mod photo;
pub mod project;
pub mod relief;
pub mod repair;
pub mod rng;
pub mod scan;
pub mod selection;
