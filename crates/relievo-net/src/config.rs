//! The network's settings (`MultiTaskConfig`, its loss, the device choice, the inference
//! options) live in the burn-free `relievo-engine` crate, so the app can carry them without
//! burn; re-exported here under the paths the network's code names them by.

pub use relievo_engine::config::*;
