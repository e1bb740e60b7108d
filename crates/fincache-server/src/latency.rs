//! The latency monitor (LATENCY LATEST/HISTORY/RESET): per event class, the worst latency of
//! each of the last 160 seconds in which that event passed `latency-monitor-threshold`
//! milliseconds, plus the all-time maximum.
//!
//! Mirrors Redis's `latency.c`: a sample in the same second as the previous one only raises it;
//! events appear on their first sample and vanish on RESET. The dispatcher records `command`
//! for slow commands and `fast-command` for slow commands flagged fast, as Redis's `call()` does.
//! The threshold is mirrored into an atomic so the per-command check is one relaxed load.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Samples kept per event (Redis's `LATENCY_TS_LEN`).
pub const HISTORY_LEN: usize = 160;

/// One second's worst latency of an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// Unix seconds; 0 marks an unused slot.
    pub time: u64,
    pub latency_ms: u64,
}

/// The history of one event class.
#[derive(Debug, Clone)]
pub struct EventSeries {
    samples: [Sample; HISTORY_LEN],
    /// The slot the next new second goes to.
    next: usize,
    pub max_ms: u64,
}

impl EventSeries {
    fn new() -> Self {
        EventSeries {
            samples: [Sample::default(); HISTORY_LEN],
            next: 0,
            max_ms: 0,
        }
    }

    fn add(&mut self, now_s: u64, latency_ms: u64) {
        self.max_ms = self.max_ms.max(latency_ms);
        let prev = (self.next + HISTORY_LEN - 1) % HISTORY_LEN;
        if self.samples[prev].time == now_s {
            let p = &mut self.samples[prev];
            p.latency_ms = p.latency_ms.max(latency_ms);
            return;
        }
        self.samples[self.next] = Sample {
            time: now_s,
            latency_ms,
        };
        self.next = (self.next + 1) % HISTORY_LEN;
    }

    /// The most recent sample.
    pub fn latest(&self) -> Sample {
        self.samples[(self.next + HISTORY_LEN - 1) % HISTORY_LEN]
    }

    /// Every recorded sample, oldest first.
    pub fn history(&self) -> Vec<Sample> {
        (0..HISTORY_LEN)
            .map(|j| self.samples[(self.next + j) % HISTORY_LEN])
            .filter(|s| s.time != 0)
            .collect()
    }
}

#[derive(Debug)]
pub struct LatencyMonitor {
    /// Event name → history, in order of first appearance.
    events: Mutex<Vec<(String, EventSeries)>>,
    /// Mirror of `latency-monitor-threshold` in milliseconds (0: disabled).
    threshold_ms: AtomicU64,
}

impl LatencyMonitor {
    pub fn new(threshold_ms: u64) -> Self {
        LatencyMonitor {
            events: Mutex::new(Vec::new()),
            threshold_ms: AtomicU64::new(threshold_ms),
        }
    }

    /// Takes a new threshold (after CONFIG SET).
    pub fn refresh(&self, threshold_ms: u64) {
        self.threshold_ms.store(threshold_ms, Ordering::Relaxed);
    }

    /// Whether a latency of `latency_ms` is worth recording (Redis's
    /// `latencyAddSampleIfNeeded`).
    #[inline]
    pub fn wants(&self, latency_ms: u64) -> bool {
        let t = self.threshold_ms.load(Ordering::Relaxed);
        t != 0 && latency_ms >= t
    }

    /// Records a sample if it passes the threshold.
    #[inline]
    pub fn add_if_needed(&self, event: &str, latency_ms: u64, now_s: u64) {
        if self.wants(latency_ms) {
            self.add(event, latency_ms, now_s);
        }
    }

    /// Records a sample unconditionally.
    pub fn add(&self, event: &str, latency_ms: u64, now_s: u64) {
        let mut events = self.events.lock();
        match events.iter_mut().find(|(name, _)| name == event) {
            Some((_, series)) => series.add(now_s, latency_ms),
            None => {
                let mut series = EventSeries::new();
                series.add(now_s, latency_ms);
                events.push((event.to_string(), series));
            }
        }
    }

    /// Every event with its latest sample and all-time maximum.
    pub fn latest(&self) -> Vec<(String, Sample, u64)> {
        self.events
            .lock()
            .iter()
            .map(|(name, s)| (name.clone(), s.latest(), s.max_ms))
            .collect()
    }

    /// The samples of one event (exact, case-sensitive name as Redis's dict lookup), oldest
    /// first; empty when the event is unknown.
    pub fn history(&self, event: &[u8]) -> Vec<Sample> {
        self.events
            .lock()
            .iter()
            .find(|(name, _)| name.as_bytes() == event)
            .map(|(_, s)| s.history())
            .unwrap_or_default()
    }

    /// Drops one event's data (matched case-insensitively, as Redis does), or every event's
    /// for None. Returns how many events were dropped.
    pub fn reset(&self, event: Option<&[u8]>) -> usize {
        let mut events = self.events.lock();
        let before = events.len();
        match event {
            None => events.clear(),
            Some(e) => events.retain(|(name, _)| !name.as_bytes().eq_ignore_ascii_case(e)),
        }
        before - events.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_second_keeps_max() {
        let m = LatencyMonitor::new(10);
        m.add_if_needed("command", 5, 100);
        assert!(m.latest().is_empty());
        m.add_if_needed("command", 20, 100);
        m.add_if_needed("command", 15, 100);
        m.add_if_needed("command", 12, 101);
        let h = m.history(b"command");
        assert_eq!(
            h,
            vec![
                Sample {
                    time: 100,
                    latency_ms: 20
                },
                Sample {
                    time: 101,
                    latency_ms: 12
                }
            ]
        );
        let l = m.latest();
        assert_eq!(l[0].0, "command");
        assert_eq!(l[0].1.latency_ms, 12);
        assert_eq!(l[0].2, 20);
    }

    #[test]
    fn ring_wraps_and_reset() {
        let m = LatencyMonitor::new(1);
        for s in 1..=200u64 {
            m.add_if_needed("command", s, s);
        }
        let h = m.history(b"command");
        assert_eq!(h.len(), HISTORY_LEN);
        assert_eq!(h[0].time, 41);
        assert_eq!(h[HISTORY_LEN - 1].time, 200);
        m.add("fast-command", 3, 5);
        assert_eq!(m.reset(Some(b"COMMAND")), 1);
        assert_eq!(m.reset(Some(b"nope")), 0);
        assert_eq!(m.reset(None), 1);
        assert!(m.history(b"command").is_empty());
    }

    #[test]
    fn disabled_at_zero() {
        let m = LatencyMonitor::new(0);
        m.add_if_needed("command", 1000, 1);
        assert!(m.latest().is_empty());
    }
}
