//! Helpers shared by the integration tests (each `tests/*.rs` that needs one declares
//! `mod common;`).

// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use std::process::Child;
use std::time::Instant;

/// Kill -9 at random moments: runs `spawn(0)` twice to the end to time a full run, then
/// 50 runs `spawn(1..=50)`, each killed after a random delay of up to twice a full run (so
/// kills land in every phase, the write included), calling `check()` after each. Some runs
/// must be killed and some must finish. `what` names the write in the summary line.
pub fn kill_at_random_moments(what: &str, spawn: &dyn Fn(usize) -> Child, check: &dyn Fn()) {
    // A full run is the faster of two: the first one also pays for cold caches.
    let full = (0..2)
        .map(|_| {
            let started = Instant::now();
            assert!(spawn(0).wait().unwrap().success(), "{what}: a run left alone failed");
            check();
            started.elapsed()
        })
        .min()
        .unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let (mut killed, mut finished) = (0, 0);
    for i in 1..=50 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let delay = full.mul_f64(2.0 * (state % 1000) as f64 / 1000.0);
        let mut child = spawn(i);
        std::thread::sleep(delay);
        let _ = child.kill();
        if child.wait().unwrap().success() {
            finished += 1;
        } else {
            killed += 1;
        }
        check();
    }
    eprintln!("{what}: {killed} runs killed, {finished} finished (a full run takes {full:?})");
    assert!(
        killed >= 10 && finished >= 3,
        "{what}: {killed} killed, {finished} finished: kills missed phases"
    );
}

/// How many temporary files of killed writes are left in `dir` (never read as results;
/// the next write there removes the stale ones).
pub fn temp_files_left(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".relievo-"))
        .count()
}

/// A child process running the `#[ignore]`d test `name` of this test binary, with `env`.
pub fn child_test(name: &str, env: &[(&str, String)]) -> Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", name, "--test-threads", "1"])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}
