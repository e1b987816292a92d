package store_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

// A problem's stream head is read with the problem (or known absent when
// the problem is created), so the entry of an action is appended without a
// locking read; when the head has moved since, Append goes back to the head
// read under lock, and the chain stays whole either way.
func TestAuditAppendAfterTheHeadReadWithTheProblem(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var (
		mu    sync.Mutex
		stmts []string
	)
	base := storetest.Open(t)
	db := base.WithStatementLog(func(sql string) {
		mu.Lock()
		defer mu.Unlock()
		stmts = append(stmts, sql)
	})
	locked := func() (n int) {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range stmts {
			if strings.Contains(s, "FROM audit_streams") {
				n++
			}
		}
		stmts = nil
		return n
	}
	unit := mkUnit(t, base, "一班", 0)
	inspector := mkUser(t, base, "inspector", unit.ID, domain.RoleInspector)
	p := &domain.Problem{Title: "标题", Description: "描述", CategoryID: 5, Severity: domain.SeverityGeneral,
		Source: domain.SourceInspection, UnitID: unit.ID, FoundAt: domain.NewDate(2026, 3, 1), Status: domain.StatusRegistered,
		Version: 1, CreatedBy: inspector.ID, CreatedAt: t0, UpdatedAt: t0}
	code, err := base.ProblemCode(ctx, 2026)
	if err != nil {
		t.Fatal(err)
	}
	p.Code = code
	var es []*audit.Entry
	add := func(r app.Repos, i int) error {
		e := entry("", t0.Add(time.Duration(i)*time.Second), 1, "urge", audit.OutcomeOK)
		e.Stream = audit.ProblemStream(p.ID)
		es = append(es, e)
		return r.Audit.Append(ctx, e)
	}
	get := func(r app.Repos) error { _, err := r.Problems.Get(ctx, p.ID); return err }

	tx(t, db, func(r app.Repos) error {
		if err := r.Problems.Create(ctx, p); err != nil {
			return err
		}
		return add(r, 0)
	})
	if n := locked(); n != 0 {
		t.Errorf("registration: %d reads of audit_streams, want none", n)
	}
	tx(t, db, func(r app.Repos) error {
		if err := get(r); err != nil {
			return err
		}
		return add(r, 1)
	})
	if n := locked(); n != 0 {
		t.Errorf("an action: %d reads of audit_streams, want none", n)
	}
	stream := audit.ProblemStream(p.ID)
	// Read before the last entry: the head has moved since.
	tx(t, db, func(r app.Repos) error {
		if err := get(r); err != nil {
			return err
		}
		store.PretendHead(r, stream, 1, es[0].Hash)
		return add(r, 2)
	})
	// Taken for a new stream, which has entries.
	tx(t, db, func(r app.Repos) error {
		store.PretendHead(r, stream, 0, "")
		return add(r, 3)
	})
	// A head the stream never had: the entry goes in, the head does not
	// move, and the entry is taken out again.
	tx(t, db, func(r app.Repos) error {
		store.PretendHead(r, stream, 9, strings.Repeat("f", 64))
		return add(r, 4)
	})
	if n := locked(); n != 3 {
		t.Errorf("three appends after a head that moved: %d locking reads of audit_streams, want 3", n)
	}
	if storetest.Backend() == store.DialectMySQL {
		// Another transaction appends between this one's read and its
		// append. (SQLite runs one writing transaction at a time.)
		tx(t, db, func(r app.Repos) error {
			if err := get(r); err != nil {
				return err
			}
			tx(t, base, func(r app.Repos) error { return add(r, 5) })
			return add(r, 6)
		})
	}

	back, err := base.Read().Audit.StreamEntries(ctx, []string{stream})
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(es) {
		t.Fatalf("%d entries in the stream, want %d", len(back), len(es))
	}
	prev := audit.GenesisHash()
	for i, b := range back {
		if b.StreamSeq != int64(i+1) || b.PrevHash != prev || b.ComputeHash() != b.Hash || b.Hash != es[i].Hash || b.Seq != es[i].Seq {
			t.Fatalf("entry %d: %+v, want seq %d after %s, as appended: %+v", i, b, i+1, prev, es[i])
		}
		prev = b.Hash
	}
	heads, err := base.Read().Audit.Heads(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	last := es[len(es)-1]
	if len(heads) != 1 || heads[0].Seq != last.StreamSeq || heads[0].Hash != last.Hash || heads[0].EntryID != last.Seq || !heads[0].Pending {
		t.Fatalf("heads %+v, want the last entry %d", heads, last.Seq)
	}
	if n := count(t, base, "SELECT COUNT(*) FROM audit_entries"); n != len(es) {
		t.Fatalf("%d entries in the trail, want %d", n, len(es))
	}
}
