//! Peak resident memory for the benchmarks: `VmHWM` from `/proc/<pid>/status`, and the Linux
//! `clear_refs` reset that starts a new peak. Elsewhere the readings are `None`.

/// Peak resident set size of this process, in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    read_peak("/proc/self/status")
}

/// Peak resident set size of process `pid`, in KiB.
pub fn peak_rss_kib_of(pid: u32) -> Option<u64> {
    read_peak(&format!("/proc/{pid}/status"))
}

/// Peak resident set size of this process, in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    peak_rss_kib().map(kib_to_mib)
}

/// KiB as MiB.
pub fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Resets this process's peak to its current RSS (Linux `clear_refs` 5), so the next phase's
/// peak is its own; false where that is not possible.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn read_peak(status_path: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status_path).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_rss_is_read_from_proc() {
        assert!(peak_rss_mib().is_some_and(|m| m > 0.0));
        assert_eq!(peak_rss_kib_of(std::process::id()).map(|k| k > 0), Some(true));
    }
}
