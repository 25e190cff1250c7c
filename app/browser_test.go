package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/web"
)

// The pages in Debian's Chromium against a running Orchard: sign in by a
// one-time link and by a pasted token; a lead arrives in two reps' queues
// live; one rep opens it and it vanishes from the other's queue live; she
// claims it; the other is refused with the reason in plain words; it shows
// in her leads and she records the contact; a manager assigns an escalated
// lead from the desk. Every step is a screenshot in the artifacts folder.
func TestPagesInARealBrowser(t *testing.T) {
	shots := testenv.Chromium(t)
	n := start(t, Config{PolicyFile: policyFile(t, "lead: {escalate_after: 15s}\n")})
	n.mustRep("ana")
	n.mustRep("bo")
	manager := token(t, "boss", auth.RoleManager)
	n.mustLead("ESC-1", 55) // nobody takes it: escalated after 15 s

	ana, bo, boss := testenv.NewBrowser(t, "ana", shots), testenv.NewBrowser(t, "bo", shots), testenv.NewBrowser(t, "boss", shots)
	link, err := web.SignInLink(secret, n.base, "ana", auth.RoleRep, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ana.Run("sign in by link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#queue")))
	ana.Shot("01-ana-signed-in-by-link")
	// The same link a second time is refused.
	bo.Run("reuse the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(".refusal")))
	if s := bo.Text(".refusal"); !strings.Contains(s, "used already") {
		t.Fatalf("a used link: %q", s)
	}
	bo.Run("sign in with a token", chromedp.Navigate(n.base+"/ui/login"),
		chromedp.SendKeys(chromedp.CSS("#token"), token(t, "bo", auth.RoleRep)),
		chromedp.Submit(chromedp.CSS("#token")), chromedp.WaitVisible(chromedp.CSS("#queue")))
	bo.Shot("02-bo-signed-in-with-token")
	bo.Audit("queue (empty)")

	// A lead arrives: both queues show it without a reload.
	r := n.call("POST", "/v1/leads", token(t, "mkt", auth.RoleIntegration), map[string]any{
		"lead_id": "WEB-1", "company": "Acme Web", "employees": 120, "contact_name": "Kim", "contact_title": "CFO",
		"source": "demo_request", "score": 88, "territory": "north", "budget": "50k", "timeline": "Q1", "authority": "yes"})
	if r.Status != 202 {
		t.Fatalf("POST lead: %d %v", r.Status, r.Body)
	}
	row := `#queue tr[data-lead="WEB-1"]`
	ana.Run("see the lead arrive", chromedp.WaitVisible(chromedp.CSS(row)))
	bo.Run("see the lead arrive", chromedp.WaitVisible(chromedp.CSS(row)))
	ana.Shot("03-lead-arrived-live")
	ana.Audit("queue")

	// Ana opens it (a hold): it leaves Bo's queue live.
	ana.Run("open the lead", chromedp.Click(chromedp.CSS(row+" a")), chromedp.WaitVisible(chromedp.CSS(`[data-status="held"]`)))
	ana.Run("the hold counts down", chromedp.WaitVisible(chromedp.CSS("#hold")))
	ana.Shot("04-ana-detail-held")
	ana.Audit("lead detail")
	bo.Run("see it vanish", chromedp.WaitNotPresent(chromedp.CSS(row)))
	bo.Shot("05-bo-queue-after-ana-opened")

	// Bo tries it anyway: refused, with the reason in plain words.
	bo.Run("open a held lead", chromedp.Navigate(n.base+"/ui/leads/WEB-1"), chromedp.WaitVisible(chromedp.CSS(".refusal")))
	if s := bo.Text(".refusal"); !strings.Contains(s, "Another rep has this lead open") || !strings.Contains(s, "held") {
		t.Fatalf("the refusal Bo sees: %q", s)
	}
	bo.Shot("06-bo-refused-held")
	bo.Audit("refusal")

	// Ana claims: the decision shows at once; the lead is in her leads.
	ana.Run("claim", chromedp.Click(chromedp.CSS(`form[action$="/claim"] button`)), chromedp.WaitVisible(chromedp.CSS(".ok")))
	if s := ana.Text(".ok"); !strings.Contains(s, "WEB-1 is yours") {
		t.Fatalf("the claim's answer: %q", s)
	}
	ana.Shot("07-ana-claimed")
	ana.Run("my leads", chromedp.Navigate(n.base+"/ui/mine"), chromedp.WaitVisible(chromedp.CSS(`#mine tr[data-lead="WEB-1"]`)))
	ana.Shot("08-ana-my-leads")
	ana.Audit("my leads")
	ana.Run("record contact", chromedp.Click(chromedp.CSS(`#mine tr[data-lead="WEB-1"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#mine tr[data-lead="WEB-1"] [data-status="contacted"]`)))
	ana.Shot("09-ana-contact-recorded")
	// The same pages on a phone-sized screen.
	ana.Run("a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), chromedp.Navigate(n.base+"/ui/mine"),
		chromedp.WaitVisible(chromedp.CSS(`#mine tr[data-lead="WEB-1"]`)))
	ana.Shot("09b-ana-my-leads-on-a-phone")
	ana.Audit("my leads on a phone")

	// The manager assigns the escalated lead from the desk.
	testenv.CheckFor(t, 40*time.Second, 200*time.Millisecond, func() error {
		if r := n.call("GET", "/v1/leads/ESC-1", manager, nil); r.Body["status"] != "escalated" {
			return fmt.Errorf("ESC-1 is %v, not escalated yet", r.Body["status"])
		}
		return nil
	})
	mlink, _ := web.SignInLink(secret, n.base, "boss", auth.RoleManager, time.Now())
	esc := `#escalated tr[data-lead="ESC-1"]`
	boss.Run("the desk", chromedp.Navigate(mlink), chromedp.WaitVisible(chromedp.CSS(esc)))
	boss.Shot("10-manager-desk-escalated")
	boss.Audit("desk")
	boss.Run("assign", chromedp.SetValue(chromedp.CSS(esc+" select"), "bo"), chromedp.Click(chromedp.CSS(esc+" button")),
		chromedp.WaitVisible(chromedp.CSS("#escalated")), chromedp.WaitNotPresent(chromedp.CSS(esc)))
	boss.Shot("11-manager-assigned")
	if r := n.call("GET", "/v1/leads/ESC-1", manager, nil); r.Body["owner"] != "bo" || r.Body["method"] != "manager" {
		t.Fatalf("ESC-1 after the manager's assignment: %v", r.Body)
	}
	// And pins Bo's tier from the desk.
	boss.Run("pin a tier", chromedp.SetValue(chromedp.CSS(`#tier-bo`), "3"), chromedp.Click(chromedp.CSS(`#reps tr[data-rep="bo"] input[name="pinned"]`)),
		testenv.Submit(`#reps tr[data-rep="bo"] form[action$="/tier"] button`),
		chromedp.WaitVisible(chromedp.CSS("#reps")))
	testenv.CheckFor(t, 20*time.Second, 100*time.Millisecond, func() error {
		r := n.call("GET", "/v1/reps", manager, nil)
		reps, _ := r.Body["reps"].([]any)
		for _, x := range reps {
			if rp, _ := x.(map[string]any); rp["rep_id"] == "bo" && rp["tier"] == float64(3) && rp["tier_pinned"] == true {
				return nil
			}
		}
		return fmt.Errorf("bo after the desk pinned tier 3: %v", r.Body)
	})
	boss.Run("the desk again", chromedp.Navigate(n.base+"/ui/desk"), chromedp.WaitVisible(chromedp.CSS(`#reps tr[data-rep="bo"] input[name="pinned"][checked]`)))
	boss.Shot("12-manager-pinned-a-tier")
}
