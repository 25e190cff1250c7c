// Package topics declares every Kafka topic Orchard uses, in one place, and
// creates and checks them with franz-go's admin client.
package topics

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Set names every topic and consumer group of one Orchard deployment. A
// prefix lets several deployments (staging, tests) share one cluster.
type Set struct {
	Prefix string

	LeadsIntake string
	LeadCmds    string
	RepsIntake  string
	RepCmds     string
	Assignments string
	Decisions   string
	Events      string
	DeadLetter  string
	Timers      string
	Dispatch    string
	Policy      string // one partition, compacted, key = policy version
	Alerts      string // compacted, key = flag code/rep: red flags raised and cleared

	LeadsGroup    string // Goka group: table LeadsGroup+"-table"
	RepsGroup     string // Goka group: table RepsGroup+"-table"
	TimersGroup   string // Goka group: table TimersGroup+"-table" (timer buckets)
	DispatchGroup string // Goka group: table DispatchGroup+"-table" (pools)
	SinkGroup     string // ClickHouse sink consumer group
}

// Default is the deployment without a prefix.
var Default = New("")

// New names the topics of a deployment; prefix "" gives the documented names.
func New(prefix string) Set {
	return Set{Prefix: prefix,
		LeadsIntake: prefix + "leads.intake", LeadCmds: prefix + "lead.commands",
		RepsIntake: prefix + "reps.intake", RepCmds: prefix + "rep.commands",
		Assignments: prefix + "assignments", Decisions: prefix + "decisions",
		Events: prefix + "events", DeadLetter: prefix + "deadletter",
		Timers: prefix + "timers", Dispatch: prefix + "dispatch", Policy: prefix + "policy", Alerts: prefix + "alerts",
		LeadsGroup: prefix + "orchard-leads", RepsGroup: prefix + "orchard-reps", SinkGroup: prefix + "orchard-sink",
		TimersGroup: prefix + "orchard-timers", DispatchGroup: prefix + "orchard-dispatch",
	}
}

// Table is Goka's name for a group's table topic.
func Table(group string) string { return group + "-table" }

// Spec is one topic. Topics with the same CoPartition key are read together
// by one Goka processor and must have the same partition count.
type Spec struct {
	Name        string
	Compact     bool
	Retention   time.Duration // 0 = keep forever
	CoPartition string
	Doc         string
	Partitions  int32  // 0: Config.Partitions
	Value       string // schema file of the Avro records it carries (schemas/*.avsc); "" for Goka tables (JSON)
}

// ProcessorGroups are the Goka processors' consumer groups.
func (s Set) ProcessorGroups() []string {
	return []string{s.LeadsGroup, s.RepsGroup, s.TimersGroup, s.DispatchGroup}
}

// All lists every topic Orchard creates.
func (s Set) All() []Spec {
	LeadsIntake, LeadCmds, RepsIntake, RepCmds := s.LeadsIntake, s.LeadCmds, s.RepsIntake, s.RepCmds
	Assignments, Decisions, Events, DeadLetter := s.Assignments, s.Decisions, s.Events, s.DeadLetter
	LeadsGroup, RepsGroup := s.LeadsGroup, s.RepsGroup
	const day = 24 * time.Hour
	return []Spec{
		{Name: LeadsIntake, Retention: 30 * day, CoPartition: "lead", Doc: "lead qualified/updated/disqualified (schemas/lead_intake.avsc), key lead_id", Value: "lead_intake.avsc"},
		{Name: LeadCmds, Retention: 30 * day, CoPartition: "lead", Doc: "commands on one lead (schemas/lead_command.avsc), key lead_id", Value: "lead_command.avsc"},
		{Name: Table(LeadsGroup), Compact: true, CoPartition: "lead", Doc: "Goka table: lead state, key lead_id"},
		{Name: RepsIntake, Retention: 30 * day, CoPartition: "rep", Doc: "rep upserts (schemas/rep_upsert.avsc), key rep_id", Value: "rep_upsert.avsc"},
		{Name: RepCmds, Retention: 30 * day, CoPartition: "rep", Doc: "claim saga steps on the rep side (schemas/rep_command.avsc), key rep_id", Value: "rep_command.avsc"},
		{Name: Table(RepsGroup), Compact: true, CoPartition: "rep", Doc: "Goka table: rep ledger, key rep_id"},
		{Name: Assignments, Doc: "public stream for CRMs (schemas/assignment.avsc), key lead_id", Value: "assignment.avsc"},
		{Name: Decisions, Retention: day, Doc: "replies to API calls (schemas/decision.avsc), key request_id", Value: "decision.avsc"},
		{Name: Events, Doc: "every transition and refusal (schemas/event.avsc), key lead_id; read by the ClickHouse sink", Value: "event.avsc"},
		{Name: DeadLetter, Retention: 30 * day, Doc: "records that could not be decoded or validated (schemas/dead_letter.avsc)", Value: "dead_letter.avsc"},
		{Name: s.Timers, Retention: 30 * day, CoPartition: "timer", Doc: "timer schedules and fire requests (schemas/timer.avsc), key due-second bucket", Value: "timer.avsc"},
		{Name: Table(s.TimersGroup), Compact: true, CoPartition: "timer", Doc: "Goka table: pending timers per due-second bucket"},
		{Name: s.Dispatch, Retention: 30 * day, CoPartition: "dispatch", Doc: "pool rosters and reassignment requests (schemas/dispatch.avsc), key pool", Value: "dispatch.avsc"},
		{Name: Table(s.DispatchGroup), Compact: true, CoPartition: "dispatch", Doc: "Goka table: dispatch pools (a load line per shard) and their shards (roster and rotation)"},
		{Name: s.Policy, Compact: true, Partitions: 1, Doc: "every policy version in order (schemas/policy.avsc), key version; the last record is in force", Value: "policy.avsc"},
		{Name: s.Alerts, Compact: true, Partitions: 1, Doc: "red flags raised and cleared (schemas/alert.avsc), key code/rep_id; the last record is the flag's state", Value: "alert.avsc"},
	}
}

// ValueSchemas maps every topic that carries Avro records to the schema
// file of those records (one record type per topic).
func (s Set) ValueSchemas() map[string]string {
	out := map[string]string{}
	for _, t := range s.All() {
		if t.Value != "" {
			out[t.Name] = t.Value
		}
	}
	return out
}

// Config of topic creation.
type Config struct {
	Partitions  int32 // every topic gets this many
	Replication int16 // -1: the broker's default
	// MinInsync is min.insync.replicas of created topics: with acks=all a
	// write is acknowledged once this many replicas have it. 0: one less
	// than Replication, at least 1 (2 with the default 3).
	MinInsync int
}

// minInsync is MinInsync with its default applied.
func (c Config) minInsync() int {
	if c.MinInsync > 0 {
		return c.MinInsync
	}
	return max(int(c.Replication)-1, 1)
}

// Validate refuses settings that cannot be durable or cannot work.
func (c Config) Validate() error {
	if c.Partitions < 1 {
		return fmt.Errorf("topics: partitions must be at least 1, got %d", c.Partitions)
	}
	if c.Replication == 0 || c.Replication < -1 {
		return fmt.Errorf("topics: replication must be at least 1 (or -1 for the broker's default), got %d", c.Replication)
	}
	if c.MinInsync < 0 {
		return fmt.Errorf("topics: min.insync.replicas must not be negative, got %d", c.MinInsync)
	}
	if c.Replication > 0 && c.MinInsync > int(c.Replication) {
		return fmt.Errorf("topics: min.insync.replicas %d exceeds the replication factor %d: no write could ever be acknowledged", c.MinInsync, c.Replication)
	}
	return nil
}

func (s Spec) configs(cfg Config) map[string]*string {
	str := func(v string) *string { return &v }
	c := map[string]*string{}
	if cfg.Replication > 1 && cfg.minInsync() > 1 {
		c["min.insync.replicas"] = str(strconv.Itoa(cfg.minInsync()))
	}
	if s.Compact {
		c["cleanup.policy"] = str("compact")
	} else if s.Retention > 0 {
		c["retention.ms"] = str(strconv.FormatInt(s.Retention.Milliseconds(), 10))
	} else {
		c["retention.ms"] = str("-1")
	}
	return c
}

// Create makes every missing topic (idempotent) and then verifies all of
// them with Check.
func (set Set) Create(ctx context.Context, adm *kadm.Client, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := checkBrokers(ctx, adm, cfg); err != nil {
		return err
	}
	existing, err := adm.ListTopics(ctx)
	if err != nil {
		return fmt.Errorf("topics: list: %w", err)
	}
	for _, s := range set.All() {
		if existing.Has(s.Name) {
			continue
		}
		parts := cfg.Partitions
		if s.Partitions > 0 {
			parts = s.Partitions
		}
		resp, err := adm.CreateTopic(ctx, parts, cfg.Replication, s.configs(cfg), s.Name)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("topics: create %s: %w", s.Name, err)
		}
	}
	// A broker acknowledges a creation before its metadata lists the topic:
	// wait (briefly) until every topic shows before checking them.
	var ds []Described
	for attempt := 0; ; attempt++ {
		if ds, err = set.Describe(ctx, adm); err != nil {
			return err
		}
		if allExist(ds) || attempt == 40 {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	if err := CheckDescribed(ds); err != nil {
		return err
	}
	return checkReplication(ds, cfg)
}

// checkBrokers refuses a replication factor the cluster cannot hold.
func checkBrokers(ctx context.Context, adm *kadm.Client, cfg Config) error {
	if cfg.Replication <= 1 {
		return nil
	}
	md, err := adm.BrokerMetadata(ctx)
	if err != nil {
		return fmt.Errorf("topics: list brokers: %w", err)
	}
	if n := len(md.Brokers); n < int(cfg.Replication) {
		return fmt.Errorf("topics: --replication %d needs at least %d brokers; the cluster has %d (for a single development broker pass --replication 1)",
			cfg.Replication, cfg.Replication, n)
	}
	return nil
}

// checkReplication refuses topics replicated less than asked: a write
// acknowledged by too few replicas can vanish with a leader change.
func checkReplication(ds []Described, cfg Config) error {
	if cfg.Replication <= 1 {
		return nil
	}
	var weak []string
	for _, d := range ds {
		if d.Exists && d.Replication < cfg.Replication {
			weak = append(weak, fmt.Sprintf("%s=%d", d.Name, d.Replication))
		}
	}
	if len(weak) > 0 {
		return fmt.Errorf("topics: replication factor below --replication %d: %s (raise it with kafka-reassign-partitions, or start with the factor the topics have)",
			cfg.Replication, strings.Join(weak, ", "))
	}
	return nil
}

func allExist(ds []Described) bool {
	for _, d := range ds {
		if !d.Exists {
			return false
		}
	}
	return true
}

// Described is one topic as the cluster reports it.
type Described struct {
	Spec
	Partitions  int32
	Replication int16 // of partition 0
	Exists      bool
}

// Describe reports every declared topic's partition count.
func (set Set) Describe(ctx context.Context, adm *kadm.Client) ([]Described, error) {
	names := make([]string, 0, len(set.All()))
	for _, s := range set.All() {
		names = append(names, s.Name)
	}
	details, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("topics: describe: %w", err)
	}
	var out []Described
	for _, s := range set.All() {
		d := Described{Spec: s}
		if td, ok := details[s.Name]; ok && td.Err == nil {
			d.Exists, d.Partitions = true, int32(len(td.Partitions))
			if p, ok := td.Partitions[0]; ok {
				d.Replication = int16(len(p.Replicas))
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// Check refuses a missing topic, topics whose partition counts break
// co-partitioning (a Goka processor reads partition i of each of its inputs
// and its table together; different counts would split one key's history)
// and topics replicated less than cfg asks.
func (set Set) Check(ctx context.Context, adm *kadm.Client, cfg Config) error {
	ds, err := set.Describe(ctx, adm)
	if err != nil {
		return err
	}
	if err := CheckDescribed(ds); err != nil {
		return err
	}
	return checkReplication(ds, cfg)
}

// CheckDescribed is Check on already described topics.
func CheckDescribed(ds []Described) error {
	var problems, missing []string
	groups := map[string][]Described{}
	for _, d := range ds {
		if !d.Exists {
			missing = append(missing, d.Name)
			continue
		}
		if d.CoPartition != "" {
			groups[d.CoPartition] = append(groups[d.CoPartition], d)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("missing topics %s (run `orchard topics create`)", strings.Join(missing, ", ")))
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := groups[k]
		for _, d := range g[1:] {
			if d.Partitions != g[0].Partitions {
				var parts []string
				for _, x := range g {
					parts = append(parts, fmt.Sprintf("%s=%d", x.Name, x.Partitions))
				}
				problems = append(problems, fmt.Sprintf("co-partitioning broken for the %s processor: %s (all must be equal)", k, strings.Join(parts, ", ")))
				break
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("topics: %s", strings.Join(problems, "; "))
	}
	return nil
}
