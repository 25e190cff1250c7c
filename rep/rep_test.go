package rep

import (
	"testing"
	"time"

	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
)

var (
	m   = Machine{Policy: policy.Default()}
	mon = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) // a Monday
)

func ms(t time.Time) int64 { return t.UnixMilli() }

func upsert(at int64) schemas.RepUpsert {
	return schemas.RepUpsert{RepID: "ana", RequestID: "u", At: at, Name: "Ana", Territory: "north", Tier: 1, Active: true}
}

func cmd(typ, id string, at time.Time) schemas.RepCommand {
	return schemas.RepCommand{RepID: "ana", RequestID: id, Type: typ, At: ms(at), LeadID: "L-" + id, QuotaHour: -1, QuotaDay: -1, QuotaWeek: -1}
}

// win runs a claim through reserve and settle.
func win(t *testing.T, r *Rep, id string, at time.Time) *Rep {
	t.Helper()
	res := m.RequestClaim(r, cmd(schemas.ClaimRequested, id, at))
	if res.Decision != nil || len(res.Forward) != 1 {
		t.Fatalf("claim %s refused: %+v", id, res.Decision)
	}
	s := cmd(schemas.ClaimSettled, id, at)
	s.OK = true
	return m.Settle(res.State, s).State
}

func TestUpsertKeepsLedgerAndIgnoresStale(t *testing.T) {
	r := m.Upsert(nil, upsert(10)).State
	r.ClaimsWon = 4
	u := upsert(20)
	u.Territory = "south"
	res := m.Upsert(r, u)
	if res.State.Territory != "south" || res.State.ClaimsWon != 4 {
		t.Fatalf("%+v", res.State)
	}
	if len(res.Roster) != 3 || res.Roster[0].Pool != "north" || res.Roster[0].Active || res.Roster[2].Pool != "south" || !res.Roster[2].Active {
		t.Fatalf("moving territory leaves the old pool and joins the new one: %+v", res.Roster)
	}
	if stale := m.Upsert(res.State, upsert(15)); stale.State != nil || !stale.Decision.OK {
		t.Fatalf("stale upsert: %+v", stale)
	}
}

func TestReservationsCountAgainstEveryQuota(t *testing.T) {
	r := m.Upsert(nil, upsert(1)).State
	for i, id := range []string{"a", "b", "c"} {
		res := m.RequestClaim(r, cmd(schemas.ClaimRequested, id, mon.Add(time.Duration(i)*time.Second)))
		if res.Decision != nil {
			t.Fatalf("%s: %+v", id, res.Decision)
		}
		r = res.State
	}
	res := m.RequestClaim(r, cmd(schemas.ClaimRequested, "d", mon.Add(5*time.Second)))
	if res.Decision == nil || res.Decision.Code != CodeQuotaHour || res.Events[0].Value != 3 || res.Events[0].Threshold != 3 {
		t.Fatalf("4th pending claim: %+v", res)
	}
	refund := cmd(schemas.ClaimSettled, "b", mon.Add(6*time.Second))
	refund.Code = "already_claimed"
	r = m.Settle(r, refund).State
	if res := m.RequestClaim(r, cmd(schemas.ClaimRequested, "e", mon.Add(7*time.Second))); res.Decision != nil {
		t.Fatalf("a refunded reservation frees its quota: %+v", res.Decision)
	}
}

func TestRollingHourDayAndWeek(t *testing.T) {
	r := m.Upsert(nil, upsert(1)).State
	at := mon
	for i := range 10 { // 10 on Monday, three an hour
		if i > 0 && i%3 == 0 {
			at = at.Add(time.Hour)
		}
		r = win(t, r, "mon"+string(rune('a'+i)), at)
	}
	u := m.Usage(r, ms(at))
	if u.Hour != 1 || u.Day != 10 || u.Week != 10 {
		t.Fatalf("usage %+v", u)
	}
	if res := m.RequestClaim(r, cmd(schemas.ClaimRequested, "x", at.Add(2*time.Hour))); res.Decision.Code != CodeQuotaDay {
		t.Fatalf("11th today: %+v", res.Decision)
	}
	next := mon.Add(24 * time.Hour).Truncate(24 * time.Hour) // Tuesday 00:00 UTC
	if u := m.Usage(r, ms(next)); u.Day != 0 || u.Week != 10 {
		t.Fatalf("Tuesday: %+v", u)
	}
	if u := m.Usage(r, ms(mon.Add(7*24*time.Hour))); u.Week != 0 {
		t.Fatalf("next Monday: %+v", u)
	}
	// The rep's own time zone decides where the day starts.
	r.TimeZone = "America/New_York" // Monday 09:00 UTC is 04:00 there
	if u := m.Usage(r, ms(mon.Add(-6*time.Hour))); u.Day != 0 {
		t.Fatalf("in New York the claims are later that day: %+v", u)
	}
}

func TestCooldownSuspensionAndTheirEnds(t *testing.T) {
	r := m.Upsert(nil, upsert(1)).State
	r.CooldownUntil = ms(mon.Add(30 * time.Second))
	if res := m.RequestClaim(r, cmd(schemas.ClaimRequested, "a", mon)); res.Decision.Code != CodeCooldown || res.Decision.CooldownUntil != r.CooldownUntil {
		t.Fatalf("%+v", res.Decision)
	}
	if res := m.RequestClaim(r, cmd(schemas.ClaimRequested, "a", mon.Add(30*time.Second))); res.Decision != nil {
		t.Fatalf("cooldown over: %+v", res.Decision)
	}
	r.SuspendedUntil = ms(mon.Add(time.Hour))
	if res := m.RequestOpen(r, cmd(schemas.OpenRequested, "b", mon.Add(time.Minute))); res.Decision.Code != CodeSuspended {
		t.Fatalf("%+v", res.Decision)
	}
}

func TestSLAMissesPenaliseAndSuspend(t *testing.T) {
	r := m.Upsert(nil, upsert(1)).State
	miss := func(id string, at time.Time) Result { return m.MissSLA(r, cmd(schemas.SLAMissed, id, at)) }
	res := miss("m1", mon)
	r = res.State
	if u := m.Usage(r, ms(mon)); u.Day != 1 || u.Penalty != 1 {
		t.Fatalf("penalty off today's quota: %+v", u)
	}
	if again := miss("m1", mon); again.State != nil {
		t.Fatal("a replayed miss counted twice")
	}
	r = miss("m2", mon.Add(24*time.Hour)).State
	// A miss older than a week does not count: the third after 8 days.
	res = miss("m3", mon.Add(8*24*time.Hour))
	if res.State.SuspendedUntil != 0 {
		t.Fatalf("misses outside the rolling week suspended: %+v", res.State)
	}
	r = res.State
	r = miss("m4", mon.Add(8*24*time.Hour+time.Hour)).State
	res = miss("m5", mon.Add(8*24*time.Hour+2*time.Hour))
	if res.State.SuspendedUntil != ms(mon.Add(8*24*time.Hour+2*time.Hour+168*time.Hour)) || len(res.Roster) == 0 {
		t.Fatalf("3 misses in 7 days must suspend for 168h: %+v", res.State)
	}
	lift := m.LiftSuspension(res.State, cmd(schemas.SuspensionLifted, "l", mon.Add(9*24*time.Hour)))
	if lift.State.SuspendedUntil != 0 || len(lift.State.SLAMisses) != 0 || !lift.Decision.OK {
		t.Fatalf("lift: %+v", lift.State)
	}
}

func TestBrowseWindowAndStaleTimer(t *testing.T) {
	r := m.Upsert(nil, upsert(1)).State
	res := m.StartBrowse(r, cmd(schemas.BrowseStarted, "b1", mon))
	r = res.State
	if len(res.Timers) != 1 || res.Timers[0].Kind != timer.Browse || r.BrowseUntil != ms(mon.Add(time.Minute)) {
		t.Fatalf("%+v", res)
	}
	fired := schemas.RepCommand{RepID: "ana", Type: schemas.TimerFired, Timer: timer.Browse, Seq: r.BrowseSeq, At: r.BrowseUntil}
	r2 := win(t, r, "c1", mon.Add(10*time.Second)) // a claim closes the window
	if stale := m.TimerFired(r2, fired); stale.State != nil {
		t.Fatal("a stale browse timer acted")
	}
	out := m.TimerFired(r, fired)
	if out.State.CooldownUntil != ms(mon.Add(90*time.Second)) {
		t.Fatalf("window ran out: %+v", out.State)
	}
	later := out.State
	later.CooldownUntil = 0
	if replay := m.StartBrowse(later, cmd(schemas.BrowseStarted, "b1", mon)); replay.State != nil || len(replay.Timers) != 0 {
		t.Fatalf("a redelivered queue view opened a second window: %+v", replay)
	}
}

func TestSetQuotasOverridesAndResets(t *testing.T) {
	r := m.Upsert(nil, upsert(1)).State
	c := cmd(schemas.QuotasSet, "q", mon)
	c.QuotaDay = 2
	r = m.SetQuotas(r, c).State
	if l := m.Limits(r); l.Day != 2 || l.Hour != 3 || l.Week != 40 {
		t.Fatalf("%+v", l)
	}
	c2 := cmd(schemas.QuotasSet, "q2", mon)
	r = m.SetQuotas(r, c2).State
	if l := m.Limits(r); l.Day != 10 {
		t.Fatalf("-1 returns to the policy: %+v", l)
	}
}

func TestValidateUpsert(t *testing.T) {
	for field, mutate := range map[string]func(*schemas.RepUpsert){
		"rep_id":          func(u *schemas.RepUpsert) { u.RepID = "" },
		"name":            func(u *schemas.RepUpsert) { u.Name = "" },
		"tier":            func(u *schemas.RepUpsert) { u.Tier = 4 },
		"weekly_capacity": func(u *schemas.RepUpsert) { u.WeeklyCapacity = -1 },
		"time_zone":       func(u *schemas.RepUpsert) { u.TimeZone = "Mars/Base" },
	} {
		u := upsert(1)
		mutate(&u)
		if fe := ValidateUpsert(u); fe == nil || fe.Field != field {
			t.Errorf("%s: %v", field, fe)
		}
	}
}

func TestATerritoryWithAControlCharacterIsRefused(t *testing.T) {
	u := upsert(10)
	u.Territory = "north\x1f3" // would name a shard of the north pool
	if fe := ValidateUpsert(u); fe == nil || fe.Field != "territory" {
		t.Fatalf("want a territory error: %v", fe)
	}
}
