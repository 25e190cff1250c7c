package avail

import (
	"testing"
	"time"
)

func TestWorkingHoursInTheRepsTimeZone(t *testing.T) {
	a, fe := Request{WorkingHours: map[string]string{"mon": "09:00-12:00,13:00-17:00", "sat": "off"}}.Parse()
	if fe != nil {
		t.Fatal(fe)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(s string) int64 {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	for when, want := range map[string]bool{
		"2026-11-23 08:59": false, "2026-11-23 09:00": true, "2026-11-23 12:30": false, "2026-11-23 16:59": true,
		"2026-11-23 17:00": false, "2026-11-28 10:00": false, "2026-11-24 10:00": false, // Tuesday: no hours given
	} {
		if got, why := a.Available(berlin, at(when)); got != want {
			t.Errorf("%s: %v (%s), want %v", when, got, why, want)
		}
	}
	// 09:00 in Berlin is 08:00 UTC in winter: the rep's zone decides.
	if ok, _ := a.Available(time.UTC, at("2026-11-23 09:30")); ok {
		t.Error("read in UTC, 08:30 is before the hours")
	}
	if ok, _ := (Availability{}).Available(berlin, at("2026-11-28 03:00")); !ok {
		t.Error("no hours declared: any hour")
	}
}

func TestOutOfOffice(t *testing.T) {
	var r Request
	r.OutOfOffice = append(r.OutOfOffice, struct {
		From  string `json:"from"`
		Until string `json:"until"`
	}{"2026-12-24T00:00:00Z", "2027-01-02T00:00:00Z"})
	a, fe := r.Parse()
	if fe != nil {
		t.Fatal(fe)
	}
	xmas := time.Date(2026, 12, 25, 10, 0, 0, 0, time.UTC).UnixMilli()
	if ok, why := a.Available(time.UTC, xmas); ok || why != "out_of_office" {
		t.Fatalf("%v %s", ok, why)
	}
	if len(a.Prune(time.Date(2027, 1, 3, 0, 0, 0, 0, time.UTC).UnixMilli()).OutOfOffice) != 0 {
		t.Fatal("an ended window stays")
	}
	back, err := Decode(a.Encode())
	if err != nil || len(back.OutOfOffice) != 1 {
		t.Fatalf("round trip: %v %+v", err, back)
	}
}

func TestBadRequestsNameTheField(t *testing.T) {
	for spec, field := range map[string]string{"9-17": "working_hours.mon", "17:00-09:00": "working_hours.mon", "09:00-12:00,11:00-13:00": "working_hours.mon",
		"00:00-01:00,02:00-03:00,04:00-05:00,06:00-07:00,08:00-09:00": "working_hours.mon"} {
		if _, fe := (Request{WorkingHours: map[string]string{"mon": spec}}).Parse(); fe == nil || fe.Field != field {
			t.Errorf("%q: %v", spec, fe)
		}
	}
	if _, fe := (Request{WorkingHours: map[string]string{"funday": "09:00-17:00"}}).Parse(); fe == nil {
		t.Error("unknown day accepted")
	}
}
