package schemas

// The Go side of each .avsc file: flat records, one field per Avro field
// (the avro tag names it). Times are epoch milliseconds.

type LeadIntake struct {
	LeadID       string            `avro:"lead_id"`
	Kind         string            `avro:"kind"`
	RequestID    string            `avro:"request_id"`
	At           int64             `avro:"at"`
	ReceivedAt   int64             `avro:"received_at"`
	Company      string            `avro:"company"`
	Employees    int32             `avro:"employees"`
	ContactName  string            `avro:"contact_name"`
	ContactTitle string            `avro:"contact_title"`
	Source       string            `avro:"source"`
	Score        int32             `avro:"score"`
	Territory    string            `avro:"territory"`
	Industry     string            `avro:"industry"`
	Budget       string            `avro:"budget"`
	Timeline     string            `avro:"timeline"`
	Authority    string            `avro:"authority"`
	History      []string          `avro:"history"`
	FormAnswers  map[string]string `avro:"form_answers"`
	Notes        string            `avro:"notes"`
	Reason       string            `avro:"reason"`
}

type RepUpsert struct {
	RepID          string `avro:"rep_id"`
	RequestID      string `avro:"request_id"`
	At             int64  `avro:"at"`
	Name           string `avro:"name"`
	Territory      string `avro:"territory"`
	Tier           int32  `avro:"tier"`
	WeeklyCapacity int32  `avro:"weekly_capacity"`
	Active         bool   `avro:"active"`
	TimeZone       string `avro:"time_zone"`
}

type RepCommand struct {
	RepID     string `avro:"rep_id"`
	RequestID string `avro:"request_id"`
	Type      string `avro:"type"`
	At        int64  `avro:"at"`
	LeadID    string `avro:"lead_id"`
	OK        bool   `avro:"ok"`
	Code      string `avro:"code"`
	Timer     string `avro:"timer"`
	Seq       int32  `avro:"seq"`
	ExpiresAt int64  `avro:"expires_at"`
	SLADueAt  int64  `avro:"sla_due_at"`
	QuotaHour int32  `avro:"quota_hour"`
	QuotaDay  int32  `avro:"quota_day"`
	QuotaWeek int32  `avro:"quota_week"`
	Reason    string `avro:"reason" limit:"2048"`
	By        string `avro:"by"`
	// offers from the dispatcher (and their refusals back to it)
	Pool        string   `avro:"pool"`
	Method      string   `avro:"method"`
	ExcludeReps []string `avro:"exclude_reps"`
	Fallback    bool     `avro:"fallback"`
	// claim_settled: what the won lead was (acceptance.ratio)
	Temperature string `avro:"temperature"`
	Aged        bool   `avro:"aged"`
	Value       int64  `avro:"value"`
	Tier        int32  `avro:"tier"`
	Pinned      bool   `avro:"pinned"`
	// availability_set: JSON of avail.Availability
	Availability string `avro:"availability" limit:"8192"`
}

type LeadCommand struct {
	LeadID       string `avro:"lead_id"`
	RequestID    string `avro:"request_id"`
	Type         string `avro:"type"`
	At           int64  `avro:"at"`
	RepID        string `avro:"rep_id"`
	RepTier      int32  `avro:"rep_tier"`
	RepTerritory string `avro:"rep_territory"`
	Timer        string `avro:"timer"`
	Seq          int32  `avro:"seq"`
	Method       string `avro:"method"`
	Converted    bool   `avro:"converted"`
	By           string `avro:"by"`
	ByRole       string `avro:"by_role"`
	HotStreak    int32  `avro:"hot_streak"`
	SinceAged    int32  `avro:"since_aged"`
}

type Decision struct {
	RequestID     string `avro:"request_id"`
	OK            bool   `avro:"ok"`
	Code          string `avro:"code"`
	Message       string `avro:"message" limit:"2048"`
	At            int64  `avro:"at"`
	LeadID        string `avro:"lead_id"`
	RepID         string `avro:"rep_id"`
	Method        string `avro:"method"`
	SLADueAt      int64  `avro:"sla_due_at"`
	ExpiresAt     int64  `avro:"expires_at"`
	CooldownUntil int64  `avro:"cooldown_until"`
}

type Assignment struct {
	EventID       string `avro:"event_id"`
	LeadID        string `avro:"lead_id"`
	Type          string `avro:"type"`
	At            int64  `avro:"at"`
	Epoch         int32  `avro:"epoch"`
	RepID         string `avro:"rep_id"`
	PreviousRepID string `avro:"previous_rep_id"`
	Method        string `avro:"method"`
	SLADueAt      int64  `avro:"sla_due_at"`
}

type Event struct {
	EventID       string `avro:"event_id"`
	Type          string `avro:"type"`
	At            int64  `avro:"at"`
	LeadID        string `avro:"lead_id"`
	RepID         string `avro:"rep_id"`
	RequestID     string `avro:"request_id"`
	Reason        string `avro:"reason"`
	Method        string `avro:"method"`
	Status        string `avro:"status"`
	Epoch         int32  `avro:"epoch"`
	Score         int32  `avro:"score"`
	Source        string `avro:"source"`
	Employees     int32  `avro:"employees"`
	Territory     string `avro:"territory"`
	Industry      string `avro:"industry"`
	Temperature   string `avro:"temperature"`
	Priority      string `avro:"priority"`
	EnteredPoolAt int64  `avro:"entered_pool_at"`
	RepTier       int32  `avro:"rep_tier"`
	RepTerritory  string `avro:"rep_territory"`
	Value         int64  `avro:"value"`
	Threshold     int64  `avro:"threshold"`
	Until         int64  `avro:"until"`
	PreviousRepID string `avro:"previous_rep_id"`
	Converted     bool   `avro:"converted"`
	PolicyVersion string `avro:"policy_version"`
}

// ValueCut marks, in a dead letter's error, a value cut to fit the record
// limit: such a letter does not hold the whole original record.
const ValueCut = "value cut to"

type DeadLetter struct {
	Topic     string `avro:"topic"`
	Partition int32  `avro:"partition"`
	Offset    int64  `avro:"offset"`
	Key       []byte `avro:"key"`
	Value     []byte `avro:"value"`
	Error     string `avro:"error"`
	At        int64  `avro:"at"`
}

// TimerCommand is a durable timer's schedule or a ticker's fire request.
type TimerCommand struct {
	Bucket  string `avro:"bucket"`
	Type    string `avro:"type"`
	At      int64  `avro:"at"`
	TimerID string `avro:"timer_id"`
	Kind    string `avro:"kind"`
	Target  string `avro:"target"`
	Key     string `avro:"key"`
	Seq     int32  `avro:"seq"`
	DueAt   int64  `avro:"due_at"`
	FiredAt int64  `avro:"fired_at"`
}

// DispatchCommand feeds the dispatcher: pool rosters and reassignments.
type DispatchCommand struct {
	Pool           string   `avro:"pool"`
	Type           string   `avro:"type"`
	At             int64    `avro:"at"`
	RequestID      string   `avro:"request_id"`
	RepID          string   `avro:"rep_id"`
	Active         bool     `avro:"active"`
	SuspendedUntil int64    `avro:"suspended_until"`
	LeadID         string   `avro:"lead_id"`
	ExcludeReps    []string `avro:"exclude_reps"`
	Fallback       bool     `avro:"fallback"`
	Method         string   `avro:"method"`
	Weight         int32    `avro:"weight"`
	Away           bool     `avro:"away"`
	Shard          string   `avro:"shard"` // shard_load: the reporting shard
	Count          int32    `avro:"count"` // shard_load: its reps active and present
	Tried          []string `avro:"tried"` // assign/reassign: shards of the pool that had nobody
}

// PolicyVersion is one policy put in force (topic policy).
type PolicyVersion struct {
	Version  string `avro:"version"`
	YAML     string `avro:"yaml" limit:"65536"`
	At       int64  `avro:"at"`
	By       string `avro:"by"`
	Previous string `avro:"previous"`
}

// Alert is a red flag raised or cleared (topic alerts).
type Alert struct {
	Key           string  `avro:"key"`
	State         string  `avro:"state"`
	Code          string  `avro:"code"`
	Level         string  `avro:"level"`
	RepID         string  `avro:"rep_id"`
	Value         float64 `avro:"value"`
	Threshold     float64 `avro:"threshold"`
	Evidence      string  `avro:"evidence" limit:"4096"`
	At            int64   `avro:"at"`
	WindowFrom    int64   `avro:"window_from"`
	WindowUntil   int64   `avro:"window_until"`
	PolicyVersion string  `avro:"policy_version"`
}

func (*Alert) schemaFile() string           { return "alert.avsc" }
func (*PolicyVersion) schemaFile() string   { return "policy.avsc" }
func (*LeadIntake) schemaFile() string      { return "lead_intake.avsc" }
func (*RepUpsert) schemaFile() string       { return "rep_upsert.avsc" }
func (*RepCommand) schemaFile() string      { return "rep_command.avsc" }
func (*LeadCommand) schemaFile() string     { return "lead_command.avsc" }
func (*Decision) schemaFile() string        { return "decision.avsc" }
func (*Assignment) schemaFile() string      { return "assignment.avsc" }
func (*Event) schemaFile() string           { return "event.avsc" }
func (*DeadLetter) schemaFile() string      { return "dead_letter.avsc" }
func (*TimerCommand) schemaFile() string    { return "timer.avsc" }
func (*DispatchCommand) schemaFile() string { return "dispatch.avsc" }

// ContactWait is the event that closes a rep's turn with a lead at its
// next contact; it is dated at the start of the turn (package lead, wait.go).
const ContactWait = "contact_wait"

// NewRecord returns a zero record of the type a schema file describes, or
// nil (for tools that decode a topic by its topics.Spec.Value).
func NewRecord(file string) Record {
	for _, r := range []Record{&Alert{}, &PolicyVersion{}, &LeadIntake{}, &RepUpsert{}, &RepCommand{}, &LeadCommand{},
		&Decision{}, &Assignment{}, &Event{}, &DeadLetter{}, &TimerCommand{}, &DispatchCommand{}} {
		if r.schemaFile() == file {
			return r
		}
	}
	return nil
}
