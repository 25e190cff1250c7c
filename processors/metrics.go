package processors

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the processors, process-wide (every processor of the process
// counts into them; app registers them with the API's registry).
var (
	deadLetters = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orchard_dead_letters_total", Help: "Input records that could not be decoded, validated or applied, by input topic.",
	}, []string{"topic"})
	eventsEmitted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orchard_events_total", Help: "Events the processors wrote, by type (assigned, claim_refused, sla_missed, escalated, ...).",
	}, []string{"type"})
)

// Collectors are the processors' metrics, to register.
func Collectors() []prometheus.Collector { return []prometheus.Collector{deadLetters, eventsEmitted} }
