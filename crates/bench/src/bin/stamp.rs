//! The tiny program every benchmarked scheduler spawns: it appends its own start time
//! (nanoseconds since the epoch, read first thing) to the file named by its first argument.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let Some(path) = std::env::args().nth(1) else {
        return;
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        // One short write per stamp: appends of this size do not interleave.
        let _ = file.write_all(format!("{now}\n").as_bytes());
    }
}
