package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

func appendEntry(t *testing.T, db *store.DB, e *audit.Entry) *audit.Entry {
	t.Helper()
	tx(t, db, func(r app.Repos) error { return r.Audit.Append(t.Context(), e) })
	return e
}

func entry(stream string, at time.Time, actor int64, action, outcome string) *audit.Entry {
	return &audit.Entry{Stream: stream, At: at, ActorID: actor, ActorName: "用户", ActorRoles: []string{"owner", "verifier"},
		IP: "2001:db8::1", RequestID: "req-" + action, Action: action, ObjectType: "problem", ObjectID: "1",
		FromState: "submitted", ToState: "closed", Changes: `{"note":"验收通过 ✓ \"quoted\" \\ back"}`, Outcome: outcome,
		Reason: "理由"}
}

// checkpointOne signs heads into checkpoint 1, with new keys, and saves it.
func checkpointOne(t *testing.T, db *store.DB, heads []audit.Head) (*audit.Keys, *audit.Checkpoint) {
	t.Helper()
	keys, err := audit.LoadOrCreateKeys(t.TempDir()+"/k", "test")
	if err != nil {
		t.Fatal(err)
	}
	cp, err := keys.NewCheckpoint(1, t0, audit.GenesisHash(), heads)
	if err != nil {
		t.Fatal(err)
	}
	tx(t, db, func(r app.Repos) error { return r.Audit.SaveCheckpoint(t.Context(), cp) })
	return keys, cp
}

func TestAuditAppendChainsPerStream(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	ctx := t.Context()
	ns := t0.Add(123456789 * time.Nanosecond)
	es := []*audit.Entry{
		appendEntry(t, db, entry("system", ns, 1, "login", audit.OutcomeOK)),
		appendEntry(t, db, entry("problem/1", ns.Add(time.Second), 2, "register", audit.OutcomeOK)),
		appendEntry(t, db, entry("system", ns.Add(2*time.Second), 1, "login", audit.OutcomeRefused)),
		appendEntry(t, db, entry("problem/2", ns.Add(3*time.Second), 3, "register", audit.OutcomeOK)),
		appendEntry(t, db, entry("problem/1", ns.Add(4*time.Second), 2, "assign", audit.OutcomeOK)),
	}
	wantStreamSeq := []int64{1, 1, 2, 1, 2}
	for i, e := range es {
		if e.StreamSeq != wantStreamSeq[i] {
			t.Errorf("entry %d: stream seq %d, want %d", i, e.StreamSeq, wantStreamSeq[i])
		}
		if i > 0 && e.Seq <= es[i-1].Seq {
			t.Errorf("global sequence not increasing: %d after %d", e.Seq, es[i-1].Seq)
		}
		if e.At.Nanosecond()%1000 != 0 {
			t.Errorf("time not truncated to microseconds: %v", e.At)
		}
	}
	if es[0].PrevHash != audit.GenesisHash() || es[2].PrevHash != es[0].Hash || es[4].PrevHash != es[1].Hash ||
		es[3].PrevHash != audit.GenesisHash() {
		t.Fatal("entries are not chained per stream")
	}

	// What is read back hashes to what was written, on both databases.
	back, err := db.Read().Audit.StreamEntries(ctx, []string{"problem/1", "system", "problem/2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 5 {
		t.Fatalf("%d entries read back", len(back))
	}
	bySeq := map[int64]*audit.Entry{}
	for _, b := range back {
		bySeq[b.Seq] = b
		if b.ComputeHash() != b.Hash {
			t.Errorf("entry %d read back does not match its hash: %+v", b.Seq, b)
		}
	}
	for _, e := range es {
		b := bySeq[e.Seq]
		if b == nil || !b.At.Equal(e.At) || b.Changes != e.Changes || b.Hash != e.Hash || b.Reason != "理由" ||
			!slices.Equal(b.ActorRoles, e.ActorRoles) || b.IP != e.IP {
			t.Errorf("entry %d read back as %+v", e.Seq, b)
		}
	}
	// Stream order: by stream, then stream sequence.
	var order []int64
	for _, b := range back {
		order = append(order, b.Seq)
	}
	if want := []int64{es[1].Seq, es[4].Seq, es[3].Seq, es[0].Seq, es[2].Seq}; !slices.Equal(order, want) {
		t.Errorf("stream entries in order %v, want %v", order, want)
	}

	heads, err := db.Read().Audit.Heads(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []audit.Head{
		{Stream: "problem/1", Seq: 2, Hash: es[4].Hash, EntryID: es[4].Seq, Pending: true},
		{Stream: "problem/2", Seq: 1, Hash: es[3].Hash, EntryID: es[3].Seq, Pending: true},
		{Stream: "system", Seq: 2, Hash: es[2].Hash, EntryID: es[2].Seq, Pending: true},
	}
	if !slices.Equal(heads, want) {
		t.Fatalf("heads %+v, want %+v", heads, want)
	}
	if page, _ := db.Read().Audit.Heads(ctx, "problem/1", 1); !slices.Equal(page, want[1:2]) {
		t.Fatalf("heads after problem/1: %+v", page)
	}
	if orphans, err := db.Read().Audit.OrphanStreams(ctx); err != nil || len(orphans) != 0 {
		t.Fatalf("orphans %v %v", orphans, err)
	}
	byID, err := db.Read().Audit.EntriesByID(ctx, []int64{es[0].Seq, es[3].Seq, 99999})
	if err != nil || len(byID) != 2 {
		t.Fatalf("entries by id: %v %v", byID, err)
	}
	at := []app.StreamPos{{Stream: "problem/1", Seq: 2}, {Stream: "system", Seq: 1}, {Stream: "problem/2", Seq: 2}}
	if ids, err := db.Read().Audit.EntryIDs(ctx, at); err != nil || len(ids) != 2 || ids[at[0]] != es[4].Seq || ids[at[1]] != es[0].Seq {
		t.Fatalf("entries by position: %v %v", ids, err)
	}

	// Checkpointing clears the pending flags of the heads it commits to.
	var pending []audit.Head
	tx(t, db, func(r app.Repos) error { pending, err = r.Audit.PendingHeads(ctx, 100); return err })
	if !slices.Equal(pending, want) {
		t.Fatalf("pending heads %+v", pending)
	}
	keys, cp := checkpointOne(t, db, pending)
	if latest, _ := db.Read().Audit.LatestCheckpoint(ctx); latest == nil || latest.Number != 1 || latest.Root != cp.Root ||
		latest.Note != cp.Note || !latest.At.Equal(cp.At) {
		t.Fatalf("latest checkpoint %+v", latest)
	}
	cps, err := db.Read().Audit.Checkpoints(ctx, 0, 10)
	signed := slices.Clone(want)
	for i := range signed {
		signed[i].Pending = false // not part of what is signed
	}
	if err != nil || len(cps) != 1 || !slices.Equal(cps[0].Heads, signed) {
		t.Fatalf("checkpoints %+v %v", cps, err)
	}
	if err := keys.VerifyCheckpoint(cps[0]); err != nil {
		t.Fatalf("stored checkpoint does not verify: %v", err)
	}
	tx(t, db, func(r app.Repos) error { pending, err = r.Audit.PendingHeads(ctx, 100); return err })
	if len(pending) != 0 {
		t.Fatalf("pending after checkpoint: %+v", pending)
	}
	e6 := appendEntry(t, db, entry("problem/2", ns.Add(5*time.Second), 3, "assign", audit.OutcomeOK))
	tx(t, db, func(r app.Repos) error { pending, err = r.Audit.PendingHeads(ctx, 100); return err })
	if len(pending) != 1 || pending[0].Stream != "problem/2" || pending[0].EntryID != e6.Seq {
		t.Fatalf("pending after one more entry: %+v", pending)
	}
	err = db.Tx(ctx, func(ctx context.Context, r app.Repos) error { return r.Audit.SaveCheckpoint(ctx, cp) })
	if !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("saving checkpoint 1 twice: %v, want ErrConflict", err)
	}
	if cps, _ := db.Read().Audit.Checkpoints(ctx, 1, 10); len(cps) != 0 {
		t.Fatalf("checkpoints after 1: %+v", cps)
	}
}

// A checkpoint of more heads than one statement clears clears them all,
// and leaves pending a stream that moved past the head it signed.
func TestSaveCheckpointClearsEveryHeadItSigned(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	ctx := t.Context()
	const streams = 450 // more than two statements' worth
	tx(t, db, func(r app.Repos) error {
		for i := range streams {
			if err := r.Audit.Append(ctx, entry(fmt.Sprintf("problem/%d", i+1), t0, 1, "register", audit.OutcomeOK)); err != nil {
				return err
			}
		}
		return nil
	})
	var pending []audit.Head
	var err error
	tx(t, db, func(r app.Repos) error { pending, err = r.Audit.PendingHeads(ctx, 1000); return err })
	if len(pending) != streams {
		t.Fatalf("%d pending heads, want %d", len(pending), streams)
	}
	moved := appendEntry(t, db, entry("problem/317", t0.Add(time.Second), 1, "assign", audit.OutcomeOK))
	checkpointOne(t, db, pending)
	tx(t, db, func(r app.Repos) error { pending, err = r.Audit.PendingHeads(ctx, 1000); return err })
	if len(pending) != 1 || pending[0].Stream != "problem/317" || pending[0].Seq != 2 || pending[0].EntryID != moved.Seq {
		t.Fatalf("pending after the checkpoint: %+v, want problem/317 at 2 only", pending)
	}
}

func TestAuditList(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	ctx := t.Context()
	var es []*audit.Entry
	for i, spec := range []struct {
		stream, action, outcome string
		actor                   int64
	}{
		{"system", "login", audit.OutcomeOK, 1},
		{"problem/1", "register", audit.OutcomeOK, 2},
		{"problem/1", "assign", audit.OutcomeRefused, 3},
		{"problem/2", "register", audit.OutcomeOK, 2},
		{"problem/1", "assign", audit.OutcomeOK, 4},
	} {
		e := entry(spec.stream, t0.Add(time.Duration(i)*time.Minute), spec.actor, spec.action, spec.outcome)
		if spec.stream == "problem/2" {
			e.ObjectID = "2"
		}
		es = append(es, appendEntry(t, db, e))
	}
	seqs := func(q app.AuditQuery) []int64 {
		t.Helper()
		if q.Limit == 0 {
			q.Limit = 100
		}
		got, err := db.Read().Audit.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, e := range got {
			out = append(out, e.Seq)
		}
		return out
	}
	s := func(is ...int) []int64 {
		var out []int64
		for _, i := range is {
			out = append(out, es[i].Seq)
		}
		return out
	}
	tests := []struct {
		name string
		q    app.AuditQuery
		want []int64
	}{
		{"all, newest first", app.AuditQuery{}, s(4, 3, 2, 1, 0)},
		{"actor", app.AuditQuery{ActorID: 2}, s(3, 1)},
		{"object", app.AuditQuery{ObjectType: "problem", ObjectID: "2"}, s(3)},
		{"action", app.AuditQuery{Action: "assign"}, s(4, 2)},
		{"outcome", app.AuditQuery{Outcome: audit.OutcomeRefused}, s(2)},
		{"stream", app.AuditQuery{Stream: "problem/1"}, s(4, 2, 1)},
		{"time range", app.AuditQuery{From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)}, s(2, 1)},
		{"before", app.AuditQuery{BeforeSeq: es[3].Seq}, s(2, 1, 0)},
		{"limit", app.AuditQuery{Limit: 2}, s(4, 3)},
		{"ascending timeline", app.AuditQuery{Stream: "problem/1", Ascending: true}, s(1, 2, 4)},
		{"ascending after", app.AuditQuery{Stream: "problem/1", Ascending: true, AfterSeq: es[1].Seq}, s(2, 4)},
	}
	for _, tt := range tests {
		if got := seqs(tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
