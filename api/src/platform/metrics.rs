//! Prometheus metrics at `/metrics`.

use std::time::Duration;

use poem::http::{Method, StatusCode};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "permit_http_requests_total",
                "HTTP requests by method and status",
            ),
            &["method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "permit_http_request_duration_seconds",
                "HTTP request latency",
            ),
            &["method"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
        })
    }

    pub fn observe(&self, method: &Method, status: StatusCode, elapsed: Duration) {
        self.requests
            .with_label_values(&[method.as_str(), status.as_str()])
            .inc();
        self.latency
            .with_label_values(&[method.as_str()])
            .observe(elapsed.as_secs_f64());
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}
