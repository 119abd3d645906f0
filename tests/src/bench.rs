//! A small benchmark harness: each figure is measured beside its baseline in the same run.
//!
//! Under `cargo bench` (which passes `--bench`) every measurement runs fully; under
//! `cargo test --all-targets` the same code runs a few iterations only, as a smoke test.

use std::time::{Duration, Instant};

/// Whether this run is a full benchmark or a smoke test.
#[derive(Clone, Copy, Debug)]
pub struct Bench {
    full: bool,
}

impl Bench {
    /// Reads the mode from the command line (`--bench` means full).
    pub fn from_args() -> Self {
        Self {
            full: std::env::args().any(|a| a == "--bench"),
        }
    }

    /// Whether this is a full run.
    pub fn full(&self) -> bool {
        self.full
    }

    /// `full` in a full run, `smoke` otherwise.
    pub fn scale(&self, full: u64, smoke: u64) -> u64 {
        if self.full { full } else { smoke }
    }

    /// Median nanoseconds per call of `f`, over several rounds of `iters` calls.
    pub fn per_op(&self, iters: u64, mut f: impl FnMut()) -> f64 {
        let iters = self.scale(iters, 10).max(1);
        let rounds = self.scale(15, 1);
        let mut samples: Vec<f64> = (0..rounds)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..iters {
                    f();
                }
                start.elapsed().as_nanos() as f64 / iters as f64
            })
            .collect();
        median(&mut samples)
    }
}

/// The median of samples (sorts them).
pub fn median(samples: &mut [f64]) -> f64 {
    percentile(samples, 50.0)
}

/// A percentile of samples (sorts them); 0 for no samples.
pub fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[rank.min(samples.len() - 1)]
}

/// Formats a duration in the most readable unit.
pub fn show(ns: f64) -> String {
    let d = Duration::from_nanos(ns as u64);
    if ns < 1_000.0 {
        format!("{ns:.1} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1_000.0)
    }
}

/// The median of the ratios of paired samples (`values[i] / baselines[i]`, one pair per
/// round), the figure a comparison in rotating rounds reports.
pub fn median_ratio(values: &[f64], baselines: &[f64]) -> f64 {
    let mut ratios: Vec<f64> = values.iter().zip(baselines).map(|(v, b)| v / b).collect();
    median(&mut ratios)
}

/// One result line: the figure, its baseline, and their ratio.
pub fn line(name: &str, value: f64, baseline_name: &str, baseline: f64) -> String {
    let ratio = if baseline > 0.0 {
        value / baseline
    } else {
        f64::NAN
    };
    format!(
        "{name:<48} {:>10}   baseline {baseline_name}: {:>10}   ratio {ratio:.2}",
        show(value),
        show(baseline)
    )
}

/// The order in which to run `len` compared variants in round `round`: each round starts one
/// variant later, so none always runs first (or right after another), and drift in the
/// machine's load or position effects hit all variants alike.
pub fn rotation(round: usize, len: usize) -> impl Iterator<Item = usize> {
    (0..len).map(move |j| (j + round) % len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_sorted_and_unsorted_samples() {
        let mut s = [5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(median(&mut s), 3.0);
        assert_eq!(percentile(&mut s, 100.0), 5.0);
        assert_eq!(percentile(&mut s, 0.0), 1.0);
        assert_eq!(percentile(&mut [], 50.0), 0.0);
    }

    #[test]
    fn rotation_starts_each_round_one_variant_later() {
        let orders: Vec<Vec<usize>> = (0..4).map(|r| rotation(r, 3).collect()).collect();
        assert_eq!(
            orders,
            [vec![0, 1, 2], vec![1, 2, 0], vec![2, 0, 1], vec![0, 1, 2]]
        );
    }
}
