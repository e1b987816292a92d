package app_test

import (
	"bytes"
	"context"
	"github.com/rectify-team/rectify/internal/app/wire"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/audit"
)

// The attacks of someone who can write to the database but not to the data
// directory: each one consistent enough to pass every check the database
// alone allows (chains recomputed, heads moved, checkpoint rows deleted), and
// each one found by comparing the database with the checkpoint log.

// rewrite alters es[from] with alter and recomputes the hashes of it and every
// later entry of the stream, and the stream's head, as an attacker who knows
// the scheme would.
func rewrite(t *testing.T, e *apptest.Env, es []*audit.Entry, from int, alter func(*audit.Entry)) {
	t.Helper()
	alter(es[from])
	for i := from; i < len(es); i++ {
		prev := audit.GenesisHash()
		if i > 0 {
			prev = es[i-1].Hash
		}
		es[i].PrevHash = prev
		es[i].Hash = es[i].ComputeHash()
		execSQL(t, e, "UPDATE audit_entries SET reason = ?, prev_hash = ?, hash = ? WHERE id = ?",
			es[i].Reason, es[i].PrevHash, es[i].Hash, es[i].Seq)
	}
	last := es[len(es)-1]
	execSQL(t, e, "UPDATE audit_streams SET head_hash = ? WHERE stream = ?", last.Hash, last.Stream)
}

// deleteCheckpointRows removes every checkpoint from the database.
func deleteCheckpointRows(t *testing.T, e *apptest.Env) {
	t.Helper()
	execSQL(t, e, "DELETE FROM audit_checkpoint_heads")
	execSQL(t, e, "DELETE FROM audit_checkpoints")
}

// setHead points a stream's head row at en.
func setHead(t *testing.T, e *apptest.Env, en *audit.Entry, pending bool) {
	t.Helper()
	execSQL(t, e, "UPDATE audit_streams SET seq = ?, head_hash = ?, last_entry_id = ?, pending = ? WHERE stream = ?",
		en.StreamSeq, en.Hash, en.Seq, pending, en.Stream)
}

func hasFinding(res *app.VerifyResult, seq int64, stream string) bool {
	for _, f := range res.Findings {
		if f.Seq == seq && (stream == "" || f.Stream == stream) {
			return true
		}
	}
	return false
}

func TestDatabaseWriterCannotRewriteTheTrail(t *testing.T) {
	t.Parallel()
	type want struct {
		seq    int64
		stream string // "" when the finding is about a checkpoint
	}
	tests := []struct {
		name   string
		attack func(t *testing.T, e *apptest.Env, h *history) []want // what must be found; the lowest is first_bad
	}{
		{"a stream's newest signed entry altered, the chain recomputed, every checkpoint row deleted",
			func(t *testing.T, e *apptest.Env, h *history) []want {
				rewrite(t, e, h.ps, 6, func(en *audit.Entry) { en.Reason = "从未复查" })
				deleteCheckpointRows(t, e)
				// Checkpoint 1 still vouches for p's first six entries, checkpoint 3 no longer for the 7th.
				return []want{{h.ps[6].Seq, h.ps[6].Stream}, {h.firstAfter(t, e, 0), ""}}
			}},
		{"an old entry altered and the chain recomputed, checkpoint rows kept",
			func(t *testing.T, e *apptest.Env, h *history) []want {
				rewrite(t, e, h.qs, 3, func(en *audit.Entry) { en.Reason = "改写" })
				// q was signed at its 3rd entry (checkpoint 1) and its 5th (checkpoint 2).
				return []want{{h.qs[3].Seq, h.qs[3].Stream}}
			}},
		{"a whole stream recomputed from its first entry, checkpoint rows deleted",
			func(t *testing.T, e *apptest.Env, h *history) []want {
				rewrite(t, e, h.qs, 0, func(en *audit.Entry) { en.Reason = "改写" })
				deleteCheckpointRows(t, e)
				return []want{{h.qs[0].Seq, h.qs[0].Stream}, {h.firstAfter(t, e, 0), ""}}
			}},
		{"an entry appended out of band with a correct hash, its head moved and marked pending",
			func(t *testing.T, e *apptest.Env, h *history) []want {
				last := h.qs[len(h.qs)-1]
				f := forged(last.Stream, last.At.Add(time.Second), "verify_pass")
				f.Chain(last.StreamSeq, last.Hash)
				f.Seq = insertEntry(t, e, f)
				setHead(t, e, f, true)
				return []want{{f.Seq, f.Stream}}
			}},
		{"an entry appended out of band with a correct hash, its head moved and marked signed",
			func(t *testing.T, e *apptest.Env, h *history) []want {
				last := h.ps[len(h.ps)-1]
				f := forged(last.Stream, e.Clock.Now(), "close")
				f.Chain(last.StreamSeq, last.Hash)
				f.Seq = insertEntry(t, e, f)
				setHead(t, e, f, false)
				return []want{{f.Seq, f.Stream}}
			}},
		{"a stream head moved back over its deleted newest entry, checkpoint rows deleted",
			func(t *testing.T, e *apptest.Env, h *history) []want {
				execSQL(t, e, "DELETE FROM audit_entries WHERE id = ?", h.ps[6].Seq)
				setHead(t, e, h.ps[5], false)
				deleteCheckpointRows(t, e)
				return []want{{h.ps[6].Seq, h.ps[6].Stream}, {h.firstAfter(t, e, 0), ""}}
			}},
		{"a wholly new stream inside the signed trail",
			func(t *testing.T, e *apptest.Env, h *history) []want {
				f1 := forged("problem/424242", h.ps[0].At, "register")
				f1.Chain(0, "")
				f1.Seq = insertEntry(t, e, f1)
				f2 := forged("problem/424242", h.ps[0].At.Add(time.Minute), "verify_pass")
				f2.Chain(f1.StreamSeq, f1.Hash)
				f2.Seq = insertEntry(t, e, f2)
				execSQL(t, e, "INSERT INTO audit_streams (stream, seq, head_hash, last_entry_id, pending) VALUES (?, ?, ?, ?, ?)",
					f2.Stream, f2.StreamSeq, f2.Hash, f2.Seq, false)
				return []want{{f1.Seq, f1.Stream}}
			}},
		{"newest entries deleted and the head moved back, checkpoint rows deleted",
			func(t *testing.T, e *apptest.Env, h *history) []want {
				execSQL(t, e, "DELETE FROM audit_entries WHERE id IN (?, ?)", h.qs[3].Seq, h.qs[4].Seq)
				setHead(t, e, h.qs[2], false)
				deleteCheckpointRows(t, e)
				// Checkpoint 2 signed q up to its 5th entry.
				return []want{{h.qs[4].Seq, h.qs[4].Stream}, {h.firstAfter(t, e, 0), ""}}
			}},
		{"a whole stream deleted with its head and every checkpoint row",
			func(t *testing.T, e *apptest.Env, h *history) []want {
				execSQL(t, e, "DELETE FROM audit_entries WHERE stream = ?", h.qs[0].Stream)
				execSQL(t, e, "DELETE FROM audit_streams WHERE stream = ?", h.qs[0].Stream)
				deleteCheckpointRows(t, e)
				// The first entry a checkpoint signed of it: its 3rd, by checkpoint 1.
				return []want{{h.qs[2].Seq, h.qs[2].Stream}, {h.firstAfter(t, e, 0), ""}}
			}},
		{"the newest checkpoint row deleted",
			func(t *testing.T, e *apptest.Env, h *history) []want {
				execSQL(t, e, "DELETE FROM audit_checkpoint_heads WHERE checkpoint_id = 3")
				execSQL(t, e, "DELETE FROM audit_checkpoints WHERE id = 3")
				return []want{{h.firstAfter(t, e, 2), ""}}
			}},
		{"a checkpoint row's committed head rewritten",
			func(t *testing.T, e *apptest.Env, h *history) []want {
				execSQL(t, e, "UPDATE audit_checkpoint_heads SET hash = ? WHERE checkpoint_id = 2 AND stream = ?",
					strings.Repeat("5", 64), audit.SystemStream)
				return []want{{h.firstAfter(t, e, 1), ""}}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := apptest.New(t)
			h := buildHistory(t, e)
			wants := tt.attack(t, e, h)
			res := verifyAudit(t, e)
			if res.OK || res.Reason == "" {
				t.Fatalf("the attack verifies OK (checked %d)", res.Checked)
			}
			first := wants[0].seq
			for _, w := range wants {
				first = min(first, w.seq)
				if !hasFinding(res, w.seq, w.stream) {
					t.Errorf("no finding names entry %d (%s): %+v", w.seq, w.stream, res.Findings)
				}
			}
			if res.FirstBad == nil || *res.FirstBad != first {
				t.Errorf("first bad entry %v, want %d (%s)", deref(res.FirstBad), first, res.Reason)
			}
			// Signing what the database now holds does not launder it.
			if _, err := e.Svc.Trail.Checkpoint(t.Context()); err != nil {
				t.Logf("checkpoint after the attack: %v", err)
			}
			if again := verifyAudit(t, e); again.OK || again.FirstBad == nil || *again.FirstBad != first {
				t.Errorf("after another checkpoint: ok=%v first bad %v, want %d (%s)", again.OK, deref(again.FirstBad), first, again.Reason)
			}
		})
	}
}

// What the checkpoints cannot catch, stated by a test as in docs/audit.md: a
// database writer who appends entries dated now, in the window since the last
// checkpoint, and marks their heads pending, writes what the application
// could have written; the next checkpoint signs it.
func TestAnEntryAppendedInTheWindowIsNotCaught(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	h := buildHistory(t, e)
	last := h.qs[len(h.qs)-1]
	f := forged(last.Stream, e.Clock.Now(), "urge")
	f.Chain(last.StreamSeq, last.Hash)
	f.Seq = insertEntry(t, e, f)
	setHead(t, e, f, true)
	mustVerifyOK(t, e)
	if cp, err := e.Svc.Trail.Checkpoint(t.Context()); err != nil || cp == nil {
		t.Fatalf("checkpoint: %v %v", cp, err)
	}
	mustVerifyOK(t, e)
}

// withInterval returns a service on e's database and checkpoint log that
// expects a checkpoint every minute, with a minute's margin.
func withInterval(e *apptest.Env) *wire.Services {
	cfg := e.Svc.Core.Config()
	cfg.CheckpointEvery, cfg.AuditMargin = time.Minute, time.Minute
	return wire.New(e.DB, e.Keys, cfg, wire.WithClock(e.Clock.Now), wire.WithCheckpointLog(e.Log))
}

func verifyWith(t *testing.T, svc *wire.Services, e *apptest.Env) *app.VerifyResult {
	t.Helper()
	res, err := svc.Trail.VerifyAudit(t.Context(), e.Caller("leader"))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestATrailLeftUnsignedIsFound(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	h := buildHistory(t, e)
	svc := withInterval(e)
	e.Login(t, "owner1")
	login := lastEntry(t, e, audit.SystemStream)
	e.Clock.Advance(time.Minute + 59*time.Second)
	if res := verifyWith(t, svc, e); !res.OK {
		t.Fatalf("within the interval and margin: %s", res.Reason)
	}
	e.Clock.Advance(2 * time.Second)
	res := verifyWith(t, svc, e)
	if res.OK || res.FirstBad == nil || *res.FirstBad != login.Seq {
		t.Fatalf("unsigned for longer than interval and margin: ok=%v first bad %v, want %d (%s)",
			res.OK, deref(res.FirstBad), login.Seq, res.Reason)
	}
	if cp, err := svc.Trail.Checkpoint(t.Context()); err != nil || cp == nil {
		t.Fatalf("checkpoint: %v %v", cp, err)
	}
	if res := verifyWith(t, svc, e); !res.OK {
		t.Fatalf("signed again: %s", res.Reason)
	}
	_ = h
}

func TestANewTrailWithoutCheckpointsIsFoundOnceStale(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	svc := withInterval(e)
	first := streamEntries(t, e, audit.SystemStream)[0]
	if res := verifyWith(t, svc, e); !res.OK {
		t.Fatalf("a fresh trail: %s", res.Reason)
	}
	e.Clock.Advance(3 * time.Minute)
	if res := verifyWith(t, svc, e); res.OK || res.FirstBad == nil || *res.FirstBad != first.Seq {
		t.Fatalf("no checkpoint ever: ok=%v first bad %v, want %d", res.OK, deref(res.FirstBad), first.Seq)
	}
}

func TestTheCheckpointLogIsKeptAndChecked(t *testing.T) {
	t.Parallel()
	readLog := func(t *testing.T, e *apptest.Env) [][]byte {
		t.Helper()
		data, err := os.ReadFile(e.Log.Path())
		if err != nil {
			t.Fatal(err)
		}
		return bytes.SplitAfter(data, []byte("\n"))[:bytes.Count(data, []byte("\n"))]
	}
	writeLog := func(t *testing.T, e *apptest.Env, lines [][]byte) {
		t.Helper()
		if err := os.WriteFile(e.Log.Path(), bytes.Join(lines, nil), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		stale  bool // found only once the interval and margin have passed
		tamper func(t *testing.T, e *apptest.Env, h *history) int64
	}{
		{"a line's signed note edited", false, func(t *testing.T, e *apptest.Env, h *history) int64 {
			lines := readLog(t, e)
			lines[1] = bytes.Replace(lines[1], []byte("rectify-audit-checkpoint/v2\\n2\\n"), []byte("rectify-audit-checkpoint/v2\\n7\\n"), 1)
			writeLog(t, e, lines)
			return h.firstAfter(t, e, 1)
		}},
		{"a line's heads edited", false, func(t *testing.T, e *apptest.Env, h *history) int64 {
			lines := readLog(t, e)
			last := h.qs[len(h.qs)-1]
			lines[1] = bytes.Replace(lines[1], []byte(last.Hash), []byte(strings.Repeat("6", 64)), 1)
			writeLog(t, e, lines)
			return h.firstAfter(t, e, 1)
		}},
		{"a line removed", false, func(t *testing.T, e *apptest.Env, h *history) int64 {
			lines := readLog(t, e)
			writeLog(t, e, append(lines[:1:1], lines[2:]...))
			return h.firstAfter(t, e, 1)
		}},
		{"cut in the middle of its last line", false, func(t *testing.T, e *apptest.Env, h *history) int64 {
			lines := readLog(t, e)
			lines[2] = lines[2][:len(lines[2])/2]
			writeLog(t, e, lines)
			return h.firstAfter(t, e, 2)
		}},
		{"its last line truncated away", true, func(t *testing.T, e *apptest.Env, h *history) int64 {
			writeLog(t, e, readLog(t, e)[:2])
			return h.firstAfter(t, e, 2)
		}},
		{"deleted", false, func(t *testing.T, e *apptest.Env, h *history) int64 {
			if err := os.Remove(e.Log.Path()); err != nil {
				t.Fatal(err)
			}
			return h.firstAfter(t, e, 0)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := apptest.New(t)
			h := buildHistory(t, e)
			if n := len(readLog(t, e)); n != 3 {
				t.Fatalf("the log holds %d lines, want 3", n)
			}
			svc := withInterval(e)
			want := tt.tamper(t, e, h)
			res := verifyWith(t, svc, e)
			if tt.stale {
				if !res.OK {
					t.Fatalf("found before the interval and margin passed: %s", res.Reason)
				}
				e.Clock.Advance(2*time.Minute + time.Second)
				res = verifyWith(t, svc, e)
			}
			if res.OK || res.FirstBad == nil || *res.FirstBad != want {
				t.Fatalf("ok=%v first bad %v, want %d (%s)", res.OK, deref(res.FirstBad), want, res.Reason)
			}
		})
	}
}

// A log that lost checkpoints the database still holds gets them back at the
// next checkpoint, each checked before it is copied.
func TestTheCheckpointLogCatchesUp(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	buildHistory(t, e)
	if err := os.Remove(e.Log.Path()); err != nil {
		t.Fatal(err)
	}
	e.Login(t, "owner1")
	cp, err := e.Svc.Trail.Checkpoint(t.Context())
	if err != nil || cp == nil || cp.Number != 4 {
		t.Fatalf("checkpoint: %+v %v", cp, err)
	}
	logged, fault, err := e.Log.Read()
	if err != nil || fault != nil || len(logged) != 4 {
		t.Fatalf("log: %d checkpoints, fault %+v, %v", len(logged), fault, err)
	}
	if res := mustVerifyOK(t, e); res.Logged != 4 || res.Checkpoints != 4 {
		t.Fatalf("verified %d checkpoints, %d of them logged", res.Checkpoints, res.Logged)
	}
	// A checkpoint row forged with another key is not copied.
	other, err := audit.LoadOrCreateKeys(t.TempDir()+"/other.key", "rectify-test")
	if err != nil {
		t.Fatal(err)
	}
	e.Login(t, "owner2")
	heads, err := e.DB.Read().Audit.PendingHeads(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	forgedCp, err := other.NewCheckpoint(5, e.Clock.Now(), cp.Root, heads)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.DB.Tx(t.Context(), func(ctx context.Context, r app.Repos) error { return r.Audit.SaveCheckpoint(t.Context(), forgedCp) }); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Trail.SyncCheckpointLog(t.Context()); err == nil {
		t.Fatal("a forged checkpoint row was copied to the log")
	}
	if logged, _, _ := e.Log.Read(); len(logged) != 4 {
		t.Fatalf("the log holds %d checkpoints, want 4", len(logged))
	}
}

// Each checkpoint's note signs the totals of the whole trail, so that the note
// alone says how much the trail held; checkpoint rows tampered with before a
// checkpoint is signed make it sign totals its predecessors do not add up to.
func TestCheckpointsSignTheTrailsTotals(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	h := buildHistory(t, e)
	logged, fault, err := e.Log.Read()
	if err != nil || fault != nil || len(logged) != 3 {
		t.Fatalf("log: %d, %+v, %v", len(logged), fault, err)
	}
	last := logged[2].Totals
	entries := int64(count(t, e, "SELECT COUNT(*) FROM audit_entries"))
	if last == nil || *last != (audit.Totals{Entries: entries, Streams: 3, MaxEntryID: h.cpLast[2]}) {
		t.Fatalf("totals %+v, want %d entries in 3 streams up to %d", last, entries, h.cpLast[2])
	}
	// q's signed heads are deleted from the rows the next checkpoint adds up from.
	execSQL(t, e, "DELETE FROM audit_checkpoint_heads WHERE stream = ?", h.qs[0].Stream)
	if _, err := e.Svc.Lifecycle.Urge(t.Context(), e.Caller("verifier"), h.q.ID, 0, "再催"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Trail.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	res := verifyAudit(t, e)
	var totals bool
	for _, f := range res.Findings {
		totals = totals || (f.Seq == h.cpLast[2]+1 && strings.Contains(f.Reason, "signs"))
	}
	if res.OK || !totals {
		t.Fatalf("no finding about checkpoint 4's totals: %+v", res.Findings)
	}
}

// Checkpoints of the first format (no totals), as an older version signed
// them, are followed by ones that add up from their signed heads.
func TestCheckpointsAfterTheFirstFormatAddUp(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	p := e.Drive(t, "assigned")
	var old *audit.Checkpoint
	if err := e.DB.Tx(t.Context(), func(ctx context.Context, r app.Repos) error {
		heads, err := r.Audit.PendingHeads(t.Context(), 100)
		if err != nil {
			return err
		}
		if old, err = e.Keys.NewCheckpoint(1, e.Clock.Now(), audit.GenesisHash(), heads); err != nil {
			return err
		}
		return r.Audit.SaveCheckpoint(t.Context(), old)
	}); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Minute)
	if _, err := e.Svc.Lifecycle.Urge(t.Context(), e.Caller("verifier"), p.ID, 0, "请加快"); err != nil {
		t.Fatal(err)
	}
	cp, err := e.Svc.Trail.Checkpoint(t.Context())
	if err != nil || cp == nil || cp.Number != 2 || cp.Totals == nil {
		t.Fatalf("checkpoint: %+v %v", cp, err)
	}
	entries := int64(count(t, e, "SELECT COUNT(*) FROM audit_entries"))
	if cp.Totals.Entries != entries || cp.Totals.Streams != int64(len(old.Heads)) {
		t.Fatalf("totals %+v, want %d entries in %d streams", cp.Totals, entries, len(old.Heads))
	}
	if res := mustVerifyOK(t, e); res.Logged != 2 {
		t.Fatalf("logged %d checkpoints", res.Logged)
	}
}
