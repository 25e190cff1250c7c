package analytics

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the ClickHouse sink, process-wide.
var (
	sinkRows = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orchard_sink_rows_total", Help: "Events the sink handled: inserted, or skipped (already in ClickHouse, or undecodable).",
	}, []string{"result"})
	sinkBatch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "orchard_sink_batch_rows", Help: "Rows per insert.", Buckets: prometheus.ExponentialBuckets(1, 4, 10),
	})
	sinkInsert = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "orchard_sink_insert_seconds", Help: "Time of one insert into ClickHouse.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	})
	sinkErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "orchard_sink_insert_errors_total", Help: "Inserts that failed (each is retried until it succeeds).",
	})
	sinkQueryable = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "orchard_sink_event_age_seconds", Help: "Age of an event (its event time) when it became queryable in ClickHouse.",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
	})
)

func init() {
	sinkRows.WithLabelValues("inserted") // zero is a figure
	sinkRows.WithLabelValues("skipped")
}

// Collectors are the sink's metrics, to register.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{sinkRows, sinkBatch, sinkInsert, sinkErrors, sinkQueryable}
}
