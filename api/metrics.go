package api

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the API's Prometheus metrics, on a registry of their own so
// that several servers can live in one test process.
type Metrics struct {
	Registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	decisions *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	// TimersReconciled counts timers the reconciler found missing and
	// scheduled again, by kind: each one is a lost timer caught.
	TimersReconciled *prometheus.CounterVec
	// TimersDue and TimerOldestDue are the ticker's backlog after its
	// last scan: due timers not fired yet, and how overdue the oldest is.
	TimersDue      prometheus.Gauge
	TimerOldestDue prometheus.Gauge
}

func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orchard_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orchard_decisions_total", Help: "Decisions returned to API callers, by command and outcome (ok or the refusal code).",
		}, []string{"command", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "orchard_decision_seconds", Help: "Time from an API command to its decision (HTTP -> Kafka -> processors -> HTTP).",
			Buckets: []float64{.001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"command"}),
		TimersReconciled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orchard_timers_reconciled_total", Help: "Timers an assigned or held lead still needed whose row was missing, scheduled again by the reconciler.",
		}, []string{"kind"}),
	}
	m.TimersDue = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "orchard_timers_due", Help: "Timers due and not fired yet at the ticker's last scan (this instance's view of the timers table).",
	})
	m.TimerOldestDue = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "orchard_timer_oldest_due_seconds", Help: "How far past its due time the oldest due timer was at the ticker's last scan (0: none due).",
	})
	reg.MustRegister(m.requests, m.decisions, m.latency, m.TimersReconciled, m.TimersDue, m.TimerOldestDue,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
