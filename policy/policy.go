// Package policy loads and validates the guardrail configuration
// (every number of it). The documented defaults live in default.yaml, embedded
// here; a user's file overrides any subset of keys. An unknown key or a bad
// value is refused with its dotted path and the reason.
package policy

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"
	_ "time/tzdata" // time zones without the host's zoneinfo

	"gopkg.in/yaml.v3"
)

//go:embed default.yaml
var defaultYAML []byte

// Duration is a time.Duration written in Go syntax (90s, 3m, 168h).
type Duration time.Duration

func (d Duration) D() time.Duration { return time.Duration(d) }

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("not a duration (use Go syntax like 90s, 3m, 2h): %q", n.Value)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

type Policy struct {
	Mode        string      `yaml:"mode"`
	Selection   Selection   `yaml:"selection"`
	Quotas      Quotas      `yaml:"quotas"`
	SLA         SLA         `yaml:"sla"`
	Acceptance  Acceptance  `yaml:"acceptance"`
	Tiers       Tiers       `yaml:"tiers"`
	Split       Split       `yaml:"split"`
	ByPriority  ByPriority  `yaml:"by_priority"`
	TimeDelayed TimeDelayed `yaml:"time_delayed"`
	Territory   Territory   `yaml:"territory"`
	Weighted    Weighted    `yaml:"weighted"`
	Lead        Lead        `yaml:"lead"`
	Fairness    Fairness    `yaml:"fairness"`
}

type Selection struct {
	BrowseWindow Duration `yaml:"browse_window"`
	DetailHold   Duration `yaml:"detail_hold"`
	Cooldown     Duration `yaml:"cooldown"`
}

type Quotas struct {
	PerHour            int      `yaml:"per_hour"`
	PerDay             int      `yaml:"per_day"`
	PerWeek            int      `yaml:"per_week"`
	TimeZone           string   `yaml:"time_zone"`
	ReservationTimeout Duration `yaml:"reservation_timeout"`
}

type SLA struct {
	FirstContact    Duration `yaml:"first_contact"`
	PenaltyClaims   int      `yaml:"penalty_claims"`
	MissesToSuspend int      `yaml:"misses_to_suspend"`
	Suspension      Duration `yaml:"suspension"`
}

type Acceptance struct {
	Ratio         Ratio         `yaml:"ratio"`
	RandomMix     RandomMix     `yaml:"random_mix"`
	MinAcceptance MinAcceptance `yaml:"min_acceptance"`
}

type Ratio struct {
	Enabled    bool `yaml:"enabled"`
	HotPerWarm int  `yaml:"hot_per_warm"`
	AgedEvery  int  `yaml:"aged_every"`
}

type RandomMix struct {
	Enabled   bool    `yaml:"enabled"`
	AutoShare float64 `yaml:"auto_share"`
}

type MinAcceptance struct {
	Enabled    bool     `yaml:"enabled"`
	Rate       float64  `yaml:"rate"`
	Suspension Duration `yaml:"suspension"`
	Window     Duration `yaml:"window"`
	MinOffers  int      `yaml:"min_offers"`
}

// Weighted is how weighted auto-assignment weighs a rep: by its tier.
type Weighted struct {
	TierWeights map[int]int `yaml:"tier_weights"`
}

// TierWeight is the weight of a rep of this tier (1 when unknown).
func (p Policy) TierWeight(tier int32) int32 {
	if w, ok := p.Weighted.TierWeights[int(tier)]; ok {
		return int32(w)
	}
	return 1
}

type Tiers struct {
	Enabled        bool             `yaml:"enabled"`
	Delays         map[int]Duration `yaml:"delays"`
	Tier3AutoOnly  bool             `yaml:"tier3_auto_only"`
	RecomputeEvery Duration         `yaml:"recompute_every"`
	Weights        TierWeights      `yaml:"weights"`
	Tier1Score     float64          `yaml:"tier1_score"`
	Tier2Score     float64          `yaml:"tier2_score"`
	MinLeads       int              `yaml:"min_leads"`
}

type TierWeights struct {
	Conversion      float64 `yaml:"conversion"`
	ContactSpeed    float64 `yaml:"contact_speed"`
	QuotaAttainment float64 `yaml:"quota_attainment"`
}

type Split struct {
	PickShare float64 `yaml:"pick_share"`
}

type ByPriority struct {
	High     string `yaml:"high"`
	Standard string `yaml:"standard"`
	Low      string `yaml:"low"`
}

type TimeDelayed struct {
	AutoOnlyFor   Duration `yaml:"auto_only_for"`
	EscalateAfter Duration `yaml:"escalate_after"`
}

type Territory struct {
	RestrictPicking bool `yaml:"restrict_picking"`
}

type Lead struct {
	HotScore      int          `yaml:"hot_score"`
	WarmScore     int          `yaml:"warm_score"`
	AgedAfter     Duration     `yaml:"aged_after"`
	RecycleAged   string       `yaml:"recycle_aged"`
	EscalateAfter Duration     `yaml:"escalate_after"`
	RetainClosed  Duration     `yaml:"retain_closed"`
	Priority      PrioritySets `yaml:"priority"`
}

type PrioritySets struct {
	High     []string `yaml:"high"`
	Standard []string `yaml:"standard"`
	Low      []string `yaml:"low"`
}

type Fairness struct {
	MinClaims          int      `yaml:"min_claims"`
	HighScore          int      `yaml:"high_score"`
	HighScoreShare     float64  `yaml:"high_score_share"`
	SlowContact        Duration `yaml:"slow_contact"`
	TopRepsShare       float64  `yaml:"top_reps_share"`
	TopClaimsLimit     float64  `yaml:"top_claims_limit"`
	AgedShareLimit     float64  `yaml:"aged_share_limit"`
	SourceMinShare     float64  `yaml:"source_min_share"`
	QualitySpreadLimit float64  `yaml:"quality_spread_limit"`
	// SkillConfidence: no_selection_skill needs this much confidence that a
	// rep's picks convert no better than auto-assigned leads (0: the
	// observed rates alone, so every unlucky streak raises it).
	SkillConfidence float64 `yaml:"skill_confidence"`
}

// Error names the offending key by its dotted path.
type Error struct {
	Path   string
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("policy: %s: %s", e.Path, e.Reason) }

// Default returns the documented defaults (default.yaml).
func Default() Policy {
	p, err := Parse(nil)
	if err != nil {
		panic("embedded default policy is invalid: " + err.Error())
	}
	return p
}

// Load reads a policy file; an empty path means the defaults.
func Load(path string) (Policy, error) {
	if path == "" {
		return Default(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Policy{}, fmt.Errorf("policy: %w", err)
	}
	p, err := Parse(b)
	if err != nil {
		return Policy{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Parse applies the YAML document b over the defaults and validates the result.
func Parse(b []byte) (Policy, error) {
	var p Policy
	if err := decodeOver(&p, defaultYAML); err != nil {
		return Policy{}, err
	}
	if len(strings.TrimSpace(string(b))) > 0 {
		if err := decodeOver(&p, b); err != nil {
			return Policy{}, err
		}
		if err := refuseNotYet(p); err != nil {
			return Policy{}, err
		}
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// notYet are the keys of default.yaml whose behaviour Orchard does not
// have yet: a file that changes one from its default is refused, never
// silently ignored.
var notYet = []struct {
	section, what string
	of            func(p Policy) any
}{}

func refuseNotYet(p Policy) error {
	d := Default()
	for _, k := range notYet {
		got, def := reflect.ValueOf(k.of(p)), reflect.ValueOf(k.of(d))
		for i := 0; i < got.NumField(); i++ {
			if !reflect.DeepEqual(got.Field(i).Interface(), def.Field(i).Interface()) {
				key := strings.Split(got.Type().Field(i).Tag.Get("yaml"), ",")[0]
				return &Error{Path: k.section + "." + key, Reason: "not supported yet (" + k.what + ")"}
			}
		}
	}
	return nil
}

// Version names this policy: the first 12 hex digits of the SHA-256 of its
// effective settings. Every decision event carries it.
func (p Policy) Version() string {
	b, err := marshal(p)
	if err != nil {
		return "unknown"
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

func marshal(p Policy) ([]byte, error) { return yaml.Marshal(p) }

func decodeOver(p *Policy, b []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return &Error{Path: "(file)", Reason: err.Error()}
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if err := checkKeys(root, reflect.TypeOf(*p), ""); err != nil {
		return err
	}
	if err := root.Decode(p); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return &Error{Path: "(file)", Reason: strings.Join(te.Errors, "; ")}
		}
		return &Error{Path: "(file)", Reason: err.Error()}
	}
	return nil
}

// checkKeys walks the document beside the struct type so that an unknown key
// or a value of the wrong kind is reported with its full path.
func checkKeys(n *yaml.Node, t reflect.Type, path string) error {
	at := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return &Error{Path: orRoot(path), Reason: "expected a mapping of keys"}
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			fields[strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]] = t.Field(i).Type
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			ft, ok := fields[k]
			if !ok {
				return &Error{Path: at(k), Reason: "unknown key"}
			}
			if err := checkKeys(v, ft, at(k)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return &Error{Path: orRoot(path), Reason: "expected a mapping"}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := reflect.New(t.Key())
			if err := k.Decode(key.Interface()); err != nil {
				return &Error{Path: at(k.Value), Reason: "bad key: " + err.Error()}
			}
			if err := checkKeys(v, t.Elem(), at(k.Value)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return &Error{Path: path, Reason: "expected a list"}
		}
	default:
		if n.Kind != yaml.ScalarNode {
			return &Error{Path: path, Reason: "expected a single value"}
		}
		v := reflect.New(t)
		if err := n.Decode(v.Interface()); err != nil {
			reason := err.Error()
			var te *yaml.TypeError
			if errors.As(err, &te) {
				reason = fmt.Sprintf("%q is not a valid %s", n.Value, kindName(t))
			}
			return &Error{Path: path, Reason: reason}
		}
	}
	return nil
}

func orRoot(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int:
		return "whole number"
	case reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean (true/false)"
	}
	return t.Kind().String()
}

var (
	modes   = []string{"cherry_pick", "split", "by_priority", "time_delayed"}
	methods = []string{"cherry_pick", "round_robin", "weighted"}
)

// Validate checks ranges and relations between keys.
func (p Policy) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &Error{Path: path, Reason: fmt.Sprintf(format, args...)})
	}
	oneOf := func(path, v string, set []string) {
		for _, s := range set {
			if v == s {
				return
			}
		}
		bad(path, "%q is not one of %s", v, strings.Join(set, ", "))
	}
	positive := func(path string, d Duration) {
		if d <= 0 {
			bad(path, "must be a positive duration, got %s", d.D())
		}
	}
	atLeast := func(path string, v, min int) {
		if v < min {
			bad(path, "must be at least %d, got %d", min, v)
		}
	}
	share := func(path string, v float64) {
		if v < 0 || v > 1 {
			bad(path, "must be a fraction between 0 and 1, got %v", v)
		}
	}
	oneOf("mode", p.Mode, modes)
	positive("selection.browse_window", p.Selection.BrowseWindow)
	positive("selection.detail_hold", p.Selection.DetailHold)
	if p.Selection.Cooldown < 0 {
		bad("selection.cooldown", "must not be negative")
	}
	atLeast("quotas.per_hour", p.Quotas.PerHour, 0)
	atLeast("quotas.per_day", p.Quotas.PerDay, 0)
	atLeast("quotas.per_week", p.Quotas.PerWeek, 0)
	if _, err := time.LoadLocation(p.Quotas.TimeZone); err != nil || p.Quotas.TimeZone == "" {
		bad("quotas.time_zone", "%q is not an IANA time zone (like UTC or Europe/Berlin)", p.Quotas.TimeZone)
	}
	positive("quotas.reservation_timeout", p.Quotas.ReservationTimeout)
	if p.Quotas.PerHour > p.Quotas.PerDay {
		bad("quotas.per_hour", "(%d) must not exceed quotas.per_day (%d)", p.Quotas.PerHour, p.Quotas.PerDay)
	}
	if p.Quotas.PerDay > p.Quotas.PerWeek {
		bad("quotas.per_day", "(%d) must not exceed quotas.per_week (%d)", p.Quotas.PerDay, p.Quotas.PerWeek)
	}
	positive("sla.first_contact", p.SLA.FirstContact)
	atLeast("sla.penalty_claims", p.SLA.PenaltyClaims, 0)
	atLeast("sla.misses_to_suspend", p.SLA.MissesToSuspend, 1)
	positive("sla.suspension", p.SLA.Suspension)
	atLeast("acceptance.ratio.hot_per_warm", p.Acceptance.Ratio.HotPerWarm, 1)
	atLeast("acceptance.ratio.aged_every", p.Acceptance.Ratio.AgedEvery, 1)
	share("acceptance.random_mix.auto_share", p.Acceptance.RandomMix.AutoShare)
	share("acceptance.min_acceptance.rate", p.Acceptance.MinAcceptance.Rate)
	positive("acceptance.min_acceptance.suspension", p.Acceptance.MinAcceptance.Suspension)
	positive("acceptance.min_acceptance.window", p.Acceptance.MinAcceptance.Window)
	atLeast("acceptance.min_acceptance.min_offers", p.Acceptance.MinAcceptance.MinOffers, 1)
	for _, tier := range []int{1, 2, 3} {
		if w, ok := p.Weighted.TierWeights[tier]; !ok {
			bad(fmt.Sprintf("weighted.tier_weights.%d", tier), "missing: every tier 1, 2, 3 needs a weight")
		} else if w < 1 || w > 1000 {
			bad(fmt.Sprintf("weighted.tier_weights.%d", tier), "must be a whole number 1..1000, got %d", w)
		}
	}
	for tier := range p.Weighted.TierWeights {
		if tier < 1 || tier > 3 {
			bad(fmt.Sprintf("weighted.tier_weights.%d", tier), "unknown tier (tiers are 1, 2, 3)")
		}
	}
	for _, tier := range []int{1, 2, 3} {
		d, ok := p.Tiers.Delays[tier]
		if !ok {
			bad(fmt.Sprintf("tiers.delays.%d", tier), "missing: every tier 1, 2, 3 needs a delay")
		} else if d < 0 {
			bad(fmt.Sprintf("tiers.delays.%d", tier), "must not be negative")
		}
	}
	for tier := range p.Tiers.Delays {
		if tier < 1 || tier > 3 {
			bad(fmt.Sprintf("tiers.delays.%d", tier), "unknown tier (tiers are 1, 2, 3)")
		}
	}
	positive("tiers.recompute_every", p.Tiers.RecomputeEvery)
	w := p.Tiers.Weights
	share("tiers.weights.conversion", w.Conversion)
	share("tiers.weights.contact_speed", w.ContactSpeed)
	share("tiers.weights.quota_attainment", w.QuotaAttainment)
	if sum := w.Conversion + w.ContactSpeed + w.QuotaAttainment; sum < 0.999 || sum > 1.001 {
		bad("tiers.weights", "must add up to 1, got %.3f", sum)
	}
	share("tiers.tier1_score", p.Tiers.Tier1Score)
	share("tiers.tier2_score", p.Tiers.Tier2Score)
	if p.Tiers.Tier2Score > p.Tiers.Tier1Score {
		bad("tiers.tier2_score", "(%v) must not exceed tiers.tier1_score (%v)", p.Tiers.Tier2Score, p.Tiers.Tier1Score)
	}
	atLeast("tiers.min_leads", p.Tiers.MinLeads, 0)
	share("split.pick_share", p.Split.PickShare)
	oneOf("by_priority.high", p.ByPriority.High, methods)
	oneOf("by_priority.standard", p.ByPriority.Standard, methods)
	oneOf("by_priority.low", p.ByPriority.Low, methods)
	positive("time_delayed.auto_only_for", p.TimeDelayed.AutoOnlyFor)
	positive("time_delayed.escalate_after", p.TimeDelayed.EscalateAfter)
	if p.TimeDelayed.EscalateAfter <= p.TimeDelayed.AutoOnlyFor {
		bad("time_delayed.escalate_after", "must be later than time_delayed.auto_only_for")
	}
	if p.Lead.HotScore < 0 || p.Lead.HotScore > 100 {
		bad("lead.hot_score", "must be a score 0..100, got %d", p.Lead.HotScore)
	}
	if p.Lead.WarmScore < 0 || p.Lead.WarmScore > 100 {
		bad("lead.warm_score", "must be a score 0..100, got %d", p.Lead.WarmScore)
	}
	if p.Lead.WarmScore > p.Lead.HotScore {
		bad("lead.warm_score", "(%d) must not exceed lead.hot_score (%d)", p.Lead.WarmScore, p.Lead.HotScore)
	}
	positive("lead.aged_after", p.Lead.AgedAfter)
	oneOf("lead.recycle_aged", p.Lead.RecycleAged, []string{"escalate", "round_robin", "weighted"})
	positive("lead.escalate_after", p.Lead.EscalateAfter)
	if d := p.Lead.RetainClosed.D(); d != 0 && d < 10*time.Second {
		bad("lead.retain_closed", "(%s) must be 0s (keep closed leads) or at least 10s (a redelivered intake record must still find its lead)", d)
	}
	seen := map[string]string{}
	for _, level := range []struct {
		name string
		list []string
	}{{"high", p.Lead.Priority.High}, {"standard", p.Lead.Priority.Standard}, {"low", p.Lead.Priority.Low}} {
		name := level.name
		for _, src := range level.list {
			if other, dup := seen[src]; dup {
				bad("lead.priority."+name, "source %q is also listed under lead.priority.%s", src, other)
			}
			seen[src] = name
		}
	}
	atLeast("fairness.min_claims", p.Fairness.MinClaims, 0)
	if p.Fairness.HighScore < 0 || p.Fairness.HighScore > 100 {
		bad("fairness.high_score", "must be a score 0..100")
	}
	share("fairness.high_score_share", p.Fairness.HighScoreShare)
	positive("fairness.slow_contact", p.Fairness.SlowContact)
	share("fairness.top_reps_share", p.Fairness.TopRepsShare)
	share("fairness.top_claims_limit", p.Fairness.TopClaimsLimit)
	share("fairness.aged_share_limit", p.Fairness.AgedShareLimit)
	if c := p.Fairness.SkillConfidence; c < 0 || c > 0.999 {
		bad("fairness.skill_confidence", "must be a confidence between 0 and 0.999, got %v", c)
	}
	share("fairness.source_min_share", p.Fairness.SourceMinShare)
	if p.Fairness.QualitySpreadLimit <= 0 || p.Fairness.QualitySpreadLimit > 100 {
		bad("fairness.quality_spread_limit", "must be score points in (0, 100], got %v", p.Fairness.QualitySpreadLimit)
	}
	return errors.Join(errs...)
}
