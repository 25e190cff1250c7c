package analytics

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/orchard-leads/orchard/fairness"
	"github.com/orchard-leads/orchard/policy"
)

// Period is the window of a fairness report, [Since, Until), and an
// optional rep to show alone (the system figures stay the team's).
type Period struct {
	Since, Until time.Time
	Rep          string
}

// Fairness reads the period's figures from ClickHouse and evaluates them
// under the policy's fairness thresholds (package fairness).
func Fairness(ctx context.Context, conn driver.Conn, pol policy.Policy, p Period) (fairness.Report, error) {
	return fairnessFrom(ctx, conn, pol, p, Query)
}

// fairnessFrom is Fairness with the SQL of each query from sql (a test
// runs the report on the raw-events queries it replaced to compare).
func fairnessFrom(ctx context.Context, conn driver.Conn, pol policy.Policy, p Period, sql func(string) string) (fairness.Report, error) {
	args := queryArgs(pol, p)
	reps := map[string]*fairness.Rep{}
	rep := func(id string) *fairness.Rep {
		if reps[id] == nil {
			reps[id] = &fairness.Rep{RepID: id, Picked: map[string]fairness.Counts{}, Sources: map[string]int{}, Sizes: map[string]int{},
				AutoBand: map[string]fairness.Counts{}, PickScores: map[int]int{}}
		}
		return reps[id]
	}
	pool := fairness.Pool{Sources: map[string]int{}, Sizes: map[string]int{}, AutoBand: map[string]fairness.Counts{}}
	var pickedScore, autoScore, picks, autos float64
	var days []fairness.Day
	queries := []struct {
		name string
		scan func(driver.Rows) error
	}{
		{"fairness_reps", func(rows driver.Rows) error {
			var id string
			var n, a, aged uint64
			var avgP, avgA, p50, p90 float64
			if err := rows.Scan(&id, &n, &a, &avgP, &avgA, &p50, &p90, &aged); err != nil {
				return err
			}
			r := rep(id)
			r.Picks, r.Auto, r.AgedPicks = int(n), int(a), int(aged)
			r.AvgScorePicked, r.AvgScoreAuto, r.ClaimSpeedP50, r.ClaimSpeedP90 = num(avgP), num(avgA), num(p50), num(p90)
			pickedScore, autoScore = pickedScore+r.AvgScorePicked*float64(n), autoScore+r.AvgScoreAuto*float64(a)
			picks, autos = picks+float64(n), autos+float64(a)
			return nil
		}},
		{"fairness_scores", func(rows driver.Rows) error {
			var id string
			var score int32
			var n uint64
			if err := rows.Scan(&id, &score, &n); err != nil {
				return err
			}
			rep(id).PickScores[int(score)] += int(n)
			return nil
		}},
		{"fairness_contacts", func(rows driver.Rows) error {
			var id string
			var n uint64
			var avg float64
			if err := rows.Scan(&id, &n, &avg); err != nil {
				return err
			}
			r := rep(id)
			r.Contacts, r.ContactAvg = int(n), num(avg)
			return nil
		}},
		{"fairness_outcomes", func(rows driver.Rows) error {
			var id string
			var picked uint8
			var band int64
			var n, conv uint64
			if err := rows.Scan(&id, &picked, &band, &n, &conv); err != nil {
				return err
			}
			r, c, b := rep(id), fairness.Counts{Outcomes: int(n), Converted: int(conv)}, fairness.ScoreBand(int(band))
			r.All.Outcomes, r.All.Converted = r.All.Outcomes+c.Outcomes, r.All.Converted+c.Converted
			if picked == 1 {
				r.Picked[b] = add(r.Picked[b], c)
			} else {
				r.AutoBand[b] = add(r.AutoBand[b], c)
				pool.AutoBand[b] = add(pool.AutoBand[b], c)
			}
			return nil
		}},
		{"fairness_mix", func(rows driver.Rows) error {
			var id, source string
			var n [4]uint64 // by size band
			if err := rows.Scan(&id, &source, &n[0], &n[1], &n[2], &n[3]); err != nil {
				return err
			}
			sources, sizes := pool.Sources, pool.Sizes
			if id != "" {
				sources, sizes = rep(id).Sources, rep(id).Sizes
			}
			for i, band := range sizeBands {
				if n[i] > 0 {
					sources[source] += int(n[i])
					sizes[band] += int(n[i])
				}
			}
			return nil
		}},
		{"fairness_aged", func(rows driver.Rows) error {
			var leads, aged uint64
			if err := rows.Scan(&leads, &aged); err != nil {
				return err
			}
			pool.Leads, pool.Aged = int(leads), int(aged)
			return nil
		}},
		{"fairness_daily", func(rows driver.Rows) error {
			var day uint32 // a UTC day number
			var id string
			var n uint64
			var sum int64
			if err := rows.Scan(&day, &id, &n, &sum); err != nil {
				return err
			}
			key := time.Unix(int64(day)*86400, 0).UTC().Format("2006-01-02")
			if len(days) == 0 || days[len(days)-1].Day != key {
				days = append(days, fairness.Day{Day: key, Leads: map[string]int{}, Scores: map[string]int{}})
			}
			days[len(days)-1].Leads[id] += int(n)
			days[len(days)-1].Scores[id] += int(sum)
			return nil
		}},
		{"fairness_wait", func(rows driver.Rows) error {
			var id string
			var n uint64
			var avg float64
			if err := rows.Scan(&id, &n, &avg); err != nil {
				return err
			}
			r := rep(id)
			r.WaitN, r.WaitAvg = int(n), num(avg)
			return nil
		}},
	}
	for _, q := range queries {
		rows, err := conn.Query(ctx, sql(q.name), args...)
		if err != nil {
			return fairness.Report{}, fmt.Errorf("%s: %w", q.name, err)
		}
		for rows.Next() {
			if err := q.scan(rows); err != nil {
				rows.Close()
				return fairness.Report{}, fmt.Errorf("%s: %w", q.name, err)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fairness.Report{}, fmt.Errorf("%s: %w", q.name, err)
		}
	}
	if picks > 0 {
		pool.PickedAvgScore = math.Round(pickedScore/picks*10) / 10
	}
	if autos > 0 {
		pool.AutoAvgScore = math.Round(autoScore/autos*10) / 10
	}
	all := make([]fairness.Rep, 0, len(reps))
	for _, r := range reps {
		all = append(all, *r)
	}
	report := fairness.Evaluate(pol.Fairness, all, pool)
	report.System.Trend = fairness.Trend(days)
	if p.Rep != "" {
		report = report.Only(p.Rep)
	}
	return report, nil
}

// queryArgs are the named parameters of the fairness queries: @since,
// @until (rounded up to the second: events are stored by the second, so
// an event in the period's last second counts), @aged_ms, @end_ms (the
// period's end, or now if that is sooner) and the split of the period
// into whole UTC days [@d1, @d2), read from the daily rollups, and its
// edges [@since, @t1) and [@t2, @until), read from events; @end_day and
// @end_day_ms are the day of @end_ms and its start.
func queryArgs(pol policy.Policy, p Period) []any {
	end := max(min(p.Until.UnixMilli(), time.Now().UnixMilli()), 0)
	since := p.Since.UTC().Truncate(time.Second)
	until := p.Until.UTC().Truncate(time.Second)
	if until.Before(p.Until) {
		until = until.Add(time.Second)
	}
	d1, d2, t1, t2 := wholeDays(since, until)
	endDay := end / dayMs
	return []any{clickhouse.Named("since", since), clickhouse.Named("until", until),
		clickhouse.Named("aged_ms", uint64(pol.Lead.AgedAfter.D().Milliseconds())),
		clickhouse.Named("end_ms", uint64(end)),
		clickhouse.Named("d1", d1), clickhouse.Named("d2", d2), clickhouse.Named("t1", t1), clickhouse.Named("t2", t2),
		clickhouse.Named("end_day", uint32(endDay)), clickhouse.Named("end_day_ms", uint64(endDay*dayMs))}
}

const dayMs = 24 * 60 * 60 * 1000

// firstWholeDay is the number of the first UTC day that starts at or
// after t.
func firstWholeDay(t time.Time) int64 { return (t.Unix() + 86399) / 86400 }

// sizeBands name the company-size columns of fairness_mix, in order.
var sizeBands = [4]string{"1-49", "50-249", "250-999", "1000+"}

// wholeDays splits [since, until) into the whole UTC days [d1, d2) it
// covers (day numbers since the epoch) and the edges [since, t1) and
// [t2, until). A period with no whole day is all edge: t1 = t2 = until.
func wholeDays(since, until time.Time) (d1, d2 uint32, t1, t2 time.Time) {
	first := firstWholeDay(since)
	last := until.Unix() / 86400
	if first < 0 || first >= last {
		return 0, 0, until, until
	}
	return uint32(first), uint32(last), time.Unix(first*86400, 0).UTC(), time.Unix(last*86400, 0).UTC()
}

func add(a, b fairness.Counts) fairness.Counts {
	return fairness.Counts{Outcomes: a.Outcomes + b.Outcomes, Converted: a.Converted + b.Converted}
}

// num reads an aggregate that is NaN over no rows as 0.
func num(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*10) / 10
}
