//! relievo: rebuild carved reliefs from a single old photo. A library of one-way
//! stages — `photo` → `net` → `layers` → `relief` → `mesh` → `export` — with the
//! synthetic relief world (`synth`) and training (`train`) beside them; the CLI and
//! the egui app (`app`) are thin shells over it. See ARCHITECTURE.md.

pub mod app;
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
pub mod net;
pub mod photo;
pub mod project;
pub mod relief;
pub mod repair;
pub mod rng;
pub mod synth;
pub mod train;
