package accept

import (
	"strings"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/policy"
)

func TestRatioAsksForWarmThenAged(t *testing.T) {
	p := policy.Ratio{Enabled: true, HotPerWarm: 2, AgedEvery: 5}
	var s Streak
	claim := func(temp string, aged bool) string {
		code, msg := Ratio(p, s, temp, aged)
		if code == "" {
			s = s.After(temp, aged)
		}
		return code + msg
	}
	if got := claim("hot", false) + claim("hot", false); got != "" {
		t.Fatalf("two hot claims: %q", got)
	}
	if got := claim("hot", false); !strings.Contains(got, "must be a warm lead") {
		t.Fatalf("third hot: %q", got)
	}
	if got := claim("cold", false); got != "" || s.HotSinceWarm != 2 {
		t.Fatalf("a cold claim is allowed and settles nothing: %q %+v", got, s)
	}
	if got := claim("warm", false); got != "" || s.HotSinceWarm != 0 {
		t.Fatalf("a warm fourth claim settles the hot ones: %q %+v", got, s)
	}
	if got := claim("warm", false); !strings.Contains(got, "aged or low-priority") {
		t.Fatalf("the fifth claim must be aged or low priority: %q %+v", got, s)
	}
	if got := claim("warm", true); got != "" || s != (Streak{}) {
		t.Fatalf("an aged warm claim resets both: %q %+v", got, s)
	}
	if code, _ := Ratio(policy.Ratio{HotPerWarm: 1, AgedEvery: 1}, Streak{HotSinceWarm: 9, SinceAged: 9}, "hot", false); code != "" {
		t.Fatal("disabled: no refusal")
	}
}

func TestMinimumAcceptanceOverTheWindow(t *testing.T) {
	p := policy.MinAcceptance{Enabled: true, Rate: 0.8, Window: policy.Duration(time.Hour), MinOffers: 3}
	h := time.Hour.Milliseconds()
	answers := []Answer{{At: 0, Accepted: false}, {At: h / 2, Accepted: true}, {At: h, Accepted: true}, {At: h + 10, Accepted: false}}
	acc, total := Rate(answers, h+10, p)
	if acc != 2 || total != 3 { // the first is out of the window
		t.Fatalf("%d of %d", acc, total)
	}
	if !BelowMinimum(p, acc, total) {
		t.Fatal("2 of 3 is below 80 %")
	}
	if BelowMinimum(p, 1, 2) {
		t.Fatal("fewer than min_offers answers never suspend")
	}
	if BelowMinimum(policy.MinAcceptance{Rate: 0.8, MinOffers: 1}, 0, 5) {
		t.Fatal("disabled")
	}
	if n := len(Prune(answers, h+10, p)); n != 3 {
		t.Fatalf("prune kept %d", n)
	}
}
