// Package app wires Orchard's components together: the embedded broker,
// topics, the Goka processors, the HTTP API and the ClickHouse sink. One
// process can run all of them (`orchard run`) or any one of them.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lovoo/goka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/orchard-leads/orchard/alerts"
	"github.com/orchard-leads/orchard/analytics"
	"github.com/orchard-leads/orchard/api"
	"github.com/orchard-leads/orchard/bus"
	"github.com/orchard-leads/orchard/clock"
	"github.com/orchard-leads/orchard/fairness"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/policyfeed"
	"github.com/orchard-leads/orchard/processors"
	"github.com/orchard-leads/orchard/rep"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
	"github.com/orchard-leads/orchard/topics"
	"github.com/orchard-leads/orchard/web"
)

// Components to run.
type Components struct {
	Processors, API, Sink bool
	CreateTopics          bool
}

// All is `orchard run`.
var All = Components{Processors: true, API: true, Sink: true, CreateTopics: true}

// Config of a process.
type Config struct {
	PolicyFile   string
	Topics       topics.Set // names; topics.Default unless a prefix is set
	Brokers      []string   // empty: embedded Kafka under DataDir
	EmbeddedPort int
	ClickHouse   string // empty: no analytics
	RegistryURL  string
	// RegistrySubjects names the subjects schemas are registered under.
	RegistrySubjects schemas.SubjectStrategy
	HTTPAddr         string
	DataDir          string
	Partitions       int32
	Replication      int16 // of created topics; the embedded broker always 1
	MinInsync        int   // min.insync.replicas of created topics; the embedded broker always 1
	// MaxRecordBytes is the largest record Orchard writes (sarama's and
	// franz-go's producer limit); lead field limits derive from it.
	MaxRecordBytes  int
	Secret          []byte
	DecisionTimeout time.Duration
	// Ready is called once the process accepts requests, with the HTTP
	// address ("" when the API is not part of it).
	Ready func(httpAddr string)
	// Clock stamps API commands and drives the timer ticker (tests may
	// set a virtual one); default the wall clock.
	Clock clock.Clock
	// TickEvery is the timer ticker's period (default 250 ms).
	TickEvery time.Duration
	// CommitInterval is how often the processors commit what they have
	// processed (0: Goka's 1 s). The simulator commits every 10 ms and
	// takes a step as settled only when every group has committed up to
	// the end of its inputs.
	CommitInterval time.Duration
	// ReconcileEvery is the period of the timer reconciler (default 30 s);
	// it puts back lead timers overdue by more than ReconcileGrace that the
	// due index lost (processors/leadtimers.go).
	ReconcileEvery, ReconcileGrace time.Duration
	// AlertsEvery is how often the sink evaluates the red flags over the
	// last AlertsWindow and writes changes to the alerts topic (0: never).
	AlertsEvery, AlertsWindow time.Duration
	// SinkBatchRows and SinkLinger close the ClickHouse sink's batches
	// (0: analytics.DefaultBatchRows, DefaultLinger).
	SinkBatchRows int
	SinkLinger    time.Duration
}

// MinSecretBytes is the shortest token secret accepted outside development
// (the embedded broker): HS256 with a short secret can be brute-forced.
const MinSecretBytes = 32

// Run runs the chosen components until ctx ends or one of them fails.
func Run(ctx context.Context, cfg Config, what Components) error {
	pol, err := policy.Load(cfg.PolicyFile)
	if err != nil {
		return err
	}
	if what.API && len(cfg.Secret) == 0 {
		return errors.New("ORCHARD_SECRET is not set: the API needs it to verify tokens")
	}
	if what.API && len(cfg.Brokers) > 0 && len(cfg.Secret) < MinSecretBytes {
		return fmt.Errorf("ORCHARD_SECRET has %d bytes: at least %d outside development (the embedded broker); e.g. `openssl rand -hex 32`", len(cfg.Secret), MinSecretBytes)
	}
	if cfg.MaxRecordBytes == 0 {
		cfg.MaxRecordBytes = lead.DefaultMaxRecordBytes
	}
	if cfg.MaxRecordBytes < 64<<10 {
		return fmt.Errorf("--max-record-bytes %d: at least 65536", cfg.MaxRecordBytes)
	}
	machine := lead.Machine{Policy: pol, Limits: lead.LimitsFor(cfg.MaxRecordBytes)}
	metrics := api.NewMetrics()
	if cfg.Topics.LeadsIntake == "" {
		cfg.Topics = topics.Default
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	brokers := cfg.Brokers
	if len(brokers) == 0 {
		if what != All {
			return errors.New("--brokers is required when a component runs on its own (the embedded Kafka is for `orchard run`)")
		}
		emb, err := bus.StartEmbedded(filepath.Join(cfg.DataDir, "kafka"), cfg.EmbeddedPort)
		if err != nil {
			return err
		}
		defer emb.Close()
		brokers = emb.Brokers()
		cfg.Replication, cfg.MinInsync = 1, 1 // one broker
		slog.Info("embedded Kafka (kfake) started", "brokers", brokers, "data", filepath.Join(cfg.DataDir, "kafka"))
	}

	if err := ensureTopics(ctx, brokers, cfg, what.CreateTopics); err != nil {
		return err
	}
	for _, kind := range []string{timer.Hold, timer.SLA, timer.Escalate, timer.Pickable, timer.Aged, timer.Forget} { // the kinds the reconciler looks for: a zero is a figure
		metrics.TimersReconciled.WithLabelValues(kind)
	}
	metrics.Registry.MustRegister(processors.Collectors()...)
	metrics.Registry.MustRegister(analytics.Collectors()...)
	lagClient, err := kgo.NewClient(bus.ClientOpts(brokers)...)
	if err != nil {
		return err
	}
	defer lagClient.Close()
	metrics.Registry.MustRegister(newLagCollector(kadm.NewClient(lagClient),
		append(cfg.Topics.ProcessorGroups(), cfg.Topics.SinkGroup)...))
	serde, err := schemas.Open(ctx, schemas.Registry{URL: cfg.RegistryURL, Subjects: cfg.RegistrySubjects, Topics: cfg.Topics.ValueSchemas()})
	if err != nil {
		return err
	}

	parent := ctx
	runCtx, cancelRun := context.WithCancel(parent)
	defer cancelRun()
	g, ctx := errgroup.WithContext(runCtx)
	// failed ends a start that could not finish: what already runs is
	// stopped and waited for, and when the step failed only because one of
	// those components had (its context ended), that component's error is
	// the one worth reporting.
	failed := func(err error) error {
		cancelRun()
		if gerr := g.Wait(); gerr != nil && parent.Err() == nil && errors.Is(err, context.Canceled) {
			return gerr
		}
		return err
	}
	var ready []func(context.Context) error

	var live *policy.Live
	var publish func(ctx context.Context, p policy.Policy, by string, at int64, previous string) (string, error)
	if what.Processors || what.API || what.Sink {
		if live, publish, err = followPolicy(ctx, g, brokers, serde, cfg, pol); err != nil {
			return failed(err)
		}
	}

	var owned ownership
	if what.Processors {
		env := processors.Env{Brokers: brokers, MaxRecordBytes: cfg.MaxRecordBytes, CommitInterval: cfg.CommitInterval}
		leadsProc, timersProc := processors.NewLeads(serde, cfg.Topics, machine).Follow(live), processors.NewTimers(serde, cfg.Topics)
		owned = ownership{timers: timersProc.Owned(), leads: leadsProc.LeadTimers()}
		for _, build := range []func(processors.Env) (*goka.Processor, error){
			leadsProc.Processor,
			processors.NewReps(serde, cfg.Topics, rep.Machine{Policy: pol}).Follow(live).Processor,
			timersProc.Processor,
			processors.NewDispatch(serde, cfg.Topics).Processor,
		} {
			p, err := build(env)
			if err != nil {
				return failed(err)
			}
			g.Go(func() error { return p.Run(ctx) })
			ready = append(ready, p.WaitForReadyContext)
		}
	}

	if what.Processors {
		if err := startTicker(ctx, g, brokers, serde, cfg, metrics, owned, &ready); err != nil {
			return failed(err)
		}
	}

	var srv *http.Server
	var ln net.Listener
	var apiServer *api.Server
	if what.API {
		apiServer, srv, ln, err = startAPI(ctx, g, brokers, serde, machine, cfg, metrics, &ready)
		if err != nil {
			return failed(err)
		}
		apiServer.Policy, apiServer.PublishPolicy = live, publish
		if cfg.ClickHouse != "" {
			conn, err := analytics.Open(ctx, cfg.ClickHouse)
			if err != nil {
				return failed(err)
			}
			defer conn.Close()
			apiServer.Fairness = func(ctx context.Context, pol policy.Policy, p analytics.Period) (analytics.Report, error) {
				return analytics.Build(ctx, conn, pol, p)
			}
			apiServer.LeadHistory = func(ctx context.Context, id string) ([]analytics.LeadEvent, error) {
				return analytics.LeadHistory(ctx, conn, id)
			}
		}
	}

	var opsReady atomic.Bool
	if !what.API && cfg.HTTPAddr != "" {
		if srv, ln, err = startOps(ctx, g, cfg.HTTPAddr, metrics.Registry, &opsReady); err != nil {
			return failed(fmt.Errorf("http: %w", err))
		}
	}

	if what.Sink {
		if cfg.ClickHouse == "" {
			slog.Warn("no --clickhouse DSN: running without analytics (events stay on the events topic)")
		} else {
			conn, err := analytics.Open(ctx, cfg.ClickHouse)
			if err != nil {
				return failed(err)
			}
			defer conn.Close()
			applied, err := analytics.Migrate(ctx, conn)
			if err != nil {
				return failed(err)
			}
			if len(applied) > 0 {
				slog.Info("ClickHouse migrations applied", "files", applied)
			}
			sink := &analytics.Sink{Conn: conn, Serde: serde, Brokers: brokers, Topics: cfg.Topics,
				BatchRows: cfg.SinkBatchRows, Linger: cfg.SinkLinger}
			g.Go(func() error { return sink.Run(ctx) })
			if cfg.AlertsEvery > 0 {
				if cfg.AlertsWindow <= 0 {
					cfg.AlertsWindow = 7 * 24 * time.Hour
				}
				w := &alerts.Watcher{Brokers: brokers, Topic: cfg.Topics.Alerts, Serde: serde, Every: cfg.AlertsEvery, Window: cfg.AlertsWindow,
					Now: cfg.Clock.Now, Evaluate: func(ctx context.Context, from, until time.Time) ([]fairness.Flag, string, error) {
						cur := live.Current()
						r, err := analytics.Fairness(ctx, conn, cur.Policy, analytics.Period{Since: from, Until: until})
						return r.RedFlags, cur.Version, err
					}}
				g.Go(func() error { return w.Run(ctx) })
			}
		}
	}

	g.Go(func() error {
		for _, wait := range ready {
			if err := wait(ctx); err != nil {
				return nil // shutting down
			}
		}
		addr := ""
		if apiServer != nil {
			apiServer.SetReady()
		}
		opsReady.Store(true)
		if ln != nil {
			addr = ln.Addr().String()
		}
		if cfg.Ready != nil {
			cfg.Ready(addr)
		}
		return nil
	})
	if srv != nil {
		g.Go(func() error {
			<-ctx.Done()
			shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(shut); err != nil {
				slog.Warn("http: connections still open after 5 s, closing them", "err", err)
				return srv.Close()
			}
			return nil
		})
	}
	return g.Wait()
}

// followPolicy makes the policy data (package policyfeed): it reads the
// policy topic, puts the --policy file in force when its version never was
// (a first start, or an edited file; without a file, the defaults go only
// into an empty topic), follows the topic from then on, and
// on SIGHUP puts the file in force again. A bad file on SIGHUP is logged
// with its path and reason and the policy in force stays.
func followPolicy(ctx context.Context, g *errgroup.Group, brokers []string, serde *schemas.Serde, cfg Config, pol policy.Policy) (
	*policy.Live, func(context.Context, policy.Policy, string, int64, string) (string, error), error) {
	live := policy.NewLive(pol)
	cl, err := kgo.NewClient(bus.ProducerOpts(brokers, cfg.MaxRecordBytes)...)
	if err != nil {
		return nil, nil, err
	}
	publish := func(ctx context.Context, p policy.Policy, by string, at int64, previous string) (string, error) {
		v, err := policyfeed.Publish(ctx, cl, serde, cfg.Topics, p, by, at, previous)
		if errors.Is(err, policyfeed.ErrUnchanged) {
			return v, api.ErrPolicyUnchanged
		}
		return v, err
	}
	feed := &policyfeed.Feed{Brokers: brokers, Topics: cfg.Topics, Serde: serde, Live: live}
	found, err := feed.Load(ctx)
	if err != nil {
		cl.Close()
		return nil, nil, err
	}
	g.Go(func() error { defer cl.Close(); return feed.Run(ctx) })
	seen := false
	for _, v := range live.History() {
		seen = seen || v.Version == pol.Version()
	}
	// Without --policy a component follows the topic; it writes the
	// defaults only into an empty topic (else an api or sink started without
	// the file would put the defaults over the operator's policy).
	if !seen && (cfg.PolicyFile != "" || !found) {
		changed := live.Changed()
		previous := "" // an empty topic: the file's policy is the first version
		if found {
			previous = live.Current().Version
		}
		if _, err := publish(ctx, pol, "startup", cfg.Clock.Now().UnixMilli(), previous); err != nil {
			return nil, nil, err
		}
		wait, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		for live.Current().Version != pol.Version() {
			select {
			case <-changed:
				changed = live.Changed()
			case <-wait.Done():
				return nil, nil, fmt.Errorf("policy: version %s written but not read back from %s in 30 s", pol.Version(), cfg.Topics.Policy)
			}
		}
	} else if cur := live.Current(); cur.Version != pol.Version() && cfg.PolicyFile != "" {
		slog.Warn("policy: the policy topic's version is in force; the file's version was in force before and is not put back at start (kill -HUP or PUT /v1/policy applies it)",
			"in_force", cur.Version, "file", pol.Version(), "by", cur.By)
	}
	if cfg.PolicyFile != "" {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		g.Go(func() error {
			defer signal.Stop(hup)
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-hup:
				}
				p, err := policy.Load(cfg.PolicyFile)
				if err != nil {
					slog.Error("policy: SIGHUP: the file is refused; the policy in force stays", "err", err, "in_force", live.Current().Version)
					continue
				}
				v, err := publish(ctx, p, "sighup", cfg.Clock.Now().UnixMilli(), live.Current().Version)
				switch {
				case errors.Is(err, api.ErrPolicyUnchanged):
					slog.Info("policy: SIGHUP: the file is the policy in force", "version", v)
				case err != nil:
					slog.Error("policy: SIGHUP: could not write the new version", "err", err)
				default:
					slog.Info("policy: SIGHUP: new version written", "version", v, "mode", p.Mode)
				}
			}
		})
	}
	return live, publish, nil
}

func ensureTopics(ctx context.Context, brokers []string, cfg Config, create bool) error {
	cl, err := kgo.NewClient(bus.ClientOpts(brokers)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	tc := topics.Config{Partitions: cfg.Partitions, Replication: cfg.Replication, MinInsync: cfg.MinInsync}
	if create {
		return cfg.Topics.Create(ctx, adm, tc)
	}
	return cfg.Topics.Check(ctx, adm, tc)
}

func startAPI(ctx context.Context, g *errgroup.Group, brokers []string, serde *schemas.Serde, machine lead.Machine, cfg Config,
	metrics *api.Metrics, ready *[]func(context.Context) error) (*api.Server, *http.Server, net.Listener, error) {
	env := processors.Env{Brokers: brokers, MaxRecordBytes: cfg.MaxRecordBytes}
	index := api.NewLeadIndex()
	leads, err := goka.NewView(brokers, goka.GroupTable(goka.Group(cfg.Topics.LeadsGroup)), processors.LeadCodec,
		env.ViewOptions(goka.WithViewCallback(index.Update))...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("lead view: %w", err)
	}
	reps, err := goka.NewView(brokers, goka.GroupTable(goka.Group(cfg.Topics.RepsGroup)), processors.RepCodec, env.ViewOptions()...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("rep view: %w", err)
	}
	for _, v := range []*goka.View{leads, reps} {
		g.Go(func() error { return v.Run(ctx) })
		*ready = append(*ready, func(ctx context.Context) error {
			select {
			case <-v.WaitRunning():
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}
	waiter, err := api.NewWaiter(ctx, brokers, serde, cfg.Topics.Decisions)
	if err != nil {
		return nil, nil, nil, err
	}
	g.Go(func() error { waiter.Run(ctx); return nil })
	producer, err := kgo.NewClient(bus.ProducerOpts(brokers, cfg.MaxRecordBytes)...)
	if err != nil {
		return nil, nil, nil, err
	}
	go func() { <-ctx.Done(); producer.Close() }()
	s := &api.Server{Secret: cfg.Secret, Topics: cfg.Topics, Serde: serde, Producer: producer, Waiter: waiter,
		Store: api.ViewStore{Leads: leads, Reps: reps, Index: index}, Machine: machine, RepMachine: rep.Machine{Policy: machine.Policy}, Now: cfg.Clock.Now,
		DecisionTimeout: cfg.DecisionTimeout, Metrics: metrics}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("http: %w", err)
	}
	// Requests derive from the process context: on shutdown a call waiting
	// for its decision gives up at once (503) instead of holding Shutdown.
	// Bounded: slow or endless clients cannot hold connections (bodies are
	// bounded in the handlers, headers here).
	apiHandler := s.Handler()
	pages := &web.Pages{Secret: cfg.Secret, API: apiHandler, Now: cfg.Clock.Now,
		PoolVersion: func() string { return strconv.FormatUint(index.Changes(), 10) }}
	root := http.NewServeMux()
	root.Handle("/ui/", pages.Handler())
	root.Handle("/", apiHandler)
	srv := &http.Server{Handler: root, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: cfg.DecisionTimeout + 30*time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	return s, srv, ln, nil
}

// ownership is which partitions of the timers group this instance's timer
// processor holds now, and its lead processor's part of the leads table.
type ownership struct {
	timers *processors.Owned
	leads  *processors.LeadTimers
}

// startTicker runs the timer tickers and the timer reconciler. One ticker
// scans the timers table (a Goka view) for due rows — the reps' timers —
// and asks each to fire; the other asks the lead processor's own table
// which of its leads have a timer due (a lead's timers are its row,
// processors/leadtimers.go) and sends them timer_fired. The reconciler
// checks the leads' rows against the index the lead ticker reads. Every
// processor instance runs all three, each over the partitions its own
// processors hold: one fire per due timer whatever the number of
// instances. A timer fired twice in a rebalance still acts once.
func startTicker(ctx context.Context, g *errgroup.Group, brokers []string, serde *schemas.Serde, cfg Config,
	metrics *api.Metrics, owned ownership, ready *[]func(context.Context) error) error {
	env := processors.Env{Brokers: brokers, MaxRecordBytes: cfg.MaxRecordBytes}
	timers, err := goka.NewView(brokers, goka.GroupTable(goka.Group(cfg.Topics.TimersGroup)), processors.TimerCodec,
		env.ViewOptions(goka.WithViewStorageBuilder(processors.SortedMemory()))...)
	if err != nil {
		return fmt.Errorf("timer view: %w", err)
	}
	producer, err := kgo.NewClient(bus.ProducerOpts(brokers, cfg.MaxRecordBytes)...)
	if err != nil {
		return err
	}
	produce := func(ctx context.Context, recs []*kgo.Record) error {
		return producer.ProduceSync(ctx, recs...).FirstErr()
	}
	owned.leads.Position = processors.BrokerPosition(kadm.NewClient(producer), cfg.Topics.LeadCmds, cfg.Topics.LeadsGroup)
	running := timers.WaitRunning()
	*ready = append(*ready, func(ctx context.Context) error {
		select {
		case <-running:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	backlog := newBacklog(metrics)
	t := &timer.Ticker{Clock: cfg.Clock, Table: viewTimers{timers, owned.timers.Key}, Every: cfg.TickEvery,
		Fire: func(ctx context.Context, keys []string, now time.Time) error {
			recs := make([]*kgo.Record, 0, len(keys))
			for _, k := range keys {
				b, err := serde.Encode(&schemas.TimerCommand{Bucket: timer.BucketOf(k), Type: schemas.TimerFire, At: now.UnixMilli()})
				if err != nil {
					return err
				}
				recs = append(recs, &kgo.Record{Topic: cfg.Topics.Timers, Key: []byte(k), Value: b})
			}
			return produce(ctx, recs)
		},
		Backlog: backlog.report(0)}
	leadTicker := &timer.Ticker{Clock: cfg.Clock, Table: owned.leads, Every: cfg.TickEvery,
		Fire: func(ctx context.Context, keys []string, _ time.Time) error {
			fires := owned.leads.Fires(keys)
			recs := make([]*kgo.Record, 0, len(fires))
			for i := range fires {
				b, err := serde.Encode(&fires[i])
				if err != nil {
					return err
				}
				recs = append(recs, &kgo.Record{Topic: cfg.Topics.LeadCmds, Key: []byte(fires[i].LeadID), Value: b})
			}
			return produce(ctx, recs)
		},
		Backlog: backlog.report(1)}
	rec := &timer.Reconciler{Clock: cfg.Clock, Every: cfg.ReconcileEvery, Grace: cfg.ReconcileGrace,
		Lost:  owned.leads.Lost,
		Found: func(t schemas.TimerCommand) { metrics.TimersReconciled.WithLabelValues(t.Kind).Inc() },
	}
	// The views outlive the loops that read them: closing a view while the
	// ticker iterates it is a data race (and a crash in LevelDB).
	viewCtx, stopViews := context.WithCancel(context.Background())
	g.Go(func() error { return timers.Run(viewCtx) })
	g.Go(func() error {
		defer stopViews()
		defer producer.Close()
		select {
		case <-timers.WaitRunning():
		case <-ctx.Done():
			return nil
		}
		if err := countPartitions(ctx, producer, map[string]*processors.Owned{
			string(goka.GroupTable(goka.Group(cfg.Topics.TimersGroup))): owned.timers,
		}); err != nil {
			return err
		}
		var loops sync.WaitGroup
		loops.Go(func() { rec.Run(ctx) })
		loops.Go(func() { leadTicker.Run(ctx) })
		t.Run(ctx)
		loops.Wait()
		return nil
	})
	return nil
}

// backlog sums the two tickers' backlogs into the timer gauges.
type timerBacklog struct {
	mu      sync.Mutex
	metrics *api.Metrics
	due     [2]int
	oldest  [2]time.Duration
}

func newBacklog(m *api.Metrics) *timerBacklog { return &timerBacklog{metrics: m} }

func (b *timerBacklog) report(i int) func(int, time.Duration) {
	return func(due int, oldest time.Duration) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.due[i], b.oldest[i] = due, oldest
		b.metrics.TimersDue.Set(float64(b.due[0] + b.due[1]))
		b.metrics.TimerOldestDue.Set(max(b.oldest[0], b.oldest[1]).Seconds())
	}
}

// countPartitions tells each ownership how many partitions its table has.
func countPartitions(ctx context.Context, client *kgo.Client, tables map[string]*processors.Owned) error {
	names := make([]string, 0, len(tables))
	for t := range tables {
		names = append(names, t)
	}
	details, err := kadm.NewClient(client).ListTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("timer ticker: partitions of %v: %w", names, err)
	}
	for name, o := range tables {
		d, ok := details[name]
		if !ok || d.Err != nil || len(d.Partitions) == 0 {
			return fmt.Errorf("timer ticker: partitions of %s: %v", name, d.Err)
		}
		o.SetCount(int32(len(d.Partitions)))
	}
	return nil
}

// viewTimers lists the timers to fire by a range scan of the timers view:
// the rows of the partitions this instance owns.
type viewTimers struct {
	v    *goka.View
	owns func(key string) bool
}

func (b viewTimers) DueTimers(upTo time.Time) ([]string, error) {
	it, err := b.v.IteratorWithRange("", timer.Bucket(upTo.Add(time.Millisecond)))
	if err != nil {
		return nil, err
	}
	defer it.Release()
	var out []string
	for it.Next() {
		// Storages differ on whether the range limit is inclusive: filter.
		k := it.Key()
		if !timer.Due(k, upTo) || !b.owns(k) {
			continue
		}
		if v, err := it.Value(); err == nil && v != nil && timer.ShouldFire(v.(*schemas.TimerCommand), upTo) {
			out = append(out, k)
		}
	}
	return out, nil
}
