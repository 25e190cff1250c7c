package processors

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics of the processors, process-wide (every processor of the process
// counts into them; app registers them with the API's registry).
var (
	deadLetters = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orchard_dead_letters_total", Help: "Input records that could not be decoded, validated or applied, by input topic and reason (tombstone, undecodable, too_large, key_mismatch, unknown_type, not_applied, invalid).",
	}, []string{"topic", "reason"})
	refusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orchard_refusals_total", Help: "Refusals the processors decided, by event type (claim_refused, open_refused, offer_refused, ...) and reason code.",
	}, []string{"type", "code"})
	sagaHop = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "orchard_saga_hop_seconds", Help: "From a command's write to its processing, by hop (the processor and the command type: lead/claim_reserved, rep/claim_requested, ...).",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"hop"})
	timerFireLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "orchard_timer_fire_lag_seconds", Help: "From a timer's due time to its fire (the ticker's period plus the trip through Kafka): the fire request the timer processor handles, or the timer_fired a lead's own timer sends it.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
	})
	eventsEmitted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orchard_events_total", Help: "Events the processors wrote, by type (assigned, claim_refused, sla_missed, escalated, ...).",
	}, []string{"type"})
)

// Collectors are the processors' metrics, to register.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{deadLetters, eventsEmitted, refusals, sagaHop, timerFireLag}
}

// observeHop records how long a command waited between its write (the
// record's timestamp) and its processing.
func observeHop(processor, command string, written time.Time) {
	if written.IsZero() {
		return
	}
	sagaHop.WithLabelValues(processor + "/" + command).Observe(max(time.Since(written), 0).Seconds())
}

// refusalCode bounds the code label: codes are short snake_case words;
// anything else (a free-text reason) counts as "other".
func refusalCode(reason string) string {
	if reason == "" || len(reason) > 32 || strings.IndexFunc(reason, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) >= 0 {
		return "other"
	}
	return reason
}
