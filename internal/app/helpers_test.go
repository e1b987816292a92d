package app_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// streamEntries reads a stream's entries, oldest first, straight from the store.
func streamEntries(t testing.TB, e *apptest.Env, stream string) []*audit.Entry {
	t.Helper()
	es, err := e.DB.Read().Audit.List(t.Context(), app.AuditQuery{Stream: stream, Ascending: true, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func problemEntries(t testing.TB, e *apptest.Env, id int64) []*audit.Entry {
	t.Helper()
	return streamEntries(t, e, audit.ProblemStream(id))
}

func lastEntry(t testing.TB, e *apptest.Env, stream string) *audit.Entry {
	t.Helper()
	es := streamEntries(t, e, stream)
	if len(es) == 0 {
		t.Fatalf("stream %s is empty", stream)
	}
	return es[len(es)-1]
}

// load reads a problem straight from the store.
func load(t testing.TB, e *apptest.Env, id int64) *domain.Problem {
	t.Helper()
	p, err := e.DB.Read().Problems.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func verifyAudit(t testing.TB, e *apptest.Env) *app.VerifyResult {
	t.Helper()
	res, err := e.Svc.Trail.VerifyAudit(t.Context(), e.Caller("leader"))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func mustVerifyOK(t testing.TB, e *apptest.Env) *app.VerifyResult {
	t.Helper()
	res := verifyAudit(t, e)
	if !res.OK || res.FirstBad != nil || res.Reason != "" {
		t.Fatalf("audit trail does not verify: ok=%v first_bad=%v reason=%q", res.OK, deref(res.FirstBad), res.Reason)
	}
	return res
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// lostRace reports the answers a loser of a race on one problem may get: 409 or 412.
func lostRace(err error) bool {
	var inv *domain.InvalidTransitionError
	return errors.Is(err, domain.ErrConflict) || errors.Is(err, domain.ErrPreconditionFailed) || errors.As(err, &inv)
}

func isInvalidTransition(err error) bool {
	var inv *domain.InvalidTransitionError
	return errors.As(err, &inv)
}

// count runs a COUNT(*) query with raw SQL.
func count(t testing.TB, e *apptest.Env, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.DB.SQL().QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// execSQL changes the database behind the application's back.
func execSQL(t testing.TB, e *apptest.Env, query string, args ...any) {
	t.Helper()
	res, err := e.DB.SQL().ExecContext(t.Context(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatalf("%s %v changed no row", query, args)
	}
}

func with(c app.Caller, ip, requestID string) app.Caller {
	c.IP, c.RequestID = ip, requestID
	return c
}

func fmtInt(n int64) string { return strconv.FormatInt(n, 10) }
