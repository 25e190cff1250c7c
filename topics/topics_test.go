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

func TestDurabilitySettings(t *testing.T) {
	if m := (Config{Partitions: 1, Replication: 3}).minInsync(); m != 2 {
		t.Fatalf("default min.insync.replicas of 3 replicas: %d", m)
	}
	if m := (Config{Partitions: 1, Replication: 1}).minInsync(); m != 1 {
		t.Fatalf("default min.insync.replicas of 1 replica: %d", m)
	}
	bad := map[string]Config{
		"exceeds the replication factor": {Partitions: 1, Replication: 2, MinInsync: 3},
		"replication must be at least 1": {Partitions: 1, Replication: 0},
		"partitions must be at least 1":  {Partitions: 0, Replication: 1},
	}
	for want, c := range bad {
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: want %q, got %v", c, want, err)
		}
	}
	weak := []Described{{Spec: Spec{Name: "a"}, Exists: true, Replication: 1}, {Spec: Spec{Name: "b"}, Exists: true, Replication: 3}}
	if err := checkReplication(weak, Config{Replication: 3}); err == nil || !strings.Contains(err.Error(), "a=1") || strings.Contains(err.Error(), "b=3") {
		t.Fatalf("weak topics: %v", err)
	}
}
