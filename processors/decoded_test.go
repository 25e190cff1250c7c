package processors

import (
	"fmt"
	"testing"
)

// A claim reads the rep's ledger twice (claim_requested, claim_settled):
// the second read, and every read after a write on the same key, is the
// value written, not a decode — checked against its bytes on every hit
// (verifyDecoded, set in TestMain).
func TestRepLedgerIsNotDecodedAgainAfterItsWrite(t *testing.T) {
	h := newHarness(t, "quotas: {per_hour: 100, per_day: 100, per_week: 100}\n")
	h.rep("ana", "", 1)
	before := decodedHits.Load()
	for i := range 10 {
		id := fmt.Sprintf("L%d", i)
		h.qualify(id)
		want(t, h.claim("ana", id), true, "")
	}
	if hits := decodedHits.Load() - before; hits < 10 {
		t.Fatalf("10 claims saved %d decodes of the rep's ledger, want at least one each", hits)
	}
}

// Another value under the same key, or the same bytes at another address
// (what the table topic restores), is decoded.
func TestDecodedNeedsTheVerySliceWritten(t *testing.T) {
	d := newDecoded(RepCodec)
	r := sampleRep()
	b, err := RepCodec.Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	d.wrote(r.ID, b, r)
	if v, _ := d.Decode(b); v != any(r) {
		t.Fatal("the slice written was decoded again")
	}
	if v, _ := d.Decode(append([]byte(nil), b...)); v == any(r) {
		t.Fatal("a copy of the bytes returned the cached value")
	}
	d.deleted(r.ID)
	if v, _ := d.Decode(b); v == any(r) {
		t.Fatal("a deleted key still answered from the cache")
	}
}
