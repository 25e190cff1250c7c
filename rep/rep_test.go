package rep

import (
	"testing"

	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/schemas"
)

var m = Machine{Policy: policy.Default()}

func upsert(at int64) schemas.RepUpsert {
	return schemas.RepUpsert{RepID: "ana", RequestID: "u", At: at, Name: "Ana", Territory: "north", Tier: 1, Active: true}
}

func TestUpsertKeepsLedgerAndIgnoresStale(t *testing.T) {
	r := m.Upsert(nil, upsert(10)).State
	r.ClaimsWon = 4
	u := upsert(20)
	u.Territory = "south"
	r2 := m.Upsert(r, u).State
	if r2.Territory != "south" || r2.ClaimsWon != 4 {
		t.Fatalf("%+v", r2)
	}
	if res := m.Upsert(r2, upsert(15)); res.State != nil || !res.Decision.OK {
		t.Fatalf("stale upsert: %+v", res)
	}
}

func TestClaimAdmission(t *testing.T) {
	c := schemas.RepCommand{RepID: "ana", RequestID: "c1", Type: ClaimRequested, At: 30, LeadID: "L1"}
	if r := m.RequestClaim(nil, c); r.Decision == nil || r.Decision.Code != CodeUnknownRep || r.Forward != nil {
		t.Fatalf("%+v", r)
	}
	rep := m.Upsert(nil, upsert(10)).State
	r := m.RequestClaim(rep, c)
	if r.Forward == nil || r.Forward.RepTier != 1 || r.Forward.RepTerritory != "north" || r.Forward.Type != ClaimReserved || r.Decision != nil {
		t.Fatalf("%+v", r)
	}
	inactive := *rep
	inactive.Active = false
	if r := m.RequestClaim(&inactive, c); r.Decision == nil || r.Decision.Code != CodeUnknownRep {
		t.Fatal("an inactive rep claimed")
	}
}

func TestSettleOnce(t *testing.T) {
	rep := m.Upsert(nil, upsert(10)).State
	s := schemas.RepCommand{RepID: "ana", RequestID: "c1", Type: ClaimSettled, OK: true}
	r1 := m.Settle(rep, s).State
	if r1.ClaimsWon != 1 {
		t.Fatal(r1)
	}
	if r := m.Settle(r1, s); r.State != nil {
		t.Fatal("settled twice")
	}
	for i := range recentSize + 10 {
		r1 = m.Settle(r1, schemas.RepCommand{RequestID: string(rune('a'+i%26)) + string(rune(i))}).State
	}
	if len(r1.Recent) != recentSize {
		t.Fatalf("recent ids unbounded: %d", len(r1.Recent))
	}
}

func TestValidateUpsert(t *testing.T) {
	for field, mutate := range map[string]func(*schemas.RepUpsert){
		"rep_id":          func(u *schemas.RepUpsert) { u.RepID = "" },
		"name":            func(u *schemas.RepUpsert) { u.Name = "" },
		"tier":            func(u *schemas.RepUpsert) { u.Tier = 4 },
		"weekly_capacity": func(u *schemas.RepUpsert) { u.WeeklyCapacity = -1 },
	} {
		u := upsert(1)
		mutate(&u)
		if fe := ValidateUpsert(u); fe == nil || fe.Field != field {
			t.Errorf("%s: %v", field, fe)
		}
	}
}
