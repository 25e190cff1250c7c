package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/bus"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/processors"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
	"github.com/orchard-leads/orchard/web"
)

// BenchmarkClaimRoundTrip measures a claim's full round trip on loopback:
// HTTP -> rep.commands -> rep processor -> lead.commands -> lead processor
// -> decisions -> HTTP, at a fixed offered rate (ORCHARD_BENCH_RATE,
// default 1000 claims/s), each claim for a different lead so every one
// wins and writes its assignment. It reports p50/p99/max in ms.
func BenchmarkClaimRoundTrip(b *testing.B) {
	rate := 1000
	if v, err := strconv.Atoi(os.Getenv("ORCHARD_BENCH_RATE")); err == nil && v > 0 {
		rate = v
	}
	interval := time.Second / time.Duration(rate)
	benchClaims(b, func(total int, claim func(i int)) {
		var wg sync.WaitGroup
		began := time.Now()
		for i := range total {
			// Open-loop pacing: claim i is due at began + i*interval, whatever
			// earlier claims are doing (no coordinated omission).
			if d := time.Until(began.Add(time.Duration(i) * interval)); d > 0 {
				time.Sleep(d)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				claim(i)
			}()
		}
		wg.Wait()
	})
}

// BenchmarkClaimClosedLoop is the same round trip closed loop: a fixed
// number of clients (ORCHARD_BENCH_CLIENTS, default 256), each sending its
// next claim when its last one is answered, so claims/s is what the
// process sustains and the latency is what a client sees at that load.
// (An open loop offered more than that measures a queue: every late claim
// waits in a goroutine of its own, and the collector scans them all.)
// 256 clients: fewer leave the Kafka clients less to batch (16 sustained
// 5.3 k claims/s at 0.36 ms of CPU per claim, 64 9.1 k, 256 11.3 k), more
// only queue in front of the same batches (512: 10.1 k).
func BenchmarkClaimClosedLoop(b *testing.B) {
	clients := 256
	if v, err := strconv.Atoi(os.Getenv("ORCHARD_BENCH_CLIENTS")); err == nil && v > 0 {
		clients = v
	}
	benchClaims(b, func(total int, claim func(i int)) {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1) - 1); i < total; i = int(next.Add(1) - 1) {
					claim(i)
				}
			}()
		}
		wg.Wait()
	})
}

// benchClaims starts a node with 1,000 reps and b.N pickable leads, then
// has drive send claim(i) once for every i in [0, b.N), and reports
// latency percentiles, claims/s, CPU, records and bytes per claim.
func benchClaims(b *testing.B, drive func(total int, claim func(i int))) {
	// Quotas out of the way: this measures the round trip, not the guardrails.
	cfg := Config{PolicyFile: policyFile(b, "quotas: {per_hour: 1000000, per_day: 1000000, per_week: 1000000}\n")}
	if !testenv.RealKafka() {
		// The embedded broker as `orchard run` starts it: its log on disk
		// under the data directory (testenv's kfake keeps it in memory).
		cfg.EmbeddedPort = testenv.FreePort(b)
	}
	n := start(b, cfg)
	defer TuneGC()()  // from ready on, as the orchard binary runs
	const reps = 1000 // a claim every second from 1,000 reps: ledgers of realistic size
	for i := range reps {
		n.mustRep(fmt.Sprintf("rep%02d", i))
	}
	total := b.N
	seedLeads(b, n, total)
	tokens := make([]string, reps)
	for i := range tokens {
		tokens[i] = "Bearer " + token(b, fmt.Sprintf("rep%02d", i), auth.RoleRep)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}}
	ends0, bytes0 := topicEnds(b, n), topicBytes(b, n)

	lat := make([]time.Duration, total)
	var failed atomic.Int64
	claim := func(i int) {
		req, _ := http.NewRequest("POST", n.base+"/v1/leads/B"+strconv.Itoa(i)+"/claim", nil)
		req.Header.Set("Authorization", tokens[i%reps])
		t0 := time.Now()
		resp, err := client.Do(req)
		lat[i] = time.Since(t0)
		if err != nil || resp.StatusCode != 200 {
			failed.Add(1)
		}
		if resp != nil {
			// Drained, so the connection goes back to the pool: an
			// unread body closes it, and every claim would pay a dial.
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	b.ResetTimer()
	stopProfile := profileClaims(b)
	cpu0 := processCPU()
	began := time.Now()
	drive(total, claim)
	elapsed := time.Since(began)
	cpu := processCPU() - cpu0
	stopProfile()
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d claims failed", f, total)
	}
	// Records per claim: every topic's growth over the run, once the
	// claims' immediate follow-ups are written (the reservation timers
	// fire later, outside this count).
	time.Sleep(time.Second)
	ends1, bytes1 := topicEnds(b, n), topicBytes(b, n)
	var written, size int64
	var per []string
	for topic, end := range ends1 {
		if d := end - ends0[topic]; d > 0 {
			written += d
			db := bytes1[topic] - bytes0[topic]
			size += db
			per = append(per, fmt.Sprintf("%s %.2f (%.0f B)", strings.TrimPrefix(topic, n.cfg.Topics.Prefix), float64(d)/float64(total), float64(db)/float64(total)))
		}
	}
	sort.Strings(per)
	b.Logf("records (bytes) per claim by topic: %s", strings.Join(per, ", "))
	b.ReportMetric(float64(written)/float64(total), "records/claim")
	// What the claims put on the broker: every log's growth, batch headers
	// included (a compaction during the run would make this a lower bound).
	b.ReportMetric(float64(size)/float64(total), "bytes/claim")
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[total/2]), "p50-ms")
	b.ReportMetric(ms(lat[total*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[total-1]), "max-ms")
	b.ReportMetric(float64(total)/elapsed.Seconds(), "claims/s")
	// The whole process's CPU (broker, processors, API, load generator) per
	// claim: what the tail at a fixed rate depends on, on 2 cores.
	b.ReportMetric(ms(cpu)/float64(total), "cpu-ms/claim")
	b.ReportMetric(0, "ns/op") // wall time per op is the pacing or the clients', not a cost
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// profileClaims writes a CPU profile (ORCHARD_BENCH_CPUPROFILE) or an
// execution trace (ORCHARD_BENCH_TRACE) of the claims alone, not the
// seeding before them, when either is set; the returned func stops them.
func profileClaims(b *testing.B) func() {
	stops := []func(){}
	start := func(env string, begin func(io.Writer) error, end func()) {
		path := os.Getenv(env)
		if path == "" {
			return
		}
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := begin(f); err != nil {
			b.Fatal(err)
		}
		stops = append(stops, func() { end(); f.Close() })
	}
	start("ORCHARD_BENCH_CPUPROFILE", pprof.StartCPUProfile, pprof.StopCPUProfile)
	start("ORCHARD_BENCH_TRACE", trace.Start, trace.Stop)
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}

// topicEnds sums the end offsets of each of n's topics.
func topicEnds(b *testing.B, n *node) map[string]int64 {
	adm, names, done := topicAdmin(b, n)
	defer done()
	ends, err := adm.ListEndOffsets(context.Background(), names...)
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Topic] += o.Offset })
	return out
}

// topicBytes is every topic's size on the broker, summed over partitions.
func topicBytes(b *testing.B, n *node) map[string]int64 {
	adm, names, done := topicAdmin(b, n)
	defer done()
	ts, err := adm.ListTopics(context.Background(), names...)
	if err != nil {
		b.Fatal(err)
	}
	dirs, err := adm.DescribeAllLogDirs(context.Background(), ts.TopicsSet())
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]int64{}
	for _, d := range dirs {
		d.EachPartition(func(p kadm.DescribedLogDirPartition) { out[p.Topic] += p.Size })
	}
	return out
}

// topicAdmin is an admin client on n's broker, the names of n's topics and
// what closes the client (not left open through the timed claims).
func topicAdmin(b *testing.B, n *node) (*kadm.Client, []string, func()) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.brokers...))
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	for _, s := range n.cfg.Topics.All() {
		names = append(names, s.Name)
	}
	return kadm.NewClient(cl), names, cl.Close
}

// seedLeads writes count qualified leads straight to the intake topic and
// waits until the last one is in the pool.
func seedLeads(b *testing.B, n *node, count int) {
	cl, err := kgo.NewClient(append(bus.ProducerOpts(n.brokers, 0), kgo.ProducerLinger(5*time.Millisecond))...)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	serde, _ := schemas.NewSerde(context.Background(), "")
	now := time.Now().UnixMilli()
	for i := range count {
		id := "B" + strconv.Itoa(i)
		v, _ := serde.Encode(&schemas.LeadIntake{LeadID: id, Kind: "qualified", At: now, Company: "Acme", Source: "mql", Score: int32(i % 100)})
		cl.Produce(context.Background(), &kgo.Record{Topic: n.cfg.Topics.LeadsIntake, Key: []byte(id), Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Error(err)
			}
		})
	}
	if err := cl.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	mgr := token(b, "boss", auth.RoleManager)
	for _, id := range []string{"B0", "B" + strconv.Itoa(count-1)} {
		testenv.CheckFor(b, 60*time.Second, 20*time.Millisecond, func() error {
			if r := n.call("GET", "/v1/leads/"+id, mgr, nil); r.Body["status"] != "available" {
				return fmt.Errorf("lead %s not in the pool yet", id)
			}
			return nil
		})
	}
}

// BenchmarkTimerLag measures how late durable timers act: 200 detail holds
// of 1 s, opened 20 ms apart, and for each the time from its due moment to
// the lead processor's hold_expired record (the ticker scans every 250 ms;
// the bucket rounds the due time up to the next second).
func BenchmarkTimerLag(b *testing.B) {
	const holds = 200
	n := start(b, Config{PolicyFile: policyFile(b, "selection: {detail_hold: 1s}\n")})
	for i := range holds {
		n.mustRep(fmt.Sprintf("t%03d", i))
	}
	seedLeads(b, n, holds)
	b.ResetTimer()
	for i := range holds {
		r := n.call("POST", fmt.Sprintf("/v1/leads/B%d/open", i), token(b, fmt.Sprintf("t%03d", i), auth.RoleRep), nil)
		if r.Status != 200 {
			b.Fatalf("open: %d %v", r.Status, r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var lags []time.Duration
	deadline := time.Now().Add(30 * time.Second)
	for len(lags) < holds && time.Now().Before(deadline) {
		lags = lags[:0]
		for _, r := range readAll(b, n.brokers, n.cfg.Topics.Events, 100000, time.Second) {
			e := decode[schemas.Event](b, r.Value)
			if e.Type == "hold_expired" {
				lags = append(lags, r.Timestamp.Sub(time.UnixMilli(e.At)))
			}
		}
	}
	b.StopTimer()
	if len(lags) != holds {
		b.Fatalf("%d of %d holds expired", len(lags), holds)
	}
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lags[holds/2]), "p50-lag-ms")
	b.ReportMetric(ms(lags[holds*99/100]), "p99-lag-ms")
	b.ReportMetric(ms(lags[holds-1]), "max-lag-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkQueuePageFirstRender: the rep's queue page (HTML, server
// rendered) with 500 leads in the pool, requested over loopback with a
// session cookie, as a browser's first load does. Reports ms per page.
func BenchmarkQueuePageFirstRender(b *testing.B) {
	n := start(b, Config{})
	n.mustRep("ana")
	seedLeads(b, n, 500)
	req, err := http.NewRequest("GET", n.base+"/ui/queue", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: token(b, "ana", auth.RoleRep)})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var size int
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.Count(string(body), "data-lead=") != 500 {
			b.Fatalf("queue page: %d, %d rows", resp.StatusCode, strings.Count(string(body), "data-lead="))
		}
		size = len(body)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
	b.ReportMetric(float64(size)/1024, "KiB/page")
}

// BenchmarkRestartWithManyLeads puts ORCHARD_BENCH_LEADS leads (default
// 1,000,000; all but 500 closed) into the leads table, then measures what a
// restart costs with that history: the time to ready (every table and view
// recovered), the heap it takes per 100 k leads (after GC, over the heap
// before the restart), and GET /v1/queue with the 500 pickable ones (p50,
// p99 of sequential calls, each with its browse round trip).
func BenchmarkRestartWithManyLeads(b *testing.B) {
	count := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("ORCHARD_BENCH_LEADS")); err == nil && v > 500 {
		count = v
	}
	const pickable = 500
	first := start(b, Config{})
	first.mustRep("ana")
	first.stop()
	set, brokers := first.cfg.Topics, first.brokers

	cl, err := kgo.NewClient(append(bus.ProducerOpts(brokers, 0), kgo.ProducerLinger(20*time.Millisecond), kgo.MaxBufferedRecords(100_000))...)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UnixMilli()
	table := topics.Table(set.LeadsGroup)
	for i := range count {
		l := lead.Lead{ID: fmt.Sprintf("H%07d", i), Status: lead.Converted, Owner: "ana", Method: "claim", Epoch: 1,
			EnteredPoolAt: now - int64(count-i), ClaimedAt: now, ContactedAt: now, Route: "cherry_pick",
			Data: lead.Data{Company: "Company " + strconv.Itoa(i), Employees: 120, ContactName: "Contact Name", ContactTitle: "Head of Sales",
				Source: "webinar", Score: int32(i % 100), Territory: "DACH", Industry: "software", Budget: "50k", Timeline: "Q3", Authority: "decision maker"}}
		if i >= count-pickable {
			l.Status, l.Owner, l.Method, l.Epoch, l.ClaimedAt, l.ContactedAt = lead.Available, "", "", 0, 0, 0
		}
		v, err := processors.LeadCodec.Encode(&l)
		if err != nil {
			b.Fatal(err)
		}
		cl.Produce(context.Background(), &kgo.Record{Topic: table, Key: []byte(l.ID), Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Error(err)
			}
		})
	}
	if err := cl.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	cl.Close()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	began := time.Now()
	n := start(b, Config{Topics: set, Brokers: brokers})
	ready := time.Since(began)
	defer TuneGC()() // from ready on, as the orchard binary runs
	mgr := token(b, "boss", auth.RoleManager)
	last := fmt.Sprintf("H%07d", count-1)
	testenv.CheckFor(b, 60*time.Second, 20*time.Millisecond, func() error {
		if r := n.call("GET", "/v1/leads/"+last, mgr, nil); r.Body["status"] != "available" {
			return fmt.Errorf("lead %s not in the view yet", last)
		}
		return nil
	})
	runtime.GC()
	runtime.ReadMemStats(&after)

	ana := token(b, "ana", auth.RoleRep)
	const calls = 300
	lat := make([]time.Duration, 0, calls)
	b.ResetTimer()
	for range calls {
		t0 := time.Now()
		q := n.call("GET", "/v1/queue", ana, nil)
		lat = append(lat, time.Since(t0))
		if leads, _ := q.Body["leads"].([]any); q.Status != 200 || len(leads) != pickable {
			b.Fatalf("queue: %d, %d leads", q.Status, len(leads))
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(float64(count), "leads")
	b.ReportMetric(ready.Seconds(), "restart-s")
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(count)*100_000/(1<<20), "MiB/100k-leads")
	// What the process took from the OS for its heap: the live heap above
	// plus what the collector's target lets garbage grow to.
	b.ReportMetric(float64(after.HeapSys)/(1<<20), "heap-sys-MiB")
	b.ReportMetric(ms(lat[calls/2]), "queue-p50-ms")
	b.ReportMetric(ms(lat[calls*99/100]), "queue-p99-ms")
	b.ReportMetric(0, "ns/op")
}
