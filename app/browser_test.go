package app

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/web"
)

// chromium is Debian's Chromium (scripts/integration.sh installs it with
// apt); "" when this machine has none.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is one signed-in person's browser.
type browser struct {
	t      *testing.T
	ctx    context.Context
	name   string
	shots  string
	cancel func()
}

func newBrowser(t *testing.T, name, shots string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium()), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: ctx, name: name, shots: shots, cancel: func() { cancel(); acancel() }}
	t.Cleanup(b.cancel)
	// The first run starts the browser; it must not carry a timeout (that
	// would stop the browser with it).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: starting Chromium: %v", name, err)
	}
	return b
}

// run performs actions within 30 s or fails the test with the step.
func (b *browser) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, step, err)
	}
}

// shot saves a screenshot of the page as <shots>/<name>.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("%s: screenshot %s: %v", b.name, name, err)
	}
	p := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	fmt.Println("browser: screenshot", p)
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("%s: read %s: %v", b.name, sel, err)
	}
	return s
}

// The pages in Debian's Chromium against a running Orchard: sign in by a
// one-time link and by a pasted token; a lead arrives in two reps' queues
// live; one rep opens it and it vanishes from the other's queue live; she
// claims it; the other is refused with the reason in plain words; it shows
// in her leads and she records the contact; a manager assigns an escalated
// lead from the desk. Every step is a screenshot in the artifacts folder.
func TestPagesInARealBrowser(t *testing.T) {
	if chromium() == "" {
		if os.Getenv("ORCHARD_TEST_REQUIRE") == "1" {
			t.Fatal("no Chromium on this machine: scripts/integration.sh installs it (apt-get install chromium)")
		}
		t.Skip("no Chromium here (apt-get install chromium); the integration run of make test installs it and runs this")
	}
	shots := os.Getenv("ORCHARD_TEST_ARTIFACTS")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), "orchard-artifacts")
	}
	shots = filepath.Join(shots, "browser")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	n := start(t, Config{PolicyFile: policyFile(t, "lead: {escalate_after: 15s}\n")})
	n.mustRep("ana")
	n.mustRep("bo")
	manager := token(t, "boss", auth.RoleManager)
	n.mustLead("ESC-1", 55) // nobody takes it: escalated after 15 s

	ana, bo, boss := newBrowser(t, "ana", shots), newBrowser(t, "bo", shots), newBrowser(t, "boss", shots)
	link, err := web.SignInLink(secret, n.base, "ana", auth.RoleRep, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ana.run("sign in by link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#queue")))
	ana.shot("01-ana-signed-in-by-link")
	// The same link a second time is refused.
	bo.run("reuse the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(".refusal")))
	if s := bo.text(".refusal"); !strings.Contains(s, "used already") {
		t.Fatalf("a used link: %q", s)
	}
	bo.run("sign in with a token", chromedp.Navigate(n.base+"/ui/login"),
		chromedp.SendKeys(chromedp.CSS("#token"), token(t, "bo", auth.RoleRep)),
		chromedp.Submit(chromedp.CSS("#token")), chromedp.WaitVisible(chromedp.CSS("#queue")))
	bo.shot("02-bo-signed-in-with-token")

	// A lead arrives: both queues show it without a reload.
	r := n.call("POST", "/v1/leads", token(t, "mkt", auth.RoleIntegration), map[string]any{
		"lead_id": "WEB-1", "company": "Acme Web", "employees": 120, "contact_name": "Kim", "contact_title": "CFO",
		"source": "demo_request", "score": 88, "territory": "north", "budget": "50k", "timeline": "Q1", "authority": "yes"})
	if r.Status != 202 {
		t.Fatalf("POST lead: %d %v", r.Status, r.Body)
	}
	row := `#queue tr[data-lead="WEB-1"]`
	ana.run("see the lead arrive", chromedp.WaitVisible(chromedp.CSS(row)))
	bo.run("see the lead arrive", chromedp.WaitVisible(chromedp.CSS(row)))
	ana.shot("03-lead-arrived-live")

	// Ana opens it (a hold): it leaves Bo's queue live.
	ana.run("open the lead", chromedp.Click(chromedp.CSS(row+" a")), chromedp.WaitVisible(chromedp.CSS(`[data-status="held"]`)))
	ana.shot("04-ana-detail-held")
	bo.run("see it vanish", chromedp.WaitNotPresent(chromedp.CSS(row)))
	bo.shot("05-bo-queue-after-ana-opened")

	// Bo tries it anyway: refused, with the reason in plain words.
	bo.run("open a held lead", chromedp.Navigate(n.base+"/ui/leads/WEB-1"), chromedp.WaitVisible(chromedp.CSS(".refusal")))
	if s := bo.text(".refusal"); !strings.Contains(s, "Another rep has this lead open") || !strings.Contains(s, "held") {
		t.Fatalf("the refusal Bo sees: %q", s)
	}
	bo.shot("06-bo-refused-held")

	// Ana claims: the decision shows at once; the lead is in her leads.
	ana.run("claim", chromedp.Click(chromedp.CSS(`form[action$="/claim"] button`)), chromedp.WaitVisible(chromedp.CSS(".ok")))
	if s := ana.text(".ok"); !strings.Contains(s, "WEB-1 is yours") {
		t.Fatalf("the claim's answer: %q", s)
	}
	ana.shot("07-ana-claimed")
	ana.run("my leads", chromedp.Navigate(n.base+"/ui/mine"), chromedp.WaitVisible(chromedp.CSS(`#mine tr[data-lead="WEB-1"]`)))
	ana.shot("08-ana-my-leads")
	ana.run("record contact", chromedp.Click(chromedp.CSS(`#mine tr[data-lead="WEB-1"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#mine tr[data-lead="WEB-1"] [data-status="contacted"]`)))
	ana.shot("09-ana-contact-recorded")

	// The manager assigns the escalated lead from the desk.
	testenv.CheckFor(t, 40*time.Second, 200*time.Millisecond, func() error {
		if r := n.call("GET", "/v1/leads/ESC-1", manager, nil); r.Body["status"] != "escalated" {
			return fmt.Errorf("ESC-1 is %v, not escalated yet", r.Body["status"])
		}
		return nil
	})
	mlink, _ := web.SignInLink(secret, n.base, "boss", auth.RoleManager, time.Now())
	esc := `#escalated tr[data-lead="ESC-1"]`
	boss.run("the desk", chromedp.Navigate(mlink), chromedp.WaitVisible(chromedp.CSS(esc)))
	boss.shot("10-manager-desk-escalated")
	boss.run("assign", chromedp.SetValue(chromedp.CSS(esc+" select"), "bo"), chromedp.Click(chromedp.CSS(esc+" button")),
		chromedp.WaitVisible(chromedp.CSS("#escalated")), chromedp.WaitNotPresent(chromedp.CSS(esc)))
	boss.shot("11-manager-assigned")
	if r := n.call("GET", "/v1/leads/ESC-1", manager, nil); r.Body["owner"] != "bo" || r.Body["method"] != "manager" {
		t.Fatalf("ESC-1 after the manager's assignment: %v", r.Body)
	}
}
