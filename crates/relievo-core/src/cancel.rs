//! Cooperative cancellation: a flag that long library work (inference, meshing) polls
//! between its steps, set from another thread (the app's Cancel button). Work that sees
//! it set returns [`Cancelled`] at its next check and frees the CPU.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A shared cancel flag; clones share it. The default one is never set by anybody.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once the flag is set: `cancel.check()?` between steps.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() { Err(Cancelled) } else { Ok(()) }
    }
}

/// The work stopped because its [`Cancel`] was set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for Cancelled {}
