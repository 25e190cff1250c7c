package topics

import (
	"strings"
	"testing"
)

func TestCheckDescribed(t *testing.T) {
	set := New("x.")
	var ds []Described
	for _, s := range set.All() {
		ds = append(ds, Described{Spec: s, Partitions: 8, Exists: true})
	}
	if err := CheckDescribed(ds); err != nil {
		t.Fatal(err)
	}
	ds[1].Partitions = 3 // lead.commands
	for i := range ds {
		if ds[i].Name == set.DeadLetter {
			ds[i].Exists = false
		}
	}
	err := CheckDescribed(ds)
	if err == nil || !strings.Contains(err.Error(), "x.lead.commands=3") || !strings.Contains(err.Error(), "missing topics x.deadletter (run") {
		t.Fatalf("%v", err)
	}
}

func TestEveryGokaTableIsCompactedAndCoPartitioned(t *testing.T) {
	set := Default
	for _, g := range []string{set.LeadsGroup, set.RepsGroup, set.TimersGroup, set.DispatchGroup} {
		found := false
		for _, s := range set.All() {
			if s.Name == Table(g) {
				found = s.Compact && s.CoPartition != ""
			}
		}
		if !found {
			t.Errorf("table of %s not declared compacted and co-partitioned", g)
		}
	}
}
