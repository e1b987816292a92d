package app_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// history is a small trail with three signed checkpoints:
//
//	p: register assign accept submit verify_pass comment | cp1 | ... | reopen | cp3
//	q: register assign accept | cp1 | progress urge login(system) | cp2
type history struct {
	p, q     *domain.Problem
	ps, qs   []*audit.Entry // the streams' entries after the last checkpoint
	sys      []*audit.Entry
	cpNumber []int64
	cpLast   []int64 // the highest entry sequence at each checkpoint
}

// firstAfter is the first entry written after checkpoint k (0: none), which
// checkpoint k+1 is the first to commit to.
func (h *history) firstAfter(t *testing.T, e *apptest.Env, k int) int64 {
	t.Helper()
	var last int64
	if k > 0 {
		last = h.cpLast[k-1]
	}
	return int64(count(t, e, "SELECT MIN(id) FROM audit_entries WHERE id > "+strconv.FormatInt(last, 10)))
}

func buildHistory(t *testing.T, e *apptest.Env) *history {
	t.Helper()
	ctx := t.Context()
	h := &history{}
	h.p = e.Drive(t, domain.StatusClosed)
	e.Clock.Advance(time.Minute)
	if _, err := e.Svc.Lifecycle.Comment(ctx, e.Caller("leader"), h.p.ID, "领导批示"); err != nil {
		t.Fatal(err)
	}
	h.q = e.Drive(t, domain.StatusRectifying)
	checkpoint := func() {
		t.Helper()
		cp, err := e.Svc.Trail.Checkpoint(ctx)
		if err != nil || cp == nil {
			t.Fatalf("checkpoint: %v %v", cp, err)
		}
		h.cpNumber = append(h.cpNumber, cp.Number)
		h.cpLast = append(h.cpLast, int64(count(t, e, "SELECT MAX(id) FROM audit_entries")))
	}
	checkpoint()
	e.Clock.Advance(time.Hour)
	pct := 50
	if _, err := e.Svc.Lifecycle.Progress(ctx, e.Caller("owner1"), h.q.ID, 0, "进展过半", &pct); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Lifecycle.Urge(ctx, e.Caller("verifier"), h.q.ID, 0, "请加快"); err != nil {
		t.Fatal(err)
	}
	e.Login(t, "owner2")
	checkpoint()
	e.Clock.Advance(24 * time.Hour)
	if _, err := e.Svc.Lifecycle.Reopen(ctx, e.Caller("verifier"), h.p.ID, 0, "回头看", e.Svc.Core.Today().AddDays(10)); err != nil {
		t.Fatal(err)
	}
	checkpoint()
	h.ps = problemEntries(t, e, h.p.ID)
	h.qs = problemEntries(t, e, h.q.ID)
	h.sys = streamEntries(t, e, audit.SystemStream)
	if len(h.ps) != 7 || len(h.qs) != 5 || len(h.sys) < 10 {
		t.Fatalf("history has %d, %d and %d entries", len(h.ps), len(h.qs), len(h.sys))
	}
	if n, _ := e.Svc.Trail.Checkpoint(ctx); n != nil {
		t.Fatalf("a checkpoint with nothing pending: %+v", n)
	}
	res := mustVerifyOK(t, e)
	if res.Checkpoints != 3 || res.Checked != count(t, e, "SELECT COUNT(*) FROM audit_entries") {
		t.Fatalf("verified %d checkpoints and %d entries", res.Checkpoints, res.Checked)
	}
	return h
}

func insertEntry(t *testing.T, e *apptest.Env, en *audit.Entry) int64 {
	t.Helper()
	res, err := e.DB.SQL().ExecContext(t.Context(), "INSERT INTO audit_entries (stream, stream_seq, at, actor_id, actor_name, "+
		"actor_roles, ip, request_id, action, object_type, object_id, from_state, to_state, changes, outcome, reason, prev_hash, hash) "+
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		en.Stream, en.StreamSeq, en.At.UTC(), en.ActorID, en.ActorName, strings.Join(en.ActorRoles, ","), en.IP, en.RequestID,
		en.Action, en.ObjectType, en.ObjectID, en.FromState, en.ToState, en.Changes, en.Outcome, en.Reason, en.PrevHash, en.Hash)
	if err != nil {
		t.Fatal(err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// forged builds an entry as an attacker who knows the hashing scheme would.
func forged(stream string, at time.Time, action string) *audit.Entry {
	return &audit.Entry{Stream: stream, At: at, ActorID: 1, ActorName: "admin", ActorRoles: []string{"admin"},
		IP: "127.0.0.1", RequestID: "forged", Action: action, ObjectType: "problem", ObjectID: "1",
		FromState: "submitted", ToState: "closed", Changes: "{}", Outcome: audit.OutcomeOK}
}

func swapStreamSeq(t *testing.T, e *apptest.Env, a, b *audit.Entry) {
	t.Helper()
	execSQL(t, e, "UPDATE audit_entries SET stream_seq = ? WHERE id = ?", -1, a.Seq)
	execSQL(t, e, "UPDATE audit_entries SET stream_seq = ? WHERE id = ?", a.StreamSeq, b.Seq)
	execSQL(t, e, "UPDATE audit_entries SET stream_seq = ? WHERE id = ?", b.StreamSeq, a.Seq)
}

func swapIDs(t *testing.T, e *apptest.Env, a, b *audit.Entry) {
	t.Helper()
	execSQL(t, e, "UPDATE audit_entries SET id = ? WHERE id = ?", -1, a.Seq)
	execSQL(t, e, "UPDATE audit_entries SET id = ? WHERE id = ?", a.Seq, b.Seq)
	execSQL(t, e, "UPDATE audit_entries SET id = ? WHERE id = ?", b.Seq, -1)
}

func TestTamperedTrailNamesTheFirstBadEntry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tamper func(t *testing.T, e *apptest.Env, h *history) int64 // the first bad entry
	}{
		{"middle entry altered", func(t *testing.T, e *apptest.Env, h *history) int64 {
			execSQL(t, e, "UPDATE audit_entries SET reason = ? WHERE id = ?", "补写的理由", h.ps[2].Seq)
			return h.ps[2].Seq
		}},
		{"middle entry deleted", func(t *testing.T, e *apptest.Env, h *history) int64 {
			execSQL(t, e, "DELETE FROM audit_entries WHERE id = ?", h.ps[3].Seq)
			return h.ps[4].Seq
		}},
		{"first entry deleted", func(t *testing.T, e *apptest.Env, h *history) int64 {
			execSQL(t, e, "DELETE FROM audit_entries WHERE id = ?", h.qs[0].Seq)
			return h.qs[1].Seq
		}},
		{"newest entry deleted, head row left", func(t *testing.T, e *apptest.Env, h *history) int64 {
			execSQL(t, e, "DELETE FROM audit_entries WHERE id = ?", h.ps[6].Seq)
			return h.ps[6].Seq
		}},
		{"newest entry deleted and head row rewritten: the checkpoint catches it", func(t *testing.T, e *apptest.Env, h *history) int64 {
			last, prev := h.ps[6], h.ps[5]
			execSQL(t, e, "DELETE FROM audit_entries WHERE id = ?", last.Seq)
			execSQL(t, e, "UPDATE audit_streams SET seq = ?, head_hash = ?, last_entry_id = ? WHERE stream = ?",
				prev.StreamSeq, prev.Hash, prev.Seq, prev.Stream)
			return last.Seq
		}},
		{"two newest entries deleted and head row rewritten", func(t *testing.T, e *apptest.Env, h *history) int64 {
			// q's head at checkpoint 2 was its 5th entry; the 4th is committed to by nobody.
			execSQL(t, e, "DELETE FROM audit_entries WHERE id IN (?, ?)", h.qs[3].Seq, h.qs[4].Seq)
			execSQL(t, e, "UPDATE audit_streams SET seq = ?, head_hash = ?, last_entry_id = ? WHERE stream = ?",
				h.qs[2].StreamSeq, h.qs[2].Hash, h.qs[2].Seq, h.qs[2].Stream)
			return h.qs[4].Seq
		}},
		{"forged entry appended beyond the head", func(t *testing.T, e *apptest.Env, h *history) int64 {
			last := h.qs[len(h.qs)-1]
			f := forged(last.Stream, last.At, "verify_pass")
			f.Chain(last.StreamSeq, last.Hash)
			return insertEntry(t, e, f)
		}},
		{"forged stream without a head", func(t *testing.T, e *apptest.Env, h *history) int64 {
			f1 := forged("problem/424242", e.Clock.Now(), "register")
			f1.Chain(0, "")
			first := insertEntry(t, e, f1)
			f2 := forged("problem/424242", e.Clock.Now(), "verify_pass")
			f2.Chain(f1.StreamSeq, f1.Hash)
			insertEntry(t, e, f2)
			return first
		}},
		{"forged entry inserted in the middle", func(t *testing.T, e *apptest.Env, h *history) int64 {
			// Make room after the 3rd entry, newest first because of the unique index.
			for i := len(h.ps) - 1; i >= 3; i-- {
				execSQL(t, e, "UPDATE audit_entries SET stream_seq = ? WHERE id = ?", h.ps[i].StreamSeq+1, h.ps[i].Seq)
			}
			f := forged(h.ps[2].Stream, h.ps[2].At, "urge")
			f.Chain(h.ps[2].StreamSeq, h.ps[2].Hash)
			insertEntry(t, e, f)
			return h.ps[3].Seq // the first row changed: its stream_seq moved
		}},
		{"entries reordered by swapping ids", func(t *testing.T, e *apptest.Env, h *history) int64 {
			swapIDs(t, e, h.ps[2], h.ps[3])
			return h.ps[2].Seq
		}},
		{"entries reordered by swapping stream_seq", func(t *testing.T, e *apptest.Env, h *history) int64 {
			swapStreamSeq(t, e, h.ps[2], h.ps[3])
			return h.ps[2].Seq // both rows changed; the earlier in trail order is named
		}},
		{"head row deleted", func(t *testing.T, e *apptest.Env, h *history) int64 {
			execSQL(t, e, "DELETE FROM audit_streams WHERE stream = ?", h.qs[0].Stream)
			return h.qs[0].Seq // the whole stream is unanchored: its first entry is named
		}},
		{"head row points elsewhere", func(t *testing.T, e *apptest.Env, h *history) int64 {
			execSQL(t, e, "UPDATE audit_streams SET head_hash = ? WHERE stream = ?", strings.Repeat("0", 64), h.qs[0].Stream)
			return h.qs[len(h.qs)-1].Seq
		}},
		{"system stream entry altered", func(t *testing.T, e *apptest.Env, h *history) int64 {
			login := h.sys[len(h.sys)-1]
			execSQL(t, e, "UPDATE audit_entries SET ip = ? WHERE id = ?", "203.0.113.9", login.Seq)
			return login.Seq
		}},
		{"two streams altered: the earlier entry is named", func(t *testing.T, e *apptest.Env, h *history) int64 {
			execSQL(t, e, "UPDATE audit_entries SET outcome = ? WHERE id = ?", audit.OutcomeRefused, h.ps[4].Seq)
			execSQL(t, e, "UPDATE audit_entries SET actor_name = ? WHERE id = ?", "someone", h.sys[3].Seq)
			return min(h.ps[4].Seq, h.sys[3].Seq)
		}},
		{"entry moved to another stream", func(t *testing.T, e *apptest.Env, h *history) int64 {
			execSQL(t, e, "UPDATE audit_entries SET stream = ? WHERE id = ?", "problem/999999", h.ps[2].Seq)
			return h.ps[2].Seq
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := apptest.New(t)
			h := buildHistory(t, e)
			want := tt.tamper(t, e, h)
			res := verifyAudit(t, e)
			if res.OK {
				t.Fatalf("tampered trail verifies OK (checked %d)", res.Checked)
			}
			if res.FirstBad == nil || *res.FirstBad != want {
				t.Fatalf("first bad entry %v, want %d (reason %q)", deref(res.FirstBad), want, res.Reason)
			}
			if res.Reason == "" {
				t.Fatal("no reason given")
			}
		})
	}
}

// Every column of an entry is covered: altering any one of them in the middle
// of a stream is found, and restoring it makes the trail verify again.
func TestAlteringAnyColumnIsFound(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	h := buildHistory(t, e)
	target := h.ps[2]
	columns := []struct {
		column string
		value  any
	}{
		{"stream_seq", 1000},
		{"at", target.At.Add(time.Second)},
		{"actor_id", target.ActorID + 1},
		{"actor_name", "someone"},
		{"actor_roles", "admin"},
		{"ip", "203.0.113.9"},
		{"request_id", "other"},
		{"action", "urge"},
		{"object_type", "user"},
		{"object_id", "999"},
		{"from_state", "registered"},
		{"to_state", "closed"},
		{"changes", `{"note":"改过"}`},
		{"outcome", audit.OutcomeRefused},
		{"reason", "补写"},
		{"prev_hash", strings.Repeat("1", 64)},
		{"hash", strings.Repeat("2", 64)},
	}
	for _, c := range columns {
		var orig any
		if err := e.DB.SQL().QueryRowContext(t.Context(), "SELECT "+c.column+" FROM audit_entries WHERE id = ?", target.Seq).Scan(&orig); err != nil {
			t.Fatal(err)
		}
		execSQL(t, e, "UPDATE audit_entries SET "+c.column+" = ? WHERE id = ?", c.value, target.Seq)
		res := verifyAudit(t, e)
		if res.OK || res.FirstBad == nil || *res.FirstBad != target.Seq {
			t.Errorf("%s altered: ok=%v first_bad=%v, want %d (%s)", c.column, res.OK, deref(res.FirstBad), target.Seq, res.Reason)
		}
		execSQL(t, e, "UPDATE audit_entries SET "+c.column+" = ? WHERE id = ?", orig, target.Seq)
		if res := verifyAudit(t, e); !res.OK {
			t.Fatalf("%s restored: still bad: %v %s", c.column, deref(res.FirstBad), res.Reason)
		}
	}
}

func TestTamperedCheckpointsAreFound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tamper func(t *testing.T, e *apptest.Env, h *history)
		covers int // the checkpoint whose first entry is named
	}{
		{"note text altered", func(t *testing.T, e *apptest.Env, h *history) {
			var note string
			if err := e.DB.SQL().QueryRowContext(t.Context(), "SELECT note FROM audit_checkpoints WHERE id = 2").Scan(&note); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(note, "\n")
			lines[2] = "2030-01-01T00:00:00Z" // the signed time
			execSQL(t, e, "UPDATE audit_checkpoints SET note = ? WHERE id = 2", strings.Join(lines, "\n"))
		}, 2},
		{"note replaced by another checkpoint's note", func(t *testing.T, e *apptest.Env, h *history) {
			var note string
			if err := e.DB.SQL().QueryRowContext(t.Context(), "SELECT note FROM audit_checkpoints WHERE id = 1").Scan(&note); err != nil {
				t.Fatal(err)
			}
			execSQL(t, e, "UPDATE audit_checkpoints SET note = ? WHERE id = 2", note)
		}, 2},
		{"root altered", func(t *testing.T, e *apptest.Env, h *history) {
			execSQL(t, e, "UPDATE audit_checkpoints SET root = ? WHERE id = 1", strings.Repeat("3", 64))
		}, 1},
		{"previous root altered", func(t *testing.T, e *apptest.Env, h *history) {
			execSQL(t, e, "UPDATE audit_checkpoints SET prev_root = ? WHERE id = 3", strings.Repeat("4", 64))
		}, 3},
		{"time altered", func(t *testing.T, e *apptest.Env, h *history) {
			execSQL(t, e, "UPDATE audit_checkpoints SET at = ? WHERE id = 2", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
		}, 2},
		{"committed head's hash altered", func(t *testing.T, e *apptest.Env, h *history) {
			execSQL(t, e, "UPDATE audit_checkpoint_heads SET hash = ? WHERE checkpoint_id = 2 AND stream = ?",
				strings.Repeat("5", 64), audit.SystemStream)
		}, 2},
		{"committed head's entry altered", func(t *testing.T, e *apptest.Env, h *history) {
			execSQL(t, e, "UPDATE audit_checkpoint_heads SET entry_id = entry_id - 1, stream_seq = stream_seq - 1 "+
				"WHERE checkpoint_id = 1 AND stream = ?", audit.ProblemStream(h.p.ID))
		}, 1},
		{"committed head removed", func(t *testing.T, e *apptest.Env, h *history) {
			execSQL(t, e, "DELETE FROM audit_checkpoint_heads WHERE checkpoint_id = 2 AND stream = ?", audit.ProblemStream(h.q.ID))
		}, 2},
		{"latest-but-one checkpoint deleted", func(t *testing.T, e *apptest.Env, h *history) {
			execSQL(t, e, "DELETE FROM audit_checkpoint_heads WHERE checkpoint_id = 2")
			execSQL(t, e, "DELETE FROM audit_checkpoints WHERE id = 2")
		}, 2},
		{"first checkpoint deleted", func(t *testing.T, e *apptest.Env, h *history) {
			execSQL(t, e, "DELETE FROM audit_checkpoint_heads WHERE checkpoint_id = 1")
			execSQL(t, e, "DELETE FROM audit_checkpoints WHERE id = 1")
		}, 1},
		{"checkpoints renumbered after a deletion", func(t *testing.T, e *apptest.Env, h *history) {
			execSQL(t, e, "DELETE FROM audit_checkpoint_heads WHERE checkpoint_id = 2")
			execSQL(t, e, "DELETE FROM audit_checkpoints WHERE id = 2")
			execSQL(t, e, "UPDATE audit_checkpoint_heads SET checkpoint_id = 2 WHERE checkpoint_id = 3")
			execSQL(t, e, "UPDATE audit_checkpoints SET id = 2 WHERE id = 3")
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := apptest.New(t)
			h := buildHistory(t, e)
			tt.tamper(t, e, h)
			res := verifyAudit(t, e)
			if res.OK {
				t.Fatal("tampered checkpoints verify OK")
			}
			if res.Reason == "" {
				t.Fatal("no reason given")
			}
			// The entries are intact; the first one whose signed anchor was
			// tampered with is named.
			if want := h.firstAfter(t, e, tt.covers-1); res.FirstBad == nil || *res.FirstBad != want {
				t.Fatalf("first bad entry %v, want %d (%s)", deref(res.FirstBad), want, res.Reason)
			}
		})
	}
}

// A checkpoint signed with another key does not verify.
func TestCheckpointFromAnotherKeyIsFound(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	h := buildHistory(t, e)
	other, err := audit.LoadOrCreateKeys(t.TempDir()+"/other.key", "rectify-test")
	if err != nil {
		t.Fatal(err)
	}
	e.Login(t, "owner1")
	// An attacker with database access and their own key writes checkpoint 4.
	heads, err := e.DB.Read().Audit.Heads(t.Context(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := e.DB.Read().Audit.LatestCheckpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cp, err := other.NewCheckpoint(latest.Number+1, e.Clock.Now(), latest.Root, heads)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.DB.Tx(t.Context(), func(ctx context.Context, r app.Repos) error { return r.Audit.SaveCheckpoint(t.Context(), cp) }); err != nil {
		t.Fatal(err)
	}
	res := verifyAudit(t, e)
	// The entry it is the first to commit to is named: the login after checkpoint 3.
	if want := h.firstAfter(t, e, 3); res.OK || res.Reason == "" || res.FirstBad == nil || *res.FirstBad != want {
		t.Fatalf("forged checkpoint: ok=%v reason=%q first_bad=%v, want %d", res.OK, res.Reason, deref(res.FirstBad), want)
	}
}

func TestUntamperedTrailVerifiesAfterManyActionsAndCheckpoints(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	checkpoints := 0
	for round := range 4 {
		for _, s := range []domain.Status{domain.StatusRegistered, domain.StatusDismissed, domain.StatusAssigned,
			domain.StatusRectifying, domain.StatusSubmitted, domain.StatusClosed} {
			p := e.Drive(t, s)
			if _, err := e.Svc.Lifecycle.Comment(ctx, e.Caller("leader"), p.ID, "看过"); err != nil && s != domain.StatusDismissed {
				t.Fatal(err)
			}
			// A refused attempt is part of the trail too.
			if _, err := e.Svc.Lifecycle.Reopen(ctx, e.Caller("owner2"), p.ID, 0, "x", e.Svc.Core.Today().AddDays(5)); err == nil {
				t.Fatal("owner2 reopened")
			}
		}
		e.Login(t, "owner1")
		e.Clock.Advance(time.Hour)
		if round%2 == 0 {
			cp, err := e.Svc.Trail.Checkpoint(ctx)
			if err != nil || cp == nil {
				t.Fatalf("checkpoint: %v %v", cp, err)
			}
			checkpoints++
			if cp.Number != int64(checkpoints) {
				t.Fatalf("checkpoint number %d, want %d", cp.Number, checkpoints)
			}
		}
		res := mustVerifyOK(t, e)
		if res.Checked != count(t, e, "SELECT COUNT(*) FROM audit_entries") || res.Checkpoints != checkpoints {
			t.Fatalf("round %d: checked %d entries and %d checkpoints", round, res.Checked, res.Checkpoints)
		}
	}
	latest, err := e.Svc.Trail.LatestCheckpoint(ctx, e.Caller("leader"))
	if err != nil || latest == nil || latest.Number != int64(checkpoints) {
		t.Fatalf("latest checkpoint %+v %v", latest, err)
	}
	if e.Svc.Trail.AuditVerifierKey() != e.Keys.VerifierKey() {
		t.Fatal("the service publishes another verifier key")
	}
}
