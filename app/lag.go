package app

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/orchard-leads/orchard/bus"
)

// lagCollector reports each Orchard consumer group's lag per topic at
// scrape time, per partition (records written and not yet committed by
// the group): one hot or stuck partition shows, not only a total.
type lagCollector struct {
	adm    *kadm.Client
	groups []string
	desc   *prometheus.Desc
}

func newLagCollector(adm *kadm.Client, groups ...string) *lagCollector {
	return &lagCollector{adm: adm, groups: groups, desc: prometheus.NewDesc("orchard_consumer_lag",
		"Records not yet consumed and committed, by consumer group, topic and partition (Goka processors, the ClickHouse sink).", []string{"group", "topic", "partition"}, nil)}
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	lags, err := c.adm.Lag(ctx, c.groups...)
	if err != nil {
		return // the broker is away: no figure rather than a failed scrape
	}
	c.emit(lags, ch)
}

func (c *lagCollector) emit(lags kadm.DescribedGroupLags, ch chan<- prometheus.Metric) {
	lags.Each(func(l kadm.DescribedGroupLag) {
		if l.Error() != nil {
			return
		}
		for topic, parts := range l.Lag {
			for p, ml := range parts {
				if !bus.Measured(ml) {
					continue // not listed this scrape: kadm's -1 would pull sum() down
				}
				ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(ml.Lag), l.Group, topic, strconv.Itoa(int(p)))
			}
		}
	})
}
