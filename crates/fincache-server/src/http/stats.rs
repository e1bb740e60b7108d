//! The HTTP API's request counters: requests by route template, method and status, each with a
//! duration histogram, for `/metrics` (`fincache_http_requests_total`,
//! `fincache_http_request_duration_seconds`).
//!
//! Routes are counted by their template (`/api/v1/keys/{key}`), never by the concrete path, so
//! the number of series stays bounded whatever clients request; unmatched paths count as
//! `unmatched`. A duration is the time until the response head is ready (a WebSocket or an
//! event stream counts its set-up, not its lifetime).

use parking_lot::Mutex;
use std::collections::BTreeMap;

/// Upper bounds (seconds) of the request duration histogram buckets.
pub const REQUEST_BUCKETS_SECS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// One series: (route, method, status).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RequestKey {
    pub route: String,
    pub method: String,
    pub status: u16,
}

/// Counts and durations of one series. `buckets[i]` counts requests that took at most
/// `REQUEST_BUCKETS_SECS[i]` (and more than the bucket before); the last slot the slower ones.
#[derive(Debug, Clone, Default)]
pub struct RequestStat {
    pub count: u64,
    pub sum_secs: f64,
    pub buckets: [u64; REQUEST_BUCKETS_SECS.len() + 1],
}

/// Requests by route, method and status.
#[derive(Debug, Default)]
pub struct HttpStats {
    series: Mutex<BTreeMap<RequestKey, RequestStat>>,
}

impl HttpStats {
    /// Counts one finished request.
    pub fn observe(&self, route: &str, method: &str, status: u16, secs: f64) {
        let bucket = REQUEST_BUCKETS_SECS.partition_point(|&bound| bound < secs);
        let mut series = self.series.lock();
        let key = RequestKey {
            route: route.to_string(),
            method: method.to_string(),
            status,
        };
        let stat = series.entry(key).or_default();
        stat.count += 1;
        stat.sum_secs += secs;
        stat.buckets[bucket] += 1;
    }

    /// A copy of every series, in (route, method, status) order.
    pub fn snapshot(&self) -> Vec<(RequestKey, RequestStat)> {
        self.series
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_buckets() {
        let s = HttpStats::default();
        s.observe("/health", "GET", 200, 0.0001);
        s.observe("/health", "GET", 200, 0.002);
        s.observe("/health", "GET", 200, 60.0);
        let snap = s.snapshot();
        assert_eq!(snap.len(), 1);
        let stat = &snap[0].1;
        assert_eq!(stat.count, 3);
        assert_eq!(stat.buckets[0], 1);
        assert_eq!(stat.buckets[2], 1);
        assert_eq!(stat.buckets[REQUEST_BUCKETS_SECS.len()], 1);
    }
}
