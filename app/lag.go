package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
)

// lagCollector reports each Orchard consumer group's lag per topic at
// scrape time (records written and not yet committed by the group).
type lagCollector struct {
	adm    *kadm.Client
	groups []string
	desc   *prometheus.Desc
}

func newLagCollector(adm *kadm.Client, groups ...string) *lagCollector {
	return &lagCollector{adm: adm, groups: groups, desc: prometheus.NewDesc("orchard_consumer_lag",
		"Records not yet consumed and committed, by consumer group and topic (Goka processors, the ClickHouse sink).", []string{"group", "topic"}, nil)}
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	lags, err := c.adm.Lag(ctx, c.groups...)
	if err != nil {
		return // the broker is away: no figure rather than a failed scrape
	}
	lags.Each(func(l kadm.DescribedGroupLag) {
		if l.Error() != nil {
			return
		}
		for topic, t := range l.Lag.TotalByTopic() {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(t.Lag), l.Group, topic)
		}
	})
}
