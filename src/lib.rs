//! relievo: rebuild carved reliefs from a single old photo. One-way stages —
//! `photo` → `net` → `layers` → `relief` → `mesh` → `export` — with the synthetic
//! relief world (`synth`) and training (`train`) beside them; the CLI and the egui app
//! (`app`) are thin shells over them. Each layer is its own crate under `crates/`
//! (see ARCHITECTURE.md); this crate re-exports them under one name for the binary,
//! the tests and the benches.

pub use relievo_app as app;
pub use relievo_core::{
    cancel, compare, edit, export, filter, grid, labels, layers, mesh, metrics, photo, project, relief, repair, rng,
    scan, selection,
};
pub use relievo_engine as engine;
pub use relievo_net as net;
pub use relievo_synth as synth;
pub use relievo_train as train;
