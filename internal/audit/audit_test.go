package audit_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
)

var at0 = time.Date(2026, 3, 2, 1, 0, 0, 123456789, time.UTC)

func sample() *audit.Entry {
	return &audit.Entry{
		Seq: 7, Stream: "problem/1", StreamSeq: 3, At: at0.Truncate(time.Microsecond), ActorID: 4, ActorName: "verifier",
		ActorRoles: []string{"leader", "verifier"}, IP: "10.0.0.1", RequestID: "req-1", Action: "verify_pass",
		ObjectType: "problem", ObjectID: "1", FromState: "submitted", ToState: "closed",
		Changes: `{"note":"验收通过"}`, Outcome: audit.OutcomeOK, Reason: "", PrevHash: strings.Repeat("a", 64),
	}
}

// Every field but Seq (assigned by the database) and Hash itself is covered by the hash.
func TestComputeHashCoversEveryField(t *testing.T) {
	base := sample()
	want := base.ComputeHash()
	if len(want) != 64 {
		t.Fatalf("hash %q is not 64 hex digits", want)
	}
	if again := sample().ComputeHash(); again != want {
		t.Fatalf("hash is not deterministic: %s vs %s", want, again)
	}
	typ := reflect.TypeOf(*base)
	covered := map[string]bool{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		e := sample()
		v := reflect.ValueOf(e).Elem().Field(i)
		switch v.Interface().(type) {
		case string:
			v.SetString(v.String() + "x")
		case int64:
			v.SetInt(v.Int() + 1)
		case time.Time:
			v.Set(reflect.ValueOf(e.At.Add(time.Microsecond)))
		case []string:
			v.Set(reflect.ValueOf([]string{"verifier"}))
		default:
			t.Fatalf("field %s of type %s is not exercised by this test", f.Name, f.Type)
		}
		changed := e.ComputeHash() != want
		covered[f.Name] = changed
		switch f.Name {
		case "Seq", "Hash":
			if changed {
				t.Errorf("changing %s changed the hash; it must not be hashed", f.Name)
			}
		default:
			if !changed {
				t.Errorf("changing %s did not change the hash", f.Name)
			}
		}
	}
	if len(covered) != typ.NumField() {
		t.Fatalf("checked %d of %d fields", len(covered), typ.NumField())
	}
}

// Field boundaries are encoded: moving text from one field to the next changes the hash.
func TestComputeHashSeparatesFields(t *testing.T) {
	a, b := sample(), sample()
	a.ObjectType, a.ObjectID = "problem", "12"
	b.ObjectType, b.ObjectID = "problem1", "2"
	if a.ComputeHash() == b.ComputeHash() {
		t.Fatal("shifting text between fields kept the hash")
	}
}

func TestChain(t *testing.T) {
	e := sample()
	e.Changes = ""
	e.At = at0.In(time.FixedZone("CST", 8*3600))
	e.Chain(0, "ignored for the first entry")
	if e.StreamSeq != 1 || e.PrevHash != audit.GenesisHash() {
		t.Fatalf("first entry: seq %d prev %s", e.StreamSeq, e.PrevHash)
	}
	if e.PrevHash != strings.Repeat("0", 64) {
		t.Fatalf("genesis is %q", e.PrevHash)
	}
	if e.Changes != "{}" {
		t.Fatalf("empty changes normalised to %q", e.Changes)
	}
	if e.At.Location() != time.UTC || e.At.Nanosecond()%1000 != 0 || !e.At.Equal(at0.Truncate(time.Microsecond)) {
		t.Fatalf("time not normalised to UTC microseconds: %v", e.At)
	}
	if e.Hash != e.ComputeHash() {
		t.Fatal("Chain did not set the hash")
	}
	next := sample()
	next.Chain(e.StreamSeq, e.Hash)
	if next.StreamSeq != 2 || next.PrevHash != e.Hash || next.Hash != next.ComputeHash() {
		t.Fatalf("second entry: seq %d prev %s", next.StreamSeq, next.PrevHash)
	}
	if next.Hash == e.Hash {
		t.Fatal("two chained entries share a hash")
	}
	if audit.ProblemStream(42) != "problem/42" || audit.SystemStream != "system" {
		t.Fatal("stream names changed")
	}
}

// chain builds a valid stream of n entries with global sequences from seqs.
func chain(stream string, seqs ...int64) []*audit.Entry {
	var out []*audit.Entry
	var headSeq int64
	headHash := audit.GenesisHash()
	for i, s := range seqs {
		e := &audit.Entry{Stream: stream, At: at0.Add(time.Duration(i) * time.Second), ActorID: 1, ActorName: "a",
			Action: "comment", ObjectType: "problem", ObjectID: "1", Outcome: audit.OutcomeOK,
			Changes: `{"i":` + string(rune('0'+i)) + `}`}
		e.Chain(headSeq, headHash)
		e.Seq = s
		headSeq, headHash = e.StreamSeq, e.Hash
		out = append(out, e)
	}
	return out
}

func headOf(es []*audit.Entry) *audit.Head {
	l := es[len(es)-1]
	return &audit.Head{Stream: l.Stream, Seq: l.StreamSeq, Hash: l.Hash, EntryID: l.Seq}
}

func run(stream string, es []*audit.Entry, h *audit.Head) (*audit.StreamVerifier, *audit.Finding) {
	v := audit.NewStreamVerifier(stream)
	for _, e := range es {
		v.Add(e)
	}
	return v, v.Finish(h)
}

func TestStreamVerifier(t *testing.T) {
	const st = "problem/1"
	tests := []struct {
		name   string
		tamper func(es []*audit.Entry) ([]*audit.Entry, *audit.Head)
		want   int64 // 0: no finding
	}{
		{"intact", func(es []*audit.Entry) ([]*audit.Entry, *audit.Head) { return es, headOf(es) }, 0},
		{"altered field", func(es []*audit.Entry) ([]*audit.Entry, *audit.Head) {
			es[2].Reason = "forged"
			return es, headOf(es)
		}, 30},
		{"altered hash", func(es []*audit.Entry) ([]*audit.Entry, *audit.Head) {
			es[2].Hash = strings.Repeat("f", 64)
			return es, headOf(es)
		}, 30},
		{"recomputed hash breaks the next link", func(es []*audit.Entry) ([]*audit.Entry, *audit.Head) {
			es[2].Reason = "forged"
			es[2].Hash = es[2].ComputeHash()
			return es, headOf(es)
		}, 40},
		{"middle entry deleted", func(es []*audit.Entry) ([]*audit.Entry, *audit.Head) {
			h := headOf(es)
			return append(es[:2:2], es[3:]...), h
		}, 40},
		{"first entry deleted", func(es []*audit.Entry) ([]*audit.Entry, *audit.Head) {
			h := headOf(es)
			return es[1:], h
		}, 20},
		{"newest entry deleted", func(es []*audit.Entry) ([]*audit.Entry, *audit.Head) {
			h := headOf(es)
			return es[:4], h
		}, 50},
		{"entry appended beyond the head", func(es []*audit.Entry) ([]*audit.Entry, *audit.Head) {
			h := headOf(es[:4])
			return es, h
		}, 50},
		{"head hash differs", func(es []*audit.Entry) ([]*audit.Entry, *audit.Head) {
			h := headOf(es)
			h.Hash = strings.Repeat("e", 64)
			return es, h
		}, 50},
		{"entry of another stream", func(es []*audit.Entry) ([]*audit.Entry, *audit.Head) {
			es[1].Stream = "problem/2"
			return es, headOf(es)
		}, 20},
		{"global sequences reordered", func(es []*audit.Entry) ([]*audit.Entry, *audit.Head) {
			es[1].Seq, es[2].Seq = es[2].Seq, es[1].Seq
			return es, headOf(es)
		}, 20},
		{"stream sequences swapped", func(es []*audit.Entry) ([]*audit.Entry, *audit.Head) {
			// rows 20 and 30 exchange their stream_seq, so the stream reads 10, 30, 20, 40, 50
			es[1].StreamSeq, es[2].StreamSeq = es[2].StreamSeq, es[1].StreamSeq
			es[1], es[2] = es[2], es[1]
			return es, headOf(es)
		}, 20},
		// Commit order may differ from start times under concurrency; a consistently
		// hashed time is not a break (an edited time is: see "altered").
		{"time out of order but consistently hashed", func(es []*audit.Entry) ([]*audit.Entry, *audit.Head) {
			es[3].At = es[1].At
			es[3].Hash = es[3].ComputeHash()
			es[4].PrevHash = es[3].Hash
			es[4].Hash = es[4].ComputeHash()
			return es, headOf(es)
		}, 0},
		{"no head: one forged entry", func(es []*audit.Entry) ([]*audit.Entry, *audit.Head) {
			return es[:1], nil
		}, 10},
		{"no head: the first forged entry is named", func(es []*audit.Entry) ([]*audit.Entry, *audit.Head) {
			return es, nil
		}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, h := tt.tamper(chain(st, 10, 20, 30, 40, 50))
			v, f := run(st, es, h)
			if v.Checked() != len(es) {
				t.Errorf("checked %d of %d", v.Checked(), len(es))
			}
			switch {
			case tt.want == 0 && f != nil:
				t.Fatalf("finding on an intact stream: %v", f)
			case tt.want != 0 && f == nil:
				t.Fatalf("no finding, want entry %d", tt.want)
			case tt.want != 0 && f.Seq != tt.want:
				t.Fatalf("finding names entry %d (%s), want %d", f.Seq, f.Reason, tt.want)
			case f != nil && (f.Stream != st || f.Reason == "" || !strings.Contains(f.String(), f.Reason)):
				t.Fatalf("finding %+v lacks stream or reason", f)
			}
		})
	}
}

func TestEarliest(t *testing.T) {
	a := &audit.Finding{Seq: 5}
	b := &audit.Finding{Seq: 3}
	if audit.Earliest(nil, nil) != nil || audit.Earliest(a, nil) != a || audit.Earliest(nil, b) != b {
		t.Fatal("nil handling")
	}
	if audit.Earliest(a, b) != b || audit.Earliest(b, a) != b {
		t.Fatal("not the lowest sequence")
	}
}

func newKeys(t *testing.T, name string) *audit.Keys {
	t.Helper()
	k, err := audit.LoadOrCreateKeys(filepath.Join(t.TempDir(), "k", "audit.key"), name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func heads() []audit.Head {
	return []audit.Head{
		{Stream: "system", Seq: 9, Hash: strings.Repeat("1", 64), EntryID: 20},
		{Stream: "problem/1", Seq: 3, Hash: strings.Repeat("2", 64), EntryID: 18},
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	k := newKeys(t, "rectify-test")
	at := time.Date(2026, 3, 2, 1, 2, 3, 456, time.UTC)
	cp, err := k.NewCheckpoint(1, at, audit.GenesisHash(), heads())
	if err != nil {
		t.Fatal(err)
	}
	if !cp.At.Equal(at.Truncate(time.Second)) || cp.Number != 1 || cp.PrevRoot != audit.GenesisHash() {
		t.Fatalf("checkpoint %+v", cp)
	}
	if cp.Root != audit.Root(audit.GenesisHash(), heads()) {
		t.Fatal("root is not Root(prev, heads)")
	}
	rev := heads()
	rev[0], rev[1] = rev[1], rev[0]
	if audit.Root(audit.GenesisHash(), rev) != cp.Root {
		t.Fatal("root depends on the order of heads")
	}
	if audit.Root(strings.Repeat("9", 64), heads()) == cp.Root {
		t.Fatal("root ignores the previous root")
	}
	if err := k.VerifyCheckpoint(cp); err != nil {
		t.Fatalf("fresh checkpoint rejected: %v", err)
	}
	// A second checkpoint chains on the first.
	cp2, err := k.NewCheckpoint(2, at.Add(time.Hour), cp.Root, heads()[:1])
	if err != nil {
		t.Fatal(err)
	}
	if err := k.VerifyCheckpoint(cp2); err != nil {
		t.Fatalf("second checkpoint rejected: %v", err)
	}
	if !strings.HasPrefix(cp.Note, "rectify-audit-checkpoint/v1\n1\n") {
		t.Fatalf("note text %q", cp.Note)
	}
	if k.VerifierKey() == "" || !strings.HasPrefix(k.VerifierKey(), "rectify-test+") {
		t.Fatalf("verifier key %q", k.VerifierKey())
	}
}

func TestCheckpointTamperingRejected(t *testing.T) {
	k := newKeys(t, "rectify-test")
	other := newKeys(t, "rectify-test") // same name, different key
	at := time.Date(2026, 3, 2, 1, 2, 3, 0, time.UTC)
	fresh := func() *audit.Checkpoint {
		cp, err := k.NewCheckpoint(3, at, strings.Repeat("7", 64), heads())
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	forged, err := other.NewCheckpoint(3, at, strings.Repeat("7", 64), heads())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		tamper func(cp *audit.Checkpoint)
	}{
		{"note signed by another key", func(cp *audit.Checkpoint) { cp.Note = forged.Note }},
		{"note text altered", func(cp *audit.Checkpoint) {
			cp.Note = strings.Replace(cp.Note, "\n3\n", "\n4\n", 1)
		}},
		{"signature altered", func(cp *audit.Checkpoint) {
			i := strings.LastIndex(cp.Note, " ")
			sig := []byte(cp.Note[i+1:])
			if sig[5] == 'A' {
				sig[5] = 'B'
			} else {
				sig[5] = 'A'
			}
			cp.Note = cp.Note[:i+1] + string(sig)
		}},
		{"note emptied", func(cp *audit.Checkpoint) { cp.Note = "" }},
		{"number altered", func(cp *audit.Checkpoint) { cp.Number = 4 }},
		{"previous root altered", func(cp *audit.Checkpoint) { cp.PrevRoot = strings.Repeat("8", 64) }},
		{"root altered", func(cp *audit.Checkpoint) { cp.Root = audit.Root(cp.PrevRoot, cp.Heads[:1]) }},
		{"head hash altered", func(cp *audit.Checkpoint) { cp.Heads[0].Hash = strings.Repeat("3", 64) }},
		{"head entry altered", func(cp *audit.Checkpoint) { cp.Heads[1].EntryID++ }},
		{"head seq altered", func(cp *audit.Checkpoint) { cp.Heads[1].Seq-- }},
		{"head removed", func(cp *audit.Checkpoint) { cp.Heads = cp.Heads[:1] }},
		{"head added", func(cp *audit.Checkpoint) {
			cp.Heads = append(cp.Heads, audit.Head{Stream: "problem/9", Seq: 1, Hash: strings.Repeat("4", 64), EntryID: 30})
		}},
		{"time altered", func(cp *audit.Checkpoint) { cp.At = cp.At.Add(-time.Hour) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp := fresh()
			if err := k.VerifyCheckpoint(cp); err != nil {
				t.Fatalf("untampered: %v", err)
			}
			tt.tamper(cp)
			if err := k.VerifyCheckpoint(cp); err == nil {
				t.Fatal("tampered checkpoint accepted")
			}
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		if err := other.VerifyCheckpoint(fresh()); err == nil {
			t.Fatal("checkpoint accepted by another key")
		}
	})
}

func TestLoadOrCreateKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "audit.key")
	k1, err := audit.LoadOrCreateKeys(path, "rectify-a")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if lines := strings.Fields(string(data)); len(lines) != 2 || lines[1] != k1.VerifierKey() {
		t.Fatalf("key file holds %d lines", len(lines))
	}
	k2, err := audit.LoadOrCreateKeys(path, "ignored-when-the-file-exists")
	if err != nil {
		t.Fatal(err)
	}
	if k2.VerifierKey() != k1.VerifierKey() {
		t.Fatal("re-reading the key file gave another key")
	}
	after, _ := os.ReadFile(path)
	if string(after) != string(data) {
		t.Fatal("re-reading rewrote the key file")
	}
	cp, err := k1.NewCheckpoint(1, at0, audit.GenesisHash(), heads())
	if err != nil {
		t.Fatal(err)
	}
	if err := k2.VerifyCheckpoint(cp); err != nil {
		t.Fatalf("re-read key rejects its own checkpoint: %v", err)
	}
	other, err := audit.LoadOrCreateKeys(filepath.Join(t.TempDir(), "audit.key"), "rectify-a")
	if err != nil {
		t.Fatal(err)
	}
	if other.VerifierKey() == k1.VerifierKey() {
		t.Fatal("two new key files share a key")
	}
}

func TestParseKeysRejectsBadFiles(t *testing.T) {
	pa := filepath.Join(t.TempDir(), "a.key")
	pb := filepath.Join(t.TempDir(), "b.key")
	a, err := audit.LoadOrCreateKeys(pa, "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.LoadOrCreateKeys(pb, "b"); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"", "one-line-only", "x y z", "not-a-signer " + a.VerifierKey()} {
		if _, err := audit.ParseKeys(text); err == nil {
			t.Errorf("ParseKeys(%q) accepted", text)
		}
	}
	da, _ := os.ReadFile(pa)
	db, _ := os.ReadFile(pb)
	mixed := strings.Fields(string(da))[0] + "\n" + strings.Fields(string(db))[1] + "\n"
	if _, err := audit.ParseKeys(mixed); err == nil {
		t.Fatal("signer and verifier of different keys accepted together")
	}
	k, err := audit.ParseKeys(string(da))
	if err != nil {
		t.Fatalf("own key file rejected: %v", err)
	}
	if k.VerifierKey() != a.VerifierKey() {
		t.Fatal("parsed key differs from the loaded one")
	}
}
