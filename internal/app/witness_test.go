package app_test

import (
	"crypto/rand"
	"github.com/rectify-team/rectify/internal/app/wire"
	"net/http/httptest"
	"os"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/audit/witness"
)

// startWitness runs a witness for e's checkpoints on a loopback port and
// returns a client of it.
func startWitness(t *testing.T, e *apptest.Env) (*witness.Client, *witness.Server) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "witness-test")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := witness.NewServer(e.Keys, skey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ws)
	t.Cleanup(srv.Close)
	w, err := witness.NewClient(srv.URL, vkey)
	if err != nil {
		t.Fatal(err)
	}
	return w, ws
}

// withWitness returns a service on e's database and checkpoint log that sends
// its checkpoints to w.
func withWitness(e *apptest.Env, w *witness.Client) *wire.Services {
	return wire.New(e.DB, e.Keys, e.Svc.Core.Config(), wire.WithClock(e.Clock.Now), wire.WithCheckpointLog(e.Log), wire.WithWitness(w))
}

// resign is the attacker with the database, the data directory and the key:
// the trail is rewritten, every checkpoint row and the log removed, and new
// checkpoints signed over the rewritten trail, consistently.
func resign(t *testing.T, e *apptest.Env, svc *wire.Services, h *history, checkpoints int) {
	t.Helper()
	rewrite(t, e, h.ps, 2, func(en *audit.Entry) { en.Reason = "改写" })
	deleteCheckpointRows(t, e)
	execSQL(t, e, "UPDATE audit_streams SET pending = ?", true)
	if err := os.Remove(e.Log.Path()); err != nil {
		t.Fatal(err)
	}
	for i := range checkpoints {
		if i > 0 {
			e.Login(t, "owner1") // something to sign
		}
		if _, err := svc.Trail.Checkpoint(t.Context()); err != nil {
			t.Logf("checkpoint %d: %v", i+1, err) // the witness refuses what does not extend its own
		}
	}
}

func TestAWitnessCatchesTheAttackerWithTheDataDirectory(t *testing.T) {
	t.Parallel()
	for _, checkpoints := range []int{1, 3, 5} {
		e := apptest.New(t)
		h := buildHistory(t, e)
		// Without a witness, the attacker with both is not caught (docs/audit.md).
		plain := wire.New(e.DB, e.Keys, e.Svc.Core.Config(), wire.WithClock(e.Clock.Now), wire.WithCheckpointLog(e.Log))
		if checkpoints == 1 {
			resign(t, e, plain, h, checkpoints)
			if res := verifyWith(t, plain, e); !res.OK {
				t.Fatalf("rewritten with the key and the log, no witness: %s", res.Reason)
			}
			continue
		}
		w, ws := startWitness(t, e)
		svc := withWitness(e, w)
		e.Login(t, "owner2")
		if cp, err := svc.Trail.Checkpoint(t.Context()); err != nil || cp == nil || cp.Number != 4 {
			t.Fatalf("checkpoint with the witness: %+v %v", cp, err)
		}
		if n := ws.Len(); n != 4 {
			t.Fatalf("the witness co-signed %d checkpoints, want 4 (it catches up)", n)
		}
		if res := verifyWith(t, svc, e); !res.OK {
			t.Fatalf("untouched, with the witness: %s", res.Reason)
		}
		resign(t, e, svc, h, checkpoints)
		if res := verifyWith(t, plain, e); !res.OK {
			t.Fatalf("rewritten consistently, without asking the witness: %s", res.Reason)
		}
		res := verifyWith(t, svc, e)
		if res.OK || res.FirstBad == nil {
			t.Fatalf("rewritten with the key and the log, witness asked: ok=%v first bad %v (%s)", res.OK, deref(res.FirstBad), res.Reason)
		}
		t.Logf("%d checkpoints signed again: %s", checkpoints, res.Reason)
	}
}

func TestAWitnessThatCannotBeReachedIsAFinding(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	buildHistory(t, e)
	w, _ := startWitness(t, e)
	gone, err := witness.NewClient("http://127.0.0.1:1/", e.Keys.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := withWitness(e, w).Trail.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	res := verifyWith(t, withWitness(e, gone), e)
	if res.OK || res.Reason == "" {
		t.Fatalf("unreachable witness: %+v", res)
	}
}
