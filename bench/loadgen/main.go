// Command loadgen drives the claim saga at the Kafka level for `make
// bench-compare`: the same generator for Orchard's processors and for the
// Kafka Streams twin (bench/kstreams). It writes claim_requested records to
// rep.commands and reads the answers from decisions, each claim for a
// lead of its own, and prints one JSON line per run: claims answered per
// second, latency quantiles (send to answer), and the CPU seconds the
// application and the broker spent per 10,000 claims (from /proc).
//
//	loadgen --brokers B --prefix P --target orchard|twin --setup   create the twin's topics
//	loadgen --brokers B --prefix P --target orchard --seed          reps and leads, then wait until the saga answers
//	loadgen ... --rate 1000 --duration 10s --pids app=PID,broker=PID   open loop at a rate
//	loadgen ... --rate 0 --inflight 512 --duration 10s                 closed loop: the most it sustains
//	loadgen --target orchard ... --breakdown                             also where each claim's time went
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/bus"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

type options struct {
	brokers, prefix, target, label string
	setup, seed                    bool
	reps, leads, partitions        int
	rate, inflight                 int
	duration                       time.Duration
	first                          int // the first lead index this run claims
	pids                           string
	breakdown                      bool
}

func main() {
	var o options
	flag.StringVar(&o.brokers, "brokers", "127.0.0.1:9092", "Kafka bootstrap brokers")
	flag.StringVar(&o.prefix, "prefix", "", "topic prefix of the deployment under test")
	flag.StringVar(&o.target, "target", "orchard", "orchard (Goka's partitioner) or twin (Kafka's default)")
	flag.StringVar(&o.label, "label", "", "name of this run in the output")
	flag.BoolVar(&o.setup, "setup", false, "create the topics (for the twin; Orchard creates its own)")
	flag.BoolVar(&o.seed, "seed", false, "write --reps reps and --leads leads, then wait until claims are answered")
	flag.IntVar(&o.reps, "reps", 1000, "reps")
	flag.IntVar(&o.leads, "leads", 200000, "leads to seed (each claim takes one)")
	flag.IntVar(&o.partitions, "partitions", 8, "partitions per topic (--setup)")
	flag.IntVar(&o.rate, "rate", 1000, "claims per second, open loop; 0: closed loop with --inflight claims outstanding")
	flag.IntVar(&o.inflight, "inflight", 512, "claims outstanding in the closed loop")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long to offer claims")
	flag.IntVar(&o.first, "first", 0, "index of the first lead to claim (runs on one deployment take disjoint ranges)")
	flag.StringVar(&o.pids, "pids", "", "name=pid,... of processes whose CPU time to report per 10k claims")
	flag.BoolVar(&o.breakdown, "breakdown", false, "split each claim's latency at the saga's hops (Orchard only: Streams stamps its outputs with the input's time)")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func (o options) topics() topics.Set { return topics.New(o.prefix) }

func (o options) client(extra ...kgo.Opt) (*kgo.Client, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(strings.Split(o.brokers, ",")...), kgo.ProducerLinger(0),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(1 << 20)}
	if o.target == "orchard" {
		opts = append(opts, bus.GokaPartitioner())
	}
	return kgo.NewClient(append(opts, extra...)...)
}

func run(ctx context.Context, o options) error {
	switch o.target {
	case "orchard", "twin":
	default:
		return fmt.Errorf("--target: orchard or twin, not %q", o.target)
	}
	if o.breakdown && o.target != "orchard" {
		return errors.New("--breakdown: Orchard only (Kafka Streams stamps a step's outputs with its input's timestamp, so the twin's hops cannot be told apart)")
	}
	serde, err := schemas.NewSerde(ctx, "")
	if err != nil {
		return err
	}
	if o.setup {
		return setup(ctx, o)
	}
	if o.seed {
		return seed(ctx, o, serde)
	}
	return measure(ctx, o, serde)
}

// setup creates the topics the twin reads and writes.
func setup(ctx context.Context, o options) error {
	cl, err := o.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	t := o.topics()
	names := []string{t.RepsIntake, t.RepCmds, t.LeadsIntake, t.LeadCmds, t.Decisions, t.Assignments, t.Events}
	res, err := kadm.NewClient(cl).CreateTopics(ctx, int32(o.partitions), 1, nil, names...)
	if err != nil {
		return err
	}
	for _, r := range res.Sorted() {
		if r.Err != nil && !strings.Contains(r.Err.Error(), "TOPIC_ALREADY_EXISTS") {
			return fmt.Errorf("create %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}

func repID(i int) string  { return fmt.Sprintf("rep%04d", i) }
func leadID(i int) string { return fmt.Sprintf("lead%07d", i) }

// seed writes the reps and leads, then claims a few leads beyond the
// seeded ones' range until the saga answers them: the deployment is ready.
func seed(ctx context.Context, o options, serde *schemas.Serde) error {
	cl, err := o.client(kgo.ProducerLinger(5 * time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	t := o.topics()
	now := time.Now().UnixMilli()
	var perr error
	var mu sync.Mutex
	done := func(_ *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			perr = err
			mu.Unlock()
		}
	}
	for i := range o.reps {
		v, err := serde.Encode(&schemas.RepUpsert{RepID: repID(i), RequestID: "seed-" + repID(i), At: now, Name: repID(i), Tier: 1, Active: true})
		if err != nil {
			return err
		}
		cl.Produce(ctx, &kgo.Record{Topic: t.RepsIntake, Key: []byte(repID(i)), Value: v}, done)
	}
	for i := range o.leads {
		v, err := serde.Encode(&schemas.LeadIntake{LeadID: leadID(i), Kind: "qualified", At: now, Company: "Acme", Source: "mql", Score: int32(i % 100)})
		if err != nil {
			return err
		}
		cl.Produce(ctx, &kgo.Record{Topic: t.LeadsIntake, Key: []byte(leadID(i)), Value: v}, done)
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	if perr != nil {
		return perr
	}
	// Ready when the last lead seeded can be claimed.
	w, err := newWaiter(ctx, o)
	if err != nil {
		return err
	}
	defer w.close()
	deadline := time.Now().Add(5 * time.Minute)
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		id := fmt.Sprintf("ready-%d", attempt)
		ch := w.expect(id)
		if err := sendClaim(ctx, cl, serde, t, id, repID(0), leadID(o.leads-1-attempt)); err != nil {
			return err
		}
		select {
		case <-ch:
			return settled(ctx, cl, o.prefix, time.Until(deadline))
		case <-time.After(5 * time.Second):
		}
	}
	return errors.New("the saga did not answer a claim within 5 minutes of seeding")
}

// settled waits until every consumer group of the deployment (the prefix's)
// has committed the end of every partition it reads, twice in a row a
// second apart: the seeding's aftermath (tables, timers, rosters) is done
// before anything is measured.
func settled(ctx context.Context, cl *kgo.Client, prefix string, wait time.Duration) error {
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(wait)
	quiet := 0
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		listed, err := adm.ListGroups(ctx)
		if err != nil {
			return err
		}
		var groups []string
		for _, g := range listed.Groups() {
			if strings.HasPrefix(g, prefix) {
				groups = append(groups, g)
			}
		}
		total, unknown, err := bus.GroupsBehind(ctx, adm, groups...)
		if err != nil {
			return err
		}
		if total == 0 && unknown == 0 && len(groups) > 0 {
			if quiet++; quiet == 2 {
				return nil
			}
		} else {
			quiet = 0
		}
	}
	return errors.New("the deployment's consumer groups did not catch up after seeding")
}

func sendClaim(ctx context.Context, cl *kgo.Client, serde *schemas.Serde, t topics.Set, id, rep, lead string) error {
	v, err := serde.Encode(&schemas.RepCommand{RepID: rep, RequestID: id, Type: schemas.ClaimRequested, At: time.Now().UnixMilli(), LeadID: lead})
	if err != nil {
		return err
	}
	return cl.ProduceSync(ctx, &kgo.Record{Topic: t.RepCmds, Key: []byte(rep), Value: v}).FirstErr()
}

// answer is when a decision was read, and when it was written (its
// record's timestamp, which Orchard's producer sets as it sends).
// answer is a decision as the waiter read it: when, when it was written,
// and whether it is the win for the lead asked (every claim here takes a
// lead of its own, so anything else is a wrong answer, e.g. a replay).
type answer struct {
	at, written time.Time
	ok          bool
	leadID      string
}

// waiter reads every partition of decisions from its end and hands each
// answer to whoever expects its request id.
type waiter struct {
	cl      *kgo.Client
	serde   *schemas.Serde
	mu      sync.Mutex
	pending map[string]chan answer
	cancel  context.CancelFunc
	done    chan struct{}
}

func newWaiter(ctx context.Context, o options) (*waiter, error) {
	adm, err := o.client()
	if err != nil {
		return nil, err
	}
	t := o.topics()
	ends, err := kadm.NewClient(adm).ListEndOffsets(ctx, t.Decisions)
	adm.Close()
	if err != nil {
		return nil, err
	}
	start := map[string]map[int32]kgo.Offset{t.Decisions: {}}
	ends.Each(func(l kadm.ListedOffset) { start[t.Decisions][l.Partition] = kgo.NewOffset().At(l.Offset) })
	cl, err := o.client(kgo.ConsumePartitions(start), kgo.FetchMaxWait(20*time.Millisecond))
	if err != nil {
		return nil, err
	}
	serde, _ := schemas.NewSerde(ctx, "")
	ctx, cancel := context.WithCancel(ctx)
	w := &waiter{cl: cl, serde: serde, pending: map[string]chan answer{}, cancel: cancel, done: make(chan struct{})}
	go w.run(ctx)
	return w, nil
}

func (w *waiter) run(ctx context.Context) {
	defer close(w.done)
	for ctx.Err() == nil {
		fs := w.cl.PollFetches(ctx)
		now := time.Now()
		fs.EachRecord(func(r *kgo.Record) {
			var d schemas.Decision
			if w.serde.Decode(ctx, r.Value, &d) != nil {
				return
			}
			w.mu.Lock()
			ch := w.pending[d.RequestID]
			delete(w.pending, d.RequestID)
			w.mu.Unlock()
			if ch != nil {
				ch <- answer{at: now, written: r.Timestamp, ok: d.OK, leadID: d.LeadID}
			}
		})
	}
}

func (w *waiter) expect(id string) chan answer {
	ch := make(chan answer, 1)
	w.mu.Lock()
	w.pending[id] = ch
	w.mu.Unlock()
	return ch
}

func (w *waiter) close() {
	w.cancel()
	<-w.done
	w.cl.Close()
}

// result is one run's line of output.
type result struct {
	Label      string             `json:"label"`
	Target     string             `json:"target"`
	Rate       int                `json:"rate"` // 0: closed loop
	Offered    int                `json:"offered"`
	Answered   int                `json:"answered"`
	PerSecond  float64            `json:"claims_per_s"`
	P50        float64            `json:"p50_ms"`
	P99        float64            `json:"p99_ms"`
	P999       float64            `json:"p999_ms"`
	CPUPer10k  map[string]float64 `json:"cpu_s_per_10k"`
	TimedOut   int                `json:"timed_out"`
	Wrong      int                `json:"wrong"` // answered, but not the win for the lead asked
	DurationS  float64            `json:"duration_s"`
	FirstLead  int                `json:"first_lead"`
	NextLeadAt int                `json:"next_first_lead"`
	// Breakdown (--breakdown): the median milliseconds of each hop, over
	// all claims and over the slowest 1 %.
	Breakdown map[string]map[string]float64 `json:"breakdown,omitempty"`
}

// timing is one answered claim: sent, the rep step's lead command written,
// the lead step's decision written, the decision read.
type timing struct {
	id                       string
	sent, forwarded, decided time.Time
	read                     time.Time
}

func measure(ctx context.Context, o options, serde *schemas.Serde) error {
	pids, err := parsePids(o.pids)
	if err != nil {
		return err
	}
	cl, err := o.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	w, err := newWaiter(ctx, o)
	if err != nil {
		return err
	}
	defer w.close()
	t := o.topics()

	var mu sync.Mutex
	var lat []time.Duration
	var timings []timing
	wrong := 0 // answers that are not the win for the lead asked
	var wg sync.WaitGroup
	var leadCmdsAt kadm.ListedOffsets
	if o.breakdown {
		if leadCmdsAt, err = kadm.NewClient(cl).ListEndOffsets(ctx, t.LeadCmds); err != nil {
			return err
		}
	}
	sent := 0
	claim := func(i int, release func()) error {
		// The request id names the lead, not the claim's place in this run:
		// runs on the same topics then never reuse one (a reused id is a
		// replay, answered from the rep's memory without the saga).
		id := fmt.Sprintf("%s-%d", o.label, o.first+i)
		lead := leadID(o.first + i)
		ch := w.expect(id)
		v, err := serde.Encode(&schemas.RepCommand{RepID: repID(i % o.reps), RequestID: id, Type: schemas.ClaimRequested, At: time.Now().UnixMilli(), LeadID: lead})
		if err != nil {
			return err
		}
		wg.Add(1)
		t0 := time.Now()
		cl.Produce(ctx, &kgo.Record{Topic: t.RepCmds, Key: []byte(repID(i % o.reps)), Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				fmt.Fprintln(os.Stderr, "loadgen: produce:", err)
			}
		})
		go func() {
			defer wg.Done()
			defer release()
			select {
			case a := <-ch:
				mu.Lock()
				if !a.ok || a.leadID != lead {
					wrong++
				}
				lat = append(lat, a.at.Sub(t0))
				timings = append(timings, timing{id: id, sent: t0, decided: a.written, read: a.at})
				mu.Unlock()
			case <-time.After(30 * time.Second):
			}
		}()
		return nil
	}
	cpu0 := cpuTimes(pids)
	began := time.Now()
	if o.rate > 0 {
		interval := time.Second / time.Duration(o.rate)
		for i := 0; time.Since(began) < o.duration; i++ {
			if d := time.Until(began.Add(time.Duration(i) * interval)); d > 0 {
				time.Sleep(d)
			}
			if err := claim(i, func() {}); err != nil {
				return err
			}
			sent++
		}
	} else {
		slots := make(chan struct{}, o.inflight)
		for i := 0; time.Since(began) < o.duration; i++ {
			slots <- struct{}{}
			if err := claim(i, func() { <-slots }); err != nil {
				return err
			}
			sent++
		}
	}
	wg.Wait()
	elapsed := time.Since(began)
	cpu1 := cpuTimes(pids)
	if o.first+sent > o.leads {
		return fmt.Errorf("this run claimed leads up to %d, but only %d were seeded: seed more (--leads)", o.first+sent, o.leads)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	r := result{Label: o.label, Target: o.target, Rate: o.rate, Offered: sent, Answered: len(lat), PerSecond: float64(len(lat)) / elapsed.Seconds(),
		P50: q(0.50), P99: q(0.99), P999: q(0.999), CPUPer10k: map[string]float64{}, TimedOut: sent - len(lat), DurationS: elapsed.Seconds(),
		FirstLead: o.first, NextLeadAt: o.first + sent, Wrong: wrong}
	for name := range pids {
		if len(lat) > 0 {
			r.CPUPer10k[name] = (cpu1[name] - cpu0[name]) / float64(len(lat)) * 10000
		}
	}
	if o.breakdown {
		if r.Breakdown, err = breakdown(ctx, o, cl, serde, t.LeadCmds, leadCmdsAt, timings); err != nil {
			return err
		}
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// breakdown reads the lead commands the rep steps wrote during the run
// (from the offsets before it) and splits each claim's time at them and at
// its decision's write: send → rep step (the lead command written), → lead
// step (the decision written), → read. Record timestamps are whole
// milliseconds, so each hop is ±1 ms; a claim whose lead command is not
// found is left out (and counted).
func breakdown(ctx context.Context, o options, cl *kgo.Client, serde *schemas.Serde, topic string, from kadm.ListedOffsets, timings []timing) (map[string]map[string]float64, error) {
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	start := map[string]map[int32]kgo.Offset{topic: {}}
	left := 0
	from.Each(func(l kadm.ListedOffset) {
		start[topic][l.Partition] = kgo.NewOffset().At(l.Offset)
		if e, ok := ends.Lookup(topic, l.Partition); ok {
			left += int(e.Offset - l.Offset)
		}
	})
	rd, err := o.client(kgo.ConsumePartitions(start))
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	forwarded := map[string]time.Time{}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for left > 0 && rctx.Err() == nil {
		rd.PollFetches(rctx).EachRecord(func(r *kgo.Record) {
			left--
			var c schemas.LeadCommand
			if serde.Decode(rctx, r.Value, &c) == nil && c.RequestID != "" {
				if _, seen := forwarded[c.RequestID]; !seen {
					forwarded[c.RequestID] = r.Timestamp
				}
			}
		})
	}
	var found []timing
	for _, tm := range timings {
		if at, ok := forwarded[tm.id]; ok {
			tm.forwarded = at
			found = append(found, tm)
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].read.Sub(found[i].sent) < found[j].read.Sub(found[j].sent) })
	hops := func(ts []timing) map[string]float64 {
		med := func(d func(timing) time.Duration) float64 {
			if len(ts) == 0 {
				return 0
			}
			v := make([]float64, len(ts))
			for i, tm := range ts {
				v[i] = float64(d(tm).Microseconds()) / 1000
			}
			sort.Float64s(v)
			return v[len(v)/2]
		}
		return map[string]float64{
			"claims":         float64(len(ts)),
			"to_rep_step":    med(func(tm timing) time.Duration { return tm.forwarded.Sub(tm.sent) }),
			"to_lead_step":   med(func(tm timing) time.Duration { return tm.decided.Sub(tm.forwarded) }),
			"to_answer_read": med(func(tm timing) time.Duration { return tm.read.Sub(tm.decided) }),
			"total":          med(func(tm timing) time.Duration { return tm.read.Sub(tm.sent) }),
		}
	}
	tail := found[len(found)-len(found)/100:]
	return map[string]map[string]float64{
		"all":        hops(found),
		"slowest_1%": hops(tail),
		"missing":    {"claims": float64(len(timings) - len(found))},
	}, nil
}

func parsePids(s string) (map[string]int, error) {
	out := map[string]int{}
	if s == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		name, v, ok := strings.Cut(kv, "=")
		pid, err := strconv.Atoi(v)
		if !ok || err != nil {
			return nil, fmt.Errorf("--pids: name=pid pairs, not %q", kv)
		}
		out[name] = pid
	}
	return out, nil
}

// cpuTimes reads each process's user+system CPU seconds (and its
// children's: the broker's start script is its parent).
func cpuTimes(pids map[string]int) map[string]float64 {
	out := map[string]float64{}
	for name, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		var ticks float64
		for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime (fields 14-17 of stat)
			v, _ := strconv.ParseFloat(fields[i], 64)
			ticks += v
		}
		out[name] = ticks / 100 // USER_HZ
	}
	return out
}
