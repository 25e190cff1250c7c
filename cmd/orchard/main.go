// Command orchard is the one binary of Orchard: `orchard run` runs every
// component in one process; `orchard help` lists the rest.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	"github.com/orchard-leads/orchard/analytics"
	"github.com/orchard-leads/orchard/app"
	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
	"github.com/orchard-leads/orchard/web"
)

func main() {
	if err := root().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "orchard:", err)
		os.Exit(1)
	}
}

func root() *cobra.Command {
	r := &cobra.Command{
		Use:   "orchard",
		Short: "Cherry-pick lead selection with guardrails, over Kafka, with fairness analytics in ClickHouse",
		Long: `orchard runs Orchard. Every flag can also come from an ORCHARD_* environment
variable: --brokers from ORCHARD_BROKERS, --decision-timeout from
ORCHARD_DECISION_TIMEOUT; a flag on the command line wins.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var level, format string
	r.PersistentFlags().StringVar(&level, "log-level", "info", "debug, info, warn or error (ORCHARD_LOG_LEVEL)")
	r.PersistentFlags().StringVar(&format, "log-format", "text", "text or json, on stderr (ORCHARD_LOG_FORMAT)")
	r.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		for name, v := range map[string]*string{"log-level": &level, "log-format": &format} {
			if env := os.Getenv("ORCHARD_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); env != "" && !cmd.Flags().Changed(name) {
				*v = env
			}
		}
		h, err := logHandler(level, format)
		if err != nil {
			return err
		}
		slog.SetDefault(slog.New(h))
		return nil
	}
	r.AddCommand(schemasCmd(), serveCmd("run", "Run every component in one process (embedded Kafka without --brokers)", app.All),
		serveCmd("processor", "Run only the Goka processors (needs --brokers)", app.Components{Processors: true}),
		serveCmd("api", "Run only the HTTP API (needs --brokers)", app.Components{API: true}),
		serveCmd("sink", "Run only the ClickHouse sink (needs --brokers and --clickhouse)", app.Components{Sink: true}),
		tokenCmd(), topicsCmd(), deadLetterCmd(), reportCmd(), simulateCmd())
	return r
}

// fromEnv fills every flag not given on the command line from
// ORCHARD_<FLAG>, then from the --config file: command line, environment,
// config file, default, in that order.
func fromEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := "ORCHARD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := cmd.Flags().Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, e)
			}
		}
	})
	if err != nil {
		return err
	}
	if f := cmd.Flags().Lookup("config"); f != nil && f.Value.String() != "" {
		return fromConfigFile(cmd, f.Value.String())
	}
	return nil
}

// fromConfigFile reads a YAML file whose keys are flag names
// (brokers: "k1:9092,k2:9092", clickhouse: ..., policy: policy.yaml).
func fromConfigFile(cmd *cobra.Command, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(b, &values); err != nil {
		return fmt.Errorf("--config %s: %w", path, err)
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := cmd.Flags().Lookup(k)
		if f == nil || k == "config" {
			return fmt.Errorf("--config %s: %s: unknown setting (the keys are the flags of `orchard %s --help`)", path, k, cmd.Name())
		}
		if f.Changed {
			continue // the command line or the environment said otherwise
		}
		if err := cmd.Flags().Set(k, fmt.Sprint(values[k])); err != nil {
			return fmt.Errorf("--config %s: %s: %w", path, k, err)
		}
	}
	return nil
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func serveCmd(use, short string, what app.Components) *cobra.Command {
	var (
		cfg      app.Config
		brokers  string
		prefix   string
		repl     int
		subjects string
	)
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := fromEnv(cmd); err != nil {
				return err
			}
			if brokers != "" {
				cfg.Brokers = strings.Split(brokers, ",")
			}
			if cfg.SinkBatchRows < 1 || cfg.SinkBatchRows > 1_000_000 {
				return fmt.Errorf("--sink-batch-rows must be 1..1000000, got %d", cfg.SinkBatchRows)
			}
			if cfg.SinkLinger < 10*time.Millisecond || cfg.SinkLinger > time.Minute {
				return fmt.Errorf("--sink-linger must be 10ms..1m, got %s", cfg.SinkLinger)
			}
			if what.Sink && !what.API && cfg.ClickHouse == "" {
				return fmt.Errorf("--clickhouse is required for the sink")
			}
			var err error
			if cfg.RegistrySubjects, err = schemas.ParseSubjectStrategy(subjects); err != nil {
				return fmt.Errorf("--schema-subjects: %w", err)
			}
			cfg.Replication = int16(repl)
			cfg.Topics = topics.New(prefix)
			cfg.Secret = []byte(os.Getenv("ORCHARD_SECRET"))
			cfg.Ready = func(addr string) {
				app.TuneGC() // the collector's target for serving, unless GOGC is set (app/gc.go)
				if addr != "" {
					fmt.Printf("orchard ready on http://%s\n", addr)
				} else {
					fmt.Println("orchard ready")
				}
			}
			ctx, cancel := signalContext()
			defer cancel()
			err = app.Run(ctx, cfg, what)
			if ctx.Err() != nil {
				slog.Info("orchard stopped")
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.PolicyFile, "policy", "", "policy file (YAML, see policy/default.yaml); default: the built-in defaults")
	f.String("config", "", "YAML file of flag values (keys are flag names: brokers, clickhouse, policy, http, ...)")
	f.StringVar(&brokers, "brokers", "", "Kafka brokers, comma-separated; empty: in-process Kafka with its data in --data")
	f.StringVar(&cfg.ClickHouse, "clickhouse", "", "ClickHouse DSN (native protocol), e.g. clickhouse://127.0.0.1:9000/orchard; empty: no analytics")
	f.StringVar(&cfg.RegistryURL, "schema-registry", "", "Confluent-compatible schema registry URL: schemas registered (BACKWARD) at start, records framed with their schema id; empty: plain Avro without framing")
	f.StringVar(&subjects, "schema-subjects", "record", "registry subject of each schema: record (orchard.LeadIntake, one per record type) or topic (leads.intake-value, one per topic)")
	if what.API {
		f.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:8080", "HTTP listen address of the API (also /metrics and /healthz)")
	} else {
		f.StringVar(&cfg.HTTPAddr, "http", "", "listen address of /metrics and /healthz for this instance; empty: none")
	}
	f.StringVar(&cfg.DataDir, "data", ".orchard", "data directory of the embedded Kafka (processor tables are rebuilt from Kafka at start)")
	f.IntVar(&cfg.EmbeddedPort, "embedded-port", 19092, "port of the in-process Kafka")
	f.Int32Var(&cfg.Partitions, "partitions", 8, "partitions of every topic Orchard creates")
	f.StringVar(&prefix, "topic-prefix", "", "prefix of every topic and consumer group name (several deployments on one cluster)")
	f.IntVar(&repl, "replication", 3, "replication factor of created topics, checked against the cluster at start (the embedded broker: always 1)")
	f.IntVar(&cfg.MinInsync, "min-insync-replicas", 0, "min.insync.replicas of created topics: replicas that must have a write before it is acknowledged; 0: one less than --replication, at least 1 (the embedded broker: 1)")
	f.IntVar(&cfg.MaxRecordBytes, "max-record-bytes", 1_000_000, "largest record Orchard writes (keep at or below the broker's message.max.bytes); lead field limits derive from it")
	f.DurationVar(&cfg.DecisionTimeout, "decision-timeout", 5*time.Second, "how long an API call waits for its decision")
	f.DurationVar(&cfg.AlertsEvery, "alerts-every", time.Minute, "how often the sink evaluates the fairness red flags and writes those raised or cleared to the alerts topic (0: never)")
	f.IntVar(&cfg.SinkBatchRows, "sink-batch-rows", analytics.DefaultBatchRows, "the ClickHouse sink inserts a batch once it has this many events ...")
	f.DurationVar(&cfg.SinkLinger, "sink-linger", analytics.DefaultLinger, "... or once its first event is this old (the most an event waits to be queryable, under load less)")
	f.DurationVar(&cfg.AlertsWindow, "alerts-window", 7*24*time.Hour, "the period each alert evaluation looks back over")
	f.DurationVar(&cfg.ReconcileEvery, "timer-reconcile-every", 30*time.Second, "how often the timer reconciler checks every lead held here against the due index of its timers and puts back any missing")
	f.DurationVar(&cfg.ReconcileGrace, "timer-reconcile-grace", 30*time.Second, "how overdue a timer must be before the reconciler calls it lost")
	return cmd
}

func tokenCmd() *cobra.Command {
	var sub, role, link string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "token --sub ID --role rep|manager|integration [--ttl 24h]",
		Short: "Print a bearer token signed with $ORCHARD_SECRET",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := fromEnv(cmd); err != nil {
				return err
			}
			if link != "" {
				l, err := web.SignInLink([]byte(os.Getenv("ORCHARD_SECRET")), strings.TrimSuffix(link, "/"), sub, role, time.Now())
				if err != nil {
					return err
				}
				fmt.Println(l)
				return nil
			}
			tok, err := auth.Sign([]byte(os.Getenv("ORCHARD_SECRET")), sub, role, ttl, time.Now())
			if err != nil {
				return err
			}
			fmt.Println(tok)
			return nil
		},
	}
	cmd.Flags().StringVar(&sub, "sub", "", "subject: the rep id, or a service name")
	cmd.Flags().StringVar(&role, "role", "", "rep, manager or integration")
	cmd.Flags().DurationVar(&ttl, "ttl", 24*time.Hour, "validity")
	cmd.Flags().StringVar(&link, "link", "", "instead of a token, print a one-time sign-in link to the pages, valid 15 minutes: --link for make run's http://127.0.0.1:8080, --link=ADDRESS for another Orchard")
	cmd.Flags().Lookup("link").NoOptDefVal = "http://127.0.0.1:8080"
	return cmd
}

func topicsCmd() *cobra.Command {
	var brokers, prefix, registryURL string
	var partitions int32
	var repl, minInsync int
	// withAdmin runs fn with an admin client and a context that ends on
	// SIGINT/SIGTERM.
	withAdmin := func(cmd *cobra.Command, fn func(context.Context, *kadm.Client) error) error {
		return withKafka(cmd, brokers, func(ctx context.Context, cl *kgo.Client) error { return fn(ctx, kadm.NewClient(cl)) })
	}
	create := &cobra.Command{
		Use: "create", Short: "Create every topic of topics/ (idempotent) and check co-partitioning", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				if err := topics.New(prefix).Create(ctx, adm, topics.Config{Partitions: partitions, Replication: int16(repl), MinInsync: minInsync}); err != nil {
					return err
				}
				fmt.Println("topics ready")
				return nil
			})
		},
	}
	create.Flags().Int32Var(&partitions, "partitions", 8, "partitions of every created topic")
	create.Flags().IntVar(&repl, "replication", 3, "replication factor, checked against the cluster's broker count")
	create.Flags().IntVar(&minInsync, "min-insync-replicas", 0, "min.insync.replicas of the created topics; 0: one less than --replication, at least 1")
	describe := &cobra.Command{
		Use: "describe", Short: "Show every declared topic and check co-partitioning", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				return describeTopics(ctx, adm, topics.New(prefix))
			})
		},
	}
	var fromStart, follow bool
	var limit int
	tail := &cobra.Command{
		Use:   "tail TOPIC",
		Short: "Print a topic's records as JSON lines, decoded with their Avro schema (assignments, events, decisions, deadletter, ...)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := fromEnv(cmd); err != nil {
				return err
			}
			cl, err := reachKafka(brokers)
			if err != nil {
				return err
			}
			cl.Close()
			ctx, cancel := signalContext()
			defer cancel()
			return tailTopic(ctx, strings.Split(brokers, ","), topics.New(prefix), registryURL, args[0], fromStart, follow, limit)
		},
	}
	tail.Flags().BoolVar(&fromStart, "from-start", true, "read from the oldest record (false: only new ones)")
	tail.Flags().BoolVarP(&follow, "follow", "f", false, "keep waiting for new records")
	tail.Flags().IntVar(&limit, "max", 0, "stop after this many records (0: no limit)")
	t := &cobra.Command{Use: "topics", Short: "Create, describe or read Orchard's Kafka topics"}
	t.PersistentFlags().StringVar(&brokers, "brokers", makeRunBroker, "Kafka brokers, comma-separated (default: the embedded broker of `make run`)")
	t.PersistentFlags().StringVar(&prefix, "topic-prefix", "", "prefix of every topic and group name")
	t.PersistentFlags().StringVar(&registryURL, "schema-registry", "", "schema registry of framed records (decoded by the schema id in each); empty: plain Avro")
	t.AddCommand(create, describe, tail)
	return t
}

func reportCmd() *cobra.Command {
	var dsn, since, until, format, repID, policyFile string
	cmd := &cobra.Command{
		Use: "report", Short: "Print the fairness report from ClickHouse: per-rep metrics, system metrics, red flags", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := fromEnv(cmd); err != nil {
				return err
			}
			if dsn == "" {
				return fmt.Errorf("--clickhouse is required")
			}
			if format != "table" && format != "json" {
				return fmt.Errorf("--format must be table or json, got %q", format)
			}
			period, err := analytics.ParsePeriod(since, until, repID, time.Now())
			if err != nil {
				return err
			}
			pol, err := policy.Load(policyFile)
			if err != nil {
				return err
			}
			ctx, cancel := signalContext()
			defer cancel()
			conn, err := analytics.Open(ctx, dsn)
			if err != nil {
				return err
			}
			defer conn.Close()
			rep, err := analytics.Build(ctx, conn, pol, period)
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return rep.WriteTable(os.Stdout)
		},
	}
	cmd.Flags().StringVar(&dsn, "clickhouse", "", "ClickHouse DSN, e.g. clickhouse://127.0.0.1:9000/orchard")
	cmd.Flags().StringVar(&since, "since", "7d", "start of the period: how far back (7d, 36h, 90m) or an RFC 3339 time")
	cmd.Flags().StringVar(&until, "until", "", "end of the period (RFC 3339 time or how far back); default now")
	cmd.Flags().StringVar(&repID, "rep", "", "one rep's line and flags (the system figures stay the team's)")
	cmd.Flags().StringVar(&policyFile, "policy", "", "policy file whose fairness.* thresholds judge the flags (default: the documented defaults)")
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

// logHandler is the log's level and format.
func logHandler(level, format string) (slog.Handler, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level must be debug, info, warn or error, got %q", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.NewTextHandler(os.Stderr, opts), nil
	case "json":
		return slog.NewJSONHandler(os.Stderr, opts), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, got %q", format)
}

// makeRunBroker is where `orchard run` (make run) serves its embedded Kafka.
const makeRunBroker = "127.0.0.1:19092"

// withKafka runs fn with a client of brokers it has reached and a context
// that ends on SIGINT/SIGTERM, after the flags are filled from the
// environment.
func withKafka(cmd *cobra.Command, brokers string, fn func(context.Context, *kgo.Client) error) error {
	if err := fromEnv(cmd); err != nil {
		return err
	}
	cl, err := reachKafka(brokers)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := signalContext()
	defer cancel()
	return fn(ctx, cl)
}

// reachKafka connects to the brokers and fails with one line when none
// answers within 5 s (an unreachable broker is an error, never an empty
// result).
func reachKafka(brokers string) (*kgo.Client, error) {
	if strings.TrimSpace(brokers) == "" {
		return nil, fmt.Errorf("--brokers is empty: give host:port[,host:port]")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		return nil, fmt.Errorf("--brokers %q: %w", brokers, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		cl.Close()
		hint := ""
		if brokers == makeRunBroker {
			hint = " (is `make run` running? else pass --brokers)"
		}
		return nil, fmt.Errorf("cannot reach Kafka at %s within 5s%s: %v", brokers, hint, err)
	}
	return cl, nil
}

// parseSince reads Go durations plus whole days ("7d").
func parseSince(s string) (time.Duration, error) {
	d, err := analytics.ParseAgo(s)
	if err != nil {
		return 0, fmt.Errorf("--since %w", err)
	}
	return d, nil
}

// describeTopics prints every declared topic as the cluster has it, then
// checks co-partitioning.
func describeTopics(ctx context.Context, adm *kadm.Client, set topics.Set) error {
	ds, err := set.Describe(ctx, adm)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TOPIC\tPARTITIONS\tCOMPACT\tCO-PARTITION\tDESCRIPTION")
	for _, d := range ds {
		parts := "missing"
		if d.Exists {
			parts = fmt.Sprint(d.Partitions)
		}
		fmt.Fprintf(w, "%s\t%s\t%v\t%s\t%s\n", d.Name, parts, d.Compact, d.CoPartition, d.Doc)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return topics.CheckDescribed(ds)
}
