package sim

import (
	"context"
	"errors"
	"fmt"
	"github.com/orchard-leads/orchard/bus"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/analytics"
	"github.com/orchard-leads/orchard/app"
	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/clock"
	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/topics"
)

// Local is one simulation on an Orchard started in this process: the
// embedded broker (or Brokers), its own topics and its own ClickHouse
// database, a virtual clock.
type Local struct {
	PolicyFile  string   // "" : the defaults
	Brokers     []string // empty: an embedded broker in a temporary directory
	ClickHouse  string   // DSN; the run gets a database of its own next to the DSN's (<db>_sim_<label>)
	Label       string   // names the run's topics and database
	Partitions  int32
	Replication int16
}

// Result is one run: what was done and the fairness report of its period.
type Result struct {
	Label   string           `json:"label"`
	Policy  string           `json:"policy"`
	Stats   Stats            `json:"stats"`
	Report  analytics.Report `json:"report"`
	Elapsed time.Duration    `json:"-"`
	// TopRepsShare is the policy's fairness.top_reps_share (concentration).
	TopRepsShare float64 `json:"-"`
}

// StartAt is where a simulation's virtual clock starts: the Monday at
// least days+1 days before now (UTC midnight), so the simulated period
// lies in the past — ages and the report's "until" are measured against
// it — and its weeks start where quotas' weeks start.
func StartAt(now time.Time, days float64) time.Time {
	t := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -int(days)-2)
	for t.Weekday() != time.Monday {
		t = t.AddDate(0, 0, -1)
	}
	return t
}

// Simulate runs cfg on a fresh Orchard and reads the fairness report of
// the simulated period from ClickHouse.
func (lc Local) Simulate(ctx context.Context, cfg Config) (Result, error) {
	began := time.Now()
	if lc.ClickHouse == "" {
		return Result{}, errors.New("simulate needs ClickHouse for its report (--clickhouse; `make simulate` starts one)")
	}
	pol, err := policy.Load(lc.PolicyFile)
	if err != nil {
		return Result{}, err
	}
	if cfg.SLA == 0 {
		cfg.SLA = pol.SLA.FirstContact.D()
	}
	dsn, err := runDatabase(lc.ClickHouse, lc.Label)
	if err != nil {
		return Result{}, err
	}
	if err := analytics.DropDatabase(ctx, dsn); err != nil {
		return Result{}, err
	}
	dir, err := os.MkdirTemp("", "orchard-sim-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	secret := []byte(fmt.Sprintf("orchard-simulation-secret-%d-%s", cfg.Seed, lc.Label))
	vclock := clock.NewVirtual(StartAt(time.Now(), cfg.Days))
	set := topics.New(fmt.Sprintf("sim%d-%s.", time.Now().UnixNano()%1e9, lc.Label))
	parts, repl := lc.Partitions, lc.Replication
	if parts == 0 {
		parts = 4
	}
	if repl == 0 {
		repl = 1
	}
	brokers := lc.Brokers
	port := 0
	if len(brokers) == 0 {
		if port, err = freePort(); err != nil {
			return Result{}, err
		}
		brokers = []string{fmt.Sprintf("127.0.0.1:%d", port)}
	}
	ready := make(chan string, 1)
	acfg := app.Config{EmbeddedPort: port, PolicyFile: lc.PolicyFile, Topics: set, Brokers: lc.Brokers, ClickHouse: dsn, HTTPAddr: "127.0.0.1:0",
		DataDir: dir, Partitions: parts, Replication: repl, Secret: secret, DecisionTimeout: 30 * time.Second,
		Clock: vclock, TickEvery: 10 * time.Millisecond, CommitInterval: 10 * time.Millisecond, Ready: func(addr string) { ready <- addr }}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx, acfg, app.All) }()
	stopped := false // app.Run's answer taken: waiting for it again would block forever
	defer func() {
		stop()
		if !stopped {
			<-done
		}
	}()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		stopped = true
		return Result{}, fmt.Errorf("orchard did not start: %w", err)
	case <-time.After(2 * time.Minute):
		return Result{}, errors.New("orchard not ready after 2 minutes")
	}
	cl, err := kgo.NewClient(bus.ClientOpts(brokers)...)
	if err != nil {
		return Result{}, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var names []string
	for _, s := range set.All() {
		names = append(names, s.Name)
	}
	env := Env{Base: base, Clock: vclock, Token: tokens(secret), HTTP: &http.Client{Timeout: time.Minute},
		Settle: func(ctx context.Context) error {
			return settle(ctx, adm, names, set.ProcessorGroups()...)
		}}
	stats, err := Run(ctx, env, cfg)
	if err != nil {
		return Result{Stats: stats}, err
	}
	if err := sinkCaughtUp(ctx, adm, set); err != nil {
		return Result{Stats: stats}, err
	}
	conn, err := analytics.Open(ctx, dsn)
	if err != nil {
		return Result{Stats: stats}, err
	}
	defer conn.Close()
	rep, err := analytics.Build(ctx, conn, pol, analytics.Period{Since: stats.Start, Until: stats.End})
	if err != nil {
		return Result{Stats: stats}, err
	}
	name := lc.PolicyFile
	if name == "" {
		name = "(defaults)"
	}
	return Result{Label: lc.Label, Policy: name, Stats: stats, Report: rep, Elapsed: time.Since(began),
		TopRepsShare: pol.Fairness.TopRepsShare}, nil
}

// runDatabase is the DSN with the run's own database: <db>_sim_<label>.
func runDatabase(dsn, label string) (string, error) {
	base, query, _ := strings.Cut(dsn, "?")
	i := strings.LastIndex(base, "/")
	if !strings.Contains(base, "://") || i < strings.Index(base, "://")+3 {
		return "", fmt.Errorf("--clickhouse %q: want clickhouse://host:port/database", dsn)
	}
	db := base[i+1:]
	if db == "" {
		db = "orchard"
	}
	out := base[:i+1] + db + "_sim_" + label
	if query != "" {
		out += "?" + query
	}
	return out, nil
}

// tokens mints (and keeps) a token per identity.
func tokens(secret []byte) func(sub, role string) string {
	var mu sync.Mutex
	cache := map[string]string{}
	return func(sub, role string) string {
		mu.Lock()
		defer mu.Unlock()
		k := sub + "/" + role
		if t, ok := cache[k]; ok {
			return t
		}
		t, err := auth.Sign(secret, sub, role, 24*time.Hour, time.Now())
		if err != nil {
			panic(err) // the secret is ours and long enough
		}
		cache[k] = t
		return t
	}
}

// settle returns once the run's topics have stopped growing and every
// processor group has committed up to the end of its inputs: every end
// offset the same over three looks 30 ms apart (longer than the timer
// tick, which writes without a record to answer) and then no group lag, so
// every record sent and every timer that came due has been acted on, down
// the whole saga. Quiet alone was not enough: a step slower than the
// looks (a collection on a busy machine) read as settled.
func settle(ctx context.Context, adm *kadm.Client, names []string, groups ...string) error {
	return settleWithin(ctx, 2*time.Minute, adm, names, groups...)
}

// settleWithin is settle giving up after limit: a group that stops
// committing fails the run with its lag instead of hanging it.
func settleWithin(ctx context.Context, limit time.Duration, adm *kadm.Client, names []string, groups ...string) error {
	deadline := time.Now().Add(limit)
	var last map[string]int64
	var behind int64
	var unknown int
	quiet := 0
	for {
		if time.Now().After(deadline) {
			if behind > 0 {
				return fmt.Errorf("settle: Orchard's processors are still %d records behind after %s", behind, limit)
			}
			if unknown > 0 {
				return fmt.Errorf("settle: Orchard's processors' lag could not be measured for %s", limit)
			}
			return fmt.Errorf("settle: Orchard's topics still growing after %s", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(30 * time.Millisecond):
		}
		ends, err := adm.ListEndOffsets(ctx, names...)
		if err != nil {
			return fmt.Errorf("settle: %w", err)
		}
		now := map[string]int64{}
		ends.Each(func(o kadm.ListedOffset) { now[fmt.Sprint(o.Topic, "/", o.Partition)] = o.Offset })
		if sameOffsets(now, last) {
			quiet++
		} else {
			quiet = 0
		}
		last = now
		if quiet < 3 {
			continue
		}
		if behind, unknown, err = bus.GroupsBehind(ctx, adm, groups...); err != nil {
			return fmt.Errorf("settle: %w", err)
		}
		if behind == 0 && unknown == 0 {
			return nil
		}
		quiet = 0
	}
}

func sameOffsets(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// sinkCaughtUp waits until the ClickHouse sink has committed every event.
func sinkCaughtUp(ctx context.Context, adm *kadm.Client, set topics.Set) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ends, err := adm.ListEndOffsets(ctx, set.Events)
		if err != nil {
			return err
		}
		committed, err := adm.FetchOffsets(ctx, set.SinkGroup)
		if err != nil {
			return err
		}
		behind := int64(0)
		ends.Each(func(o kadm.ListedOffset) {
			c, _ := committed.Lookup(o.Topic, o.Partition)
			behind += max(o.Offset-max(c.At, 0), 0)
		})
		if behind == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the ClickHouse sink is %d events behind after 2 minutes", behind)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
