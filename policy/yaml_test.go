package policy

import "testing"

func TestYAMLRoundTrip(t *testing.T) {
	p, err := Parse([]byte("mode: split\nsplit: {pick_share: 0.3}\n"))
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse([]byte(p.YAML()))
	if err != nil {
		t.Fatalf("%v\n%s", err, p.YAML())
	}
	if q.Version() != p.Version() {
		t.Fatalf("%s != %s\n%s", q.Version(), p.Version(), p.YAML())
	}
}
