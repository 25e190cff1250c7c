package lead

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
)

var m = Machine{Policy: policy.Default()}

func qualified(id string, at int64) schemas.LeadIntake {
	return schemas.LeadIntake{LeadID: id, Kind: KindQualified, At: at, Company: "Acme", Source: "mql", Score: 60}
}

func TestQualifyIsIdempotent(t *testing.T) {
	r := m.Intake(nil, qualified("L1", 10))
	if r.State == nil || r.State.Status != Available || r.State.EnteredPoolAt != 10 || len(r.Events) != 1 {
		t.Fatalf("%+v", r)
	}
	if again := m.Intake(r.State, qualified("L1", 20)); again.State != nil || len(again.Events) != 0 {
		t.Fatalf("qualified twice changed something: %+v", again)
	}
}

// A lead qualified again with new data is updated, never dropped: its state
// stays, an updated event says so. An update that cannot apply says why.
func TestQualifiedAgainWithNewDataUpdates(t *testing.T) {
	l := m.Intake(nil, qualified("L1", 10)).State
	again := qualified("L1", 20)
	again.Score, again.RequestID = 95, "resend-1"
	r := m.Intake(l, again)
	if r.State == nil || r.State.Data.Score != 95 || r.State.Status != Available || r.State.EnteredPoolAt != 10 ||
		len(r.Events) != 1 || r.Events[0].Type != "updated" || r.Events[0].RequestID != "resend-1" {
		t.Fatalf("qualified again with a new score: %+v", r)
	}
	if replay := m.Intake(r.State, again); replay.State != nil || len(replay.Events) != 1 || replay.Events[0].EventID != r.Events[0].EventID {
		t.Fatalf("a replayed update emits its event again, same id: %+v", replay)
	}
	resend := again
	resend.At = 25
	if r := m.Intake(r.State, resend); r.State != nil || len(r.Events) != 0 {
		t.Fatalf("the same data sent again changes nothing: %+v", r)
	}
	stale := qualified("L1", 15)
	stale.Score = 40
	if r := m.Intake(r.State, stale); r.State != nil || len(r.Events) != 1 || r.Events[0].Type != "intake_refused" ||
		!strings.Contains(r.Events[0].Reason, "older than") {
		t.Fatalf("an older update: %+v", r)
	}
	upd := qualified("L9", 30)
	upd.Kind = KindUpdated
	if r := m.Intake(nil, upd); r.State != nil || len(r.Events) != 1 || r.Events[0].Type != "intake_refused" ||
		!strings.Contains(r.Events[0].Reason, "unknown lead") || r.Events[0].LeadID != "L9" {
		t.Fatalf("an update of an unknown lead: %+v", r)
	}
	closed := l.clone()
	closed.Status = Disqualified
	if r := m.Intake(closed, again); len(r.Events) != 1 || !strings.Contains(r.Events[0].Reason, "closed") {
		t.Fatalf("an update of a closed lead: %+v", r)
	}
}

func TestUpdatesApplyInEventTimeOrder(t *testing.T) {
	l := m.Intake(nil, qualified("L1", 10)).State
	up := qualified("L1", 30)
	up.Kind, up.Score = KindUpdated, 95
	l2 := m.Intake(l, up).State
	if l2 == nil || l2.Data.Score != 95 || l2.EnteredPoolAt != 10 {
		t.Fatalf("%+v", l2)
	}
	stale := qualified("L1", 20)
	stale.Kind, stale.Score = KindUpdated, 5
	if r := m.Intake(l2, stale); r.State != nil {
		t.Fatal("an older update overwrote a newer one")
	}
}

func TestFirstClaimWinsNoTakeBacks(t *testing.T) {
	l := m.Intake(nil, qualified("L1", 10)).State
	win := m.Claim(l, Pick{RequestID: "a", Rep: "ana", At: 100})
	if !win.Decision.OK || win.State.Owner != "ana" || win.State.Epoch != 1 || win.Assignment == nil {
		t.Fatalf("%+v", win)
	}
	if due := win.State.SLADueAt - 100; due != (2 * time.Hour).Milliseconds() {
		t.Fatalf("SLA due after %d ms", due)
	}
	lose := m.Claim(win.State, Pick{RequestID: "b", Rep: "bo", At: 101})
	if lose.Decision.OK || lose.Decision.Code != CodeAlreadyClaimed || lose.State.Owner != "ana" || lose.State.Epoch != 1 || lose.Assignment != nil {
		t.Fatalf("%+v", lose)
	}
	// The owner claiming again with a new request is refused too: a claim
	// is not a toggle, and there is no command that returns a lead.
	if again := m.Claim(win.State, Pick{RequestID: "c", Rep: "ana", At: 102}); again.Decision.Code != CodeAlreadyClaimed {
		t.Fatalf("%+v", again.Decision)
	}
	replay := m.Claim(win.State, Pick{RequestID: "a", Rep: "ana", At: 100})
	if !replay.Decision.OK || replay.State != nil || replay.Assignment.EventID != win.Assignment.EventID {
		t.Fatalf("replay: %+v", replay)
	}
}

func TestClaimRefusals(t *testing.T) {
	if r := m.Claim(nil, Pick{RequestID: "a", Rep: "ana"}); r.Decision.Code != CodeUnknownLead {
		t.Fatal(r.Decision)
	}
	l := m.Intake(nil, qualified("L1", 10)).State
	dq := m.Intake(l, schemas.LeadIntake{LeadID: "L1", Kind: KindDisqualified, At: 20, Reason: "spam"}).State
	if r := m.Claim(dq, Pick{RequestID: "a", Rep: "ana"}); r.Decision.Code != CodeNotPickable || len(r.Events) != 1 || r.Events[0].Reason != CodeNotPickable {
		t.Fatalf("%+v", r)
	}
}

func TestDerivedFields(t *testing.T) {
	for score, want := range map[int32]string{80: "hot", 79: "warm", 50: "warm", 49: "cold"} {
		if got := m.Temperature(score); got != want {
			t.Errorf("score %d: %s, want %s", score, got, want)
		}
	}
	for src, want := range map[string]string{"referral": "high", "mql": "standard", "cold_outreach": "low", "unheard_of": "standard"} {
		if got := m.Priority(src); got != want {
			t.Errorf("%s: %s, want %s", src, got, want)
		}
	}
	l := m.Intake(nil, qualified("L1", 0)).State
	if m.Aged(l, time.UnixMilli(0).Add(23*time.Hour)) || !m.Aged(l, time.UnixMilli(0).Add(24*time.Hour)) {
		t.Error("aged_after is 24h")
	}
}

func TestValidateIntake(t *testing.T) {
	ok := qualified("L-1.a", 1)
	if fe := ValidateIntake(ok, Limits{}); fe != nil {
		t.Fatal(fe)
	}
	for field, mutate := range map[string]func(*schemas.LeadIntake){
		"lead_id":   func(x *schemas.LeadIntake) { x.LeadID = "has space" },
		"kind":      func(x *schemas.LeadIntake) { x.Kind = "maybe" },
		"company":   func(x *schemas.LeadIntake) { x.Company = "" },
		"score":     func(x *schemas.LeadIntake) { x.Score = 101 },
		"source":    func(x *schemas.LeadIntake) { x.Source = "" },
		"at":        func(x *schemas.LeadIntake) { x.At = 0 },
		"employees": func(x *schemas.LeadIntake) { x.Employees = -1 },
	} {
		in := ok
		mutate(&in)
		if fe := ValidateIntake(in, Limits{}); fe == nil || fe.Field != field {
			t.Errorf("%s: %v", field, fe)
		}
	}
}

func TestIntakeLimits(t *testing.T) {
	lim := LimitsFor(DefaultMaxRecordBytes)
	base := schemas.LeadIntake{LeadID: "L1", Kind: KindQualified, At: 1, Company: "Acme", Source: "mql", Score: 50}
	cases := map[string]func(in *schemas.LeadIntake){
		"notes":        func(in *schemas.LeadIntake) { in.Notes = strings.Repeat("<", 200_000) },
		"company":      func(in *schemas.LeadIntake) { in.Company = strings.Repeat("a", lim.Text+1) },
		"history":      func(in *schemas.LeadIntake) { in.History = make([]string, lim.HistoryItems+1) },
		"history[1]":   func(in *schemas.LeadIntake) { in.History = []string{"ok", strings.Repeat("h", lim.HistoryItem+1)} },
		"form_answers": func(in *schemas.LeadIntake) { in.FormAnswers = bigForm(lim.FormAnswers + 1) },
		"form_answers (a key)": func(in *schemas.LeadIntake) {
			in.FormAnswers = map[string]string{strings.Repeat("k", lim.FormKey+1): "v"}
		},
		"(lead)": func(in *schemas.LeadIntake) {
			for range 70 {
				in.History = append(in.History, strings.Repeat("h", lim.HistoryItem))
			}
		},
	}
	for field, change := range cases {
		in := base
		change(&in)
		fe := ValidateIntake(in, lim)
		if fe == nil || fe.Field != field || fe.Code != CodeTooLarge {
			t.Errorf("%s: want too_large, got %+v", field, fe)
		}
	}
	for name, v := range map[string]string{"nul": "a\x00b", "escape": "a\x1bb", "invalid utf-8": "a\xffb"} {
		in := base
		in.Company = v
		if fe := ValidateIntake(in, lim); fe == nil || fe.Field != "company" || fe.Code != "" {
			t.Errorf("%s: want invalid company, got %+v", name, fe)
		}
	}
	in := base
	in.Notes = "line one\nline\ttwo"
	if fe := ValidateIntake(in, lim); fe != nil {
		t.Errorf("newlines in notes: %v", fe)
	}
	if LimitsFor(100_000).Lead != 25_000 {
		t.Errorf("limits do not follow the record limit: %+v", LimitsFor(100_000))
	}
}

func bigForm(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprint("q", i)] = "a"
	}
	return m
}

// Only the answer to the request a pending lead waits for places it: a
// late or replayed answer to an older request is void (the rep that took
// it gets its capacity back), never a second owner or an ownerless record.
func TestOnlyTheAwaitedAnswerPlacesAPendingLead(t *testing.T) {
	l := m.Intake(nil, qualified("L1", 0)).State
	won := m.Claim(l, Pick{RequestID: "c1", Rep: "ana", RepTier: 1, At: 1000})
	missed := m.TimerFired(won.State, timer.SLA, won.State.Epoch, won.State.SLADueAt)
	req := missed.Dispatch[0].RequestID
	toBo := schemas.LeadCommand{LeadID: "L1", RequestID: req, Type: schemas.Assign, At: 2, RepID: "bo", Method: Reassignment}
	placed := m.Assign(missed.State, toBo).State
	missedAgain := m.TimerFired(placed, timer.SLA, placed.Epoch, placed.SLADueAt).State
	if missedAgain.Status != Pending || missedAgain.ClaimRequest != req {
		t.Fatalf("%+v", missedAgain)
	}
	// The first request's answers come again (a replay; another chain of offers).
	for _, late := range []schemas.LeadCommand{toBo, {LeadID: "L1", RequestID: req, Type: schemas.Assign, At: 3, RepID: "cy", Method: Reassignment},
		{LeadID: "L1", RequestID: req, Type: schemas.Assign, At: 3, Method: Escalation}} {
		r := m.Assign(missedAgain, late)
		if r.State != nil || r.Assignment != nil || len(r.Events) != 0 {
			t.Fatalf("an answer to an older request acted: %+v", r)
		}
		if late.RepID != "" && (len(r.ToReps) != 1 || r.ToReps[0].Type != schemas.OfferVoid || r.ToReps[0].RepID != late.RepID) {
			t.Fatalf("the rep that took it must get its capacity back: %+v", r.ToReps)
		}
	}
}
