package policy

import (
	"sync"
	"sync/atomic"
)

// Versioned is a policy with the record that put it in force.
type Versioned struct {
	Policy  Policy
	Version string
	At      int64  // ms
	By      string // startup, sighup, or a manager's id
}

// Live is the policy in force in this process: the last record of the
// policy topic (policyfeed follows it). Readers take one snapshot per
// decision, so a decision never mixes two versions.
type Live struct {
	cur     atomic.Pointer[Versioned]
	mu      sync.Mutex
	history []Versioned
	changed chan struct{}
}

// NewLive starts from a policy (until the topic says otherwise).
func NewLive(p Policy) *Live {
	l := &Live{changed: make(chan struct{})}
	l.cur.Store(&Versioned{Policy: p, Version: p.Version()})
	return l
}

// Current is the policy in force.
func (l *Live) Current() Versioned { return *l.cur.Load() }

// Set puts a version in force and records it in the history.
func (l *Live) Set(v Versioned) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cur.Store(&v)
	l.history = append(l.history, Versioned{Version: v.Version, At: v.At, By: v.By})
	if len(l.history) > 1000 {
		l.history = l.history[len(l.history)-1000:]
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// Changed is closed at the next Set.
func (l *Live) Changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changed
}

// History lists the versions this process has seen put in force, oldest
// first (version, time, by; not the policies).
func (l *Live) History() []Versioned {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Versioned(nil), l.history...)
}

// YAML is the policy as a complete policy file (every key).
func (p Policy) YAML() string {
	b, err := marshal(p)
	if err != nil {
		return ""
	}
	return string(b)
}
