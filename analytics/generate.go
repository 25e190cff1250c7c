package analytics

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/orchard-leads/orchard/schemas"
)

// Generate writes about n synthetic events into ClickHouse through the
// sink's insert path (so the rollups fill as they do in production): the
// lives of about n/5 leads spread over the days before end — qualified, now
// and then refused to a rep, given to one of 200 reps by a pick or an auto
// method, contacted (closing the rep's turn), closed — with sources, scores
// and sizes. Seeded: the
// same seed, the same events. For benchmarks and for trying the analyst
// views on a realistic volume.
func Generate(ctx context.Context, conn driver.Conn, n, days int, end time.Time, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 0x6e4))
	s := &Sink{Conn: conn}
	start := end.Add(-time.Duration(days) * 24 * time.Hour).UnixMilli()
	span := int64(days) * 24 * int64(time.Hour/time.Millisecond)
	sources := []string{"mql", "mql", "mql", "webinar", "webinar", "event", "referral", "demo_request", "partner", "cold_outreach"}
	methods := []string{"cherry_pick", "cherry_pick", "cherry_pick", "cherry_pick", "cherry_pick", "cherry_pick", "round_robin", "round_robin", "weighted", "reassignment"}
	var batch decoded
	offset := int64(0)
	add := func(e schemas.Event) error {
		batch.events = append(batch.events, e)
		batch.partitions = append(batch.partitions, int32(offset%8))
		batch.offsets = append(batch.offsets, offset)
		offset++
		if len(batch.events) < 100_000 {
			return nil
		}
		err := s.insert(ctx, batch)
		batch = decoded{}
		return err
	}
	for lead := 0; offset < int64(n); lead++ {
		id := fmt.Sprintf("gen-%08d", lead)
		at := start + rng.Int64N(span)
		score := int32(20 + rng.IntN(80))
		src := sources[rng.IntN(len(sources))]
		size := int32(5 + rng.IntN(5000))
		base := schemas.Event{LeadID: id, Score: score, Source: src, Employees: size, Territory: []string{"north", "south", "east", "west"}[lead%4],
			Industry: "software", Temperature: "warm", Priority: "standard", EnteredPoolAt: at, PolicyVersion: "generated000"}
		ev := func(typ string, t int64, f func(*schemas.Event)) error {
			e := base
			e.EventID, e.Type, e.At = fmt.Sprintf("%s/%s/%d", id, typ, t), typ, t
			if f != nil {
				f(&e)
			}
			return add(e)
		}
		if err := ev("qualified", at, nil); err != nil {
			return err
		}
		if rng.IntN(10) < 3 {
			if err := ev("claim_refused", at+rng.Int64N(3_600_000), func(e *schemas.Event) {
				e.RepID, e.Reason = fmt.Sprintf("rep-%03d", rng.IntN(200)), "quota_day"
			}); err != nil {
				return err
			}
		}
		if rng.IntN(100) >= 88 {
			continue // never owned: it ages
		}
		rep := fmt.Sprintf("rep-%03d", min(rng.IntN(200), rng.IntN(200))) // some reps get more
		method := methods[rng.IntN(len(methods))]
		owned := at + rng.Int64N(30*3_600_000)
		if err := ev("assigned", owned, func(e *schemas.Event) { e.RepID, e.Method, e.Value = rep, method, owned-at }); err != nil {
			return err
		}
		if rng.IntN(10) == 0 {
			continue // lapsed: never contacted here
		}
		contact := owned + 300_000 + rng.Int64N(3*3_600_000)
		if err := ev("contacted", contact, func(e *schemas.Event) { e.RepID, e.Method, e.Value = rep, method, contact-owned }); err != nil {
			return err
		}
		// The rep's turn, closed by the contact (lead/wait.go).
		if err := ev(schemas.ContactWait, owned, func(e *schemas.Event) {
			e.RepID, e.Method, e.Value, e.Until = rep, method, contact-owned, contact
		}); err != nil {
			return err
		}
		if rng.IntN(10) < 8 {
			converted := rng.Float64() < 0.05+0.4*float64(score)/100
			if err := ev("outcome", contact+3_600_000+rng.Int64N(5*24*3_600_000), func(e *schemas.Event) {
				e.RepID, e.Method, e.Converted = rep, method, converted
			}); err != nil {
				return err
			}
		}
	}
	if len(batch.events) == 0 {
		return nil
	}
	return s.insert(ctx, batch)
}
