package app

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
)

// A partition kadm could not list (lag -1) is left out of the scrape: a
// -1 gauge would lower the alert rule's sum by (group, topic).
func TestLagCollectorLeavesOutWhatItCouldNotList(t *testing.T) {
	c := newLagCollector(nil, "g")
	lags := kadm.DescribedGroupLags{"g": {Group: "g", Lag: kadm.GroupLag{"in": {
		0: {Topic: "in", Partition: 0, Lag: 7},
		1: {Topic: "in", Partition: 1, Lag: -1, Err: errors.New("end offset missing")},
	}}}}
	ch := make(chan prometheus.Metric, 4)
	c.emit(lags, ch)
	close(ch)
	var got []float64
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		got = append(got, d.GetGauge().GetValue())
	}
	if len(got) != 1 || got[0] != 7 {
		t.Fatalf("gauges %v, want only partition 0's 7", got)
	}
}
