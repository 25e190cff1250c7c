package apidoc

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/api.md from api/openapi.yaml")

// docs/api.md is api/openapi.yaml rendered; an edit to one without the
// other fails here.
func TestAPIPageIsTheContract(t *testing.T) {
	doc, err := os.ReadFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Render(doc)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("../../docs/api.md", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/api.md differs from api/openapi.yaml rendered: run `make docs`")
	}
	for _, route := range []string{"### POST /v1/leads/{lead_id}/claim", "### GET /v1/queue", "### PUT /v1/policy", "already_claimed"} {
		if !strings.Contains(string(got), route) {
			t.Errorf("docs/api.md lacks %q", route)
		}
	}
}
