package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

func tx(t *testing.T, db *store.DB, fn func(r app.Repos) error) {
	t.Helper()
	if err := db.Tx(t.Context(), func(_ context.Context, r app.Repos) error { return fn(r) }); err != nil {
		t.Fatal(err)
	}
}

func mkUnit(t *testing.T, db *store.DB, name string, parent int64) *app.Unit {
	t.Helper()
	u := &app.Unit{Name: name, ParentID: parent, CreatedAt: t0, UpdatedAt: t0}
	tx(t, db, func(r app.Repos) error { return r.Units.Create(t.Context(), u) })
	return u
}

func mkUser(t *testing.T, db *store.DB, username string, unit int64, roles ...domain.Role) *app.User {
	t.Helper()
	u := &app.User{Username: username, Name: username, PasswordHash: "x", Roles: roles, UnitID: unit, CreatedAt: t0, UpdatedAt: t0}
	tx(t, db, func(r app.Repos) error { return r.Users.Create(t.Context(), u) })
	return u
}

func mkProblem(t *testing.T, db *store.DB, p *domain.Problem) *domain.Problem {
	t.Helper()
	if p.FoundAt.IsZero() {
		p.FoundAt = domain.NewDate(2026, 3, 1)
	}
	if p.Version == 0 {
		p.Version = 1
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = t0
	}
	p.UpdatedAt = p.CreatedAt
	if p.Severity == "" {
		p.Severity = domain.SeverityGeneral
	}
	if p.Source == "" {
		p.Source = domain.SourceInspection
	}
	if p.Status == "" {
		p.Status = domain.StatusRegistered
	}
	if p.CategoryID == 0 {
		p.CategoryID = 5
	}
	code, err := db.ProblemCode(t.Context(), p.CreatedAt.Year())
	if err != nil {
		t.Fatal(err)
	}
	p.Code = code
	tx(t, db, func(r app.Repos) error { return r.Problems.Create(t.Context(), p) })
	return p
}

func count(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	db := storetest.OpenURL(t, url)
	root := mkUnit(t, db, "中心", 0)
	for range 2 {
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatalf("second migration: %v", err)
		}
	}
	// A second instance starting on the same database migrates again.
	db2 := storetest.OpenURL(t, url)
	if db2.Dialect() != storetest.Backend() || db.Dialect() != storetest.Backend() {
		t.Fatalf("dialect %s, backend %s", db2.Dialect(), storetest.Backend())
	}
	if n := count(t, db2, "SELECT COUNT(*) FROM categories"); n != 14 {
		t.Fatalf("%d categories after repeated migrations, want 14", n)
	}
	u, err := db2.Read().Units.Get(t.Context(), root.ID)
	if err != nil || u.Name != "中心" {
		t.Fatalf("data lost by repeated migrations: %v %v", u, err)
	}
	if err := db2.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRejectsBadURLs(t *testing.T) {
	t.Parallel()
	for _, url := range []string{"", "postgres://x", "sqlite:", "mysql:::not a dsn"} {
		if db, err := store.Open(t.Context(), url, store.Options{}); err == nil {
			_ = db.Close()
			t.Errorf("Open(%q) accepted", url)
		}
	}
}

func TestCategorySeed(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	cats, err := db.Read().Categories.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(cats) != 14 {
		t.Fatalf("%d seeded categories, want 14", len(cats))
	}
	want := map[string][]string{
		"思想政治": {"学习意识", "大局意识", "眼界思路"},
		"担当作为": {"等靠思想", "守摊思想", "本位主义"},
		"争先求进": {"争先劲头", "争先能力"},
		"遵规守纪": {"廉洁风险", "规矩意识"},
	}
	byID := map[int64]*app.Category{}
	codes := map[string]bool{}
	for _, c := range cats {
		byID[c.ID] = c
		codes[c.Code] = true
	}
	if len(codes) != 14 {
		t.Fatalf("category codes not unique: %v", codes)
	}
	got := map[string][]string{}
	for _, c := range cats {
		if c.ParentID == 0 {
			if c.Path != fmt.Sprintf("/%d/", c.ID) {
				t.Errorf("root %s has path %s", c.Name, c.Path)
			}
			got[c.Name] = got[c.Name][:0:0]
			continue
		}
		parent := byID[c.ParentID]
		if parent == nil || parent.ParentID != 0 {
			t.Fatalf("%s: parent %d is not a root", c.Name, c.ParentID)
		}
		if c.Path != fmt.Sprintf("%s%d/", parent.Path, c.ID) {
			t.Errorf("%s has path %s under %s", c.Name, c.Path, parent.Path)
		}
		if !strings.HasPrefix(c.Code, parent.Code+"-") {
			t.Errorf("code %s not under %s", c.Code, parent.Code)
		}
		got[parent.Name] = append(got[parent.Name], c.Name)
	}
	for dim, items := range want {
		g := got[dim]
		slices.Sort(g)
		slices.Sort(items)
		if !slices.Equal(g, items) {
			t.Errorf("%s: items %v, want %v", dim, g, items)
		}
	}
	if len(got) != 4 {
		t.Errorf("%d dimensions, want 4", len(got))
	}
	// Admins add more: ids continue after the seed.
	c := &app.Category{Code: "QT", Name: "其他", CreatedAt: t0, UpdatedAt: t0}
	tx(t, db, func(r app.Repos) error { return r.Categories.Create(t.Context(), c) })
	if c.ID <= 14 || c.Path != fmt.Sprintf("/%d/", c.ID) {
		t.Fatalf("new category id %d path %s", c.ID, c.Path)
	}
}

func TestUnitMoveRewritesDescendantPaths(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	ctx := t.Context()
	a := mkUnit(t, db, "A", 0)
	b := mkUnit(t, db, "B", a.ID)
	c := mkUnit(t, db, "C", b.ID)
	d := mkUnit(t, db, "D", c.ID)
	sib := mkUnit(t, db, "B2", a.ID)
	e := mkUnit(t, db, "E", 0)
	if b.Path != fmt.Sprintf("/%d/%d/", a.ID, b.ID) || d.Path != fmt.Sprintf("%s%d/", c.Path, d.ID) {
		t.Fatalf("paths at creation: %s %s", b.Path, d.Path)
	}
	owner := mkUser(t, db, "owner", d.ID, domain.RoleOwner)
	p := mkProblem(t, db, &domain.Problem{Title: "t", UnitID: c.ID, CreatedBy: owner.ID})

	b.ParentID, b.Name, b.UpdatedAt = e.ID, "B moved", t0.Add(time.Hour)
	tx(t, db, func(r app.Repos) error { return r.Units.Update(ctx, b) })

	paths := map[string]string{}
	units, err := db.Read().Units.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		paths[u.Name] = u.Path
	}
	want := map[string]string{
		"A":       fmt.Sprintf("/%d/", a.ID),
		"B moved": fmt.Sprintf("/%d/%d/", e.ID, b.ID),
		"C":       fmt.Sprintf("/%d/%d/%d/", e.ID, b.ID, c.ID),
		"D":       fmt.Sprintf("/%d/%d/%d/%d/", e.ID, b.ID, c.ID, d.ID),
		"B2":      fmt.Sprintf("/%d/%d/", a.ID, sib.ID),
		"E":       fmt.Sprintf("/%d/", e.ID),
	}
	for name, w := range want {
		if paths[name] != w {
			t.Errorf("%s: path %s, want %s", name, paths[name], w)
		}
	}
	got, _ := db.Read().Units.Get(ctx, b.ID)
	if got.ParentID != e.ID || got.Name != "B moved" || !got.UpdatedAt.Equal(b.UpdatedAt) {
		t.Errorf("moved unit %+v", got)
	}
	// Users and problems see the new paths through their unit.
	u, _ := db.Read().Users.Get(ctx, owner.ID)
	if u.UnitPath != want["D"] {
		t.Errorf("user's unit path %s, want %s", u.UnitPath, want["D"])
	}
	gp, _ := db.Read().Problems.Get(ctx, p.ID)
	if gp.UnitPath != want["C"] {
		t.Errorf("problem's unit path %s, want %s", gp.UnitPath, want["C"])
	}
	// Moving to the root.
	c.ParentID = 0
	tx(t, db, func(r app.Repos) error { return r.Units.Update(ctx, c) })
	gd, _ := db.Read().Units.Get(ctx, d.ID)
	if gd.Path != fmt.Sprintf("/%d/%d/", c.ID, d.ID) {
		t.Errorf("after moving C to the root, D has path %s", gd.Path)
	}
	// Categories move the same way.
	cat := &app.Category{ID: 5, Code: "SXZZ-01", Name: "学习意识", ParentID: 2, UpdatedAt: t0}
	tx(t, db, func(r app.Repos) error { return r.Categories.Update(ctx, cat) })
	gc, _ := db.Read().Categories.Get(ctx, 5)
	if gc.Path != "/2/5/" || gc.ParentID != 2 {
		t.Errorf("moved category %+v", gc)
	}
}

func TestUniqueConstraintsAreConflicts(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	ctx := t.Context()
	root := mkUnit(t, db, "中心", 0)
	mkUser(t, db, "alice", root.ID, domain.RoleOwner)
	err := db.Tx(ctx, func(ctx context.Context, r app.Repos) error {
		return r.Users.Create(ctx, &app.User{Username: "alice", Name: "other", PasswordHash: "x",
			Roles: []domain.Role{domain.RoleLeader}, UnitID: root.ID, CreatedAt: t0, UpdatedAt: t0})
	})
	if !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("duplicate username: %v, want ErrConflict", err)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM users WHERE username = ?", "alice"); n != 1 {
		t.Fatalf("%d users named alice", n)
	}
	mkUnit(t, db, "一班", root.ID)
	err = db.Tx(ctx, func(ctx context.Context, r app.Repos) error {
		return r.Units.Create(ctx, &app.Unit{Name: "一班", ParentID: root.ID, CreatedAt: t0, UpdatedAt: t0})
	})
	if !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("duplicate unit name under one parent: %v, want ErrConflict", err)
	}
	err = db.Tx(ctx, func(ctx context.Context, r app.Repos) error {
		return r.Categories.Create(ctx, &app.Category{Code: "SXZZ", Name: "x", CreatedAt: t0, UpdatedAt: t0})
	})
	if !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("duplicate category code: %v, want ErrConflict", err)
	}
	_, err = db.Read().Users.GetByUsername(ctx, "nobody")
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	for _, get := range []func() error{
		func() error { _, err := db.Read().Units.Get(ctx, 999); return err },
		func() error { _, err := db.Read().Categories.Get(ctx, 999); return err },
		func() error { _, err := db.Read().Users.Get(ctx, 999); return err },
		func() error { _, err := db.Read().Problems.Get(ctx, 999); return err },
		func() error { _, err := db.Read().Sessions.GetByHash(ctx, "nope"); return err },
		func() error { _, err := db.Read().Extensions.Get(ctx, 1, 999); return err },
	} {
		if err := get(); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("absent row: %v, want ErrNotFound", err)
		}
	}
}

func TestProblemRoundTripAndStaleUpdate(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	ctx := t.Context()
	root := mkUnit(t, db, "中心", 0)
	insp := mkUser(t, db, "insp", root.ID, domain.RoleInspector)
	owner := mkUser(t, db, "owner", root.ID, domain.RoleOwner)
	p := mkProblem(t, db, &domain.Problem{Title: "标题 ✓", Description: "多行\n描述", UnitID: root.ID, CreatedBy: insp.ID,
		CreatedAt: t0.Add(123456 * time.Microsecond)})
	if p.Code != "WT-2026-000001" || p.ID == 0 {
		t.Fatalf("code %s id %d", p.Code, p.ID)
	}
	got, err := db.Read().Problems.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != p.Title || got.Description != p.Description || !got.CreatedAt.Equal(p.CreatedAt) ||
		got.Status != domain.StatusRegistered || got.Version != 1 || got.AssigneeID != 0 || !got.Deadline.IsZero() ||
		got.ClosedOnTime != nil || got.UnitPath != root.Path || got.FoundAt != p.FoundAt {
		t.Fatalf("round trip: %+v", got)
	}

	// A full update at the expected version.
	now := t0.Add(time.Hour)
	onTime := false
	got.Status, got.Version, got.AssigneeID, got.Deadline = domain.StatusClosed, 2, owner.ID, domain.NewDate(2026, 3, 9)
	got.Measures, got.Percent, got.ReworkCount, got.ReopenCount, got.ExtensionCount = "措施", 80, 2, 1, 3
	got.ClosedOnTime, got.ClosedAt, got.SubmittedAt, got.AssignedAt, got.SubmittedBy = &onTime, &now, &now, &now, owner.ID
	got.UpdatedAt = now
	tx(t, db, func(r app.Repos) error { return r.Problems.Update(ctx, got, 1) })
	again, _ := db.Read().Problems.Get(ctx, p.ID)
	if again.Status != domain.StatusClosed || again.Version != 2 || again.AssigneeID != owner.ID ||
		again.Deadline.String() != "2026-03-09" || again.Measures != "措施" || again.Percent != 80 ||
		again.ReworkCount != 2 || again.ReopenCount != 1 || again.ExtensionCount != 3 ||
		again.ClosedOnTime == nil || *again.ClosedOnTime || again.ClosedAt == nil || !again.ClosedAt.Equal(now) ||
		again.SubmittedBy != owner.ID || !again.UpdatedAt.Equal(now) || again.Code != p.Code {
		t.Fatalf("after update: %+v", again)
	}

	// A stale version is a conflict and changes nothing.
	stale := *again
	stale.Title, stale.Version = "overwritten", 3
	err = db.Tx(ctx, func(ctx context.Context, r app.Repos) error { return r.Problems.Update(ctx, &stale, 1) })
	if !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("stale update: %v, want ErrConflict", err)
	}
	final, _ := db.Read().Problems.Get(ctx, p.ID)
	if final.Title != p.Title || final.Version != 2 {
		t.Fatalf("stale update changed the row: %+v", final)
	}
	// Clearing nullable fields stores NULLs.
	final.AssigneeID, final.Deadline, final.ClosedOnTime, final.ClosedAt, final.Version = 0, domain.Date{}, nil, nil, 3
	tx(t, db, func(r app.Repos) error { return r.Problems.Update(ctx, final, 2) })
	cleared, _ := db.Read().Problems.Get(ctx, p.ID)
	if cleared.AssigneeID != 0 || !cleared.Deadline.IsZero() || cleared.ClosedOnTime != nil || cleared.ClosedAt != nil {
		t.Fatalf("nullable fields not cleared: %+v", cleared)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM problems WHERE assignee_id IS NULL AND deadline IS NULL"); n != 1 {
		t.Fatalf("cleared fields are not NULL in the table")
	}
}

func TestProblemCodesPerYear(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	db := storetest.OpenURL(t, url)
	root := mkUnit(t, db, "中心", 0)
	insp := mkUser(t, db, "insp", root.ID, domain.RoleInspector)
	var codes []string
	for i := range 3 {
		p := mkProblem(t, db, &domain.Problem{Title: "t", UnitID: root.ID, CreatedBy: insp.ID, CreatedAt: t0.Add(time.Duration(i) * time.Minute)})
		codes = append(codes, p.Code)
	}
	p := mkProblem(t, db, &domain.Problem{Title: "t", UnitID: root.ID, CreatedBy: insp.ID, CreatedAt: t0.AddDate(1, 0, 0)})
	codes = append(codes, p.Code)
	want := []string{"WT-2026-000001", "WT-2026-000002", "WT-2026-000003", "WT-2027-000001"}
	if !slices.Equal(codes, want) {
		t.Fatalf("codes %v, want %v", codes, want)
	}
	// Registrations write no shared row: the counter moved once per block.
	if n := count(t, db, "SELECT last_seq FROM problem_counters WHERE year = 2026"); n != store.DefaultCodeBlock {
		t.Fatalf("the 2026 counter is at %d after three codes, want one block (%d)", n, store.DefaultCodeBlock)
	}
	// A second instance on the same database reserves the next block.
	other, err := store.Open(t.Context(), url, store.Options{CodeBlock: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	var otherCodes []string
	for range 7 {
		c, err := other.ProblemCode(t.Context(), 2026)
		if err != nil {
			t.Fatal(err)
		}
		otherCodes = append(otherCodes, c)
	}
	want = []string{"WT-2026-000101", "WT-2026-000102", "WT-2026-000103", "WT-2026-000104", "WT-2026-000105",
		"WT-2026-000106", "WT-2026-000107"}
	if !slices.Equal(otherCodes, want) {
		t.Fatalf("the second instance's codes %v, want %v", otherCodes, want)
	}
	// A rolled back creation leaves a gap; the first instance goes on with its block.
	boom := errors.New("boom")
	code, err := db.ProblemCode(t.Context(), 2026)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Tx(t.Context(), func(ctx context.Context, r app.Repos) error {
		q := &domain.Problem{Title: "t", UnitID: root.ID, CreatedBy: insp.ID, FoundAt: domain.NewDate(2026, 3, 1),
			Severity: domain.SeverityGeneral, Source: domain.SourceReport, Status: domain.StatusRegistered, Version: 1,
			CategoryID: 5, CreatedAt: t0, UpdatedAt: t0, Code: code}
		if err := r.Problems.Create(t.Context(), q); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || code != "WT-2026-000004" {
		t.Fatalf("%s: %v", code, err)
	}
	p = mkProblem(t, db, &domain.Problem{Title: "t", UnitID: root.ID, CreatedBy: insp.ID})
	if p.Code != "WT-2026-000005" {
		t.Fatalf("after a rollback the next code is %s", p.Code)
	}
	// A code in use already is refused by the unique key and the rest of its block forgotten.
	err = db.Tx(t.Context(), func(ctx context.Context, r app.Repos) error {
		q := &domain.Problem{Title: "t", UnitID: root.ID, CreatedBy: insp.ID, FoundAt: domain.NewDate(2026, 3, 1),
			Severity: domain.SeverityGeneral, Source: domain.SourceReport, Status: domain.StatusRegistered, Version: 1,
			CategoryID: 5, CreatedAt: t0, UpdatedAt: t0, Code: "WT-2026-000005"}
		return r.Problems.Create(t.Context(), q)
	})
	if !errors.Is(err, app.ErrCodeTaken) {
		t.Fatalf("a taken code: %v, want ErrCodeTaken", err)
	}
	if code, err := db.ProblemCode(t.Context(), 2026); err != nil || code != "WT-2026-000111" {
		t.Fatalf("after a taken code the next is %s (%v), want the next block's first", code, err)
	}
}

// Codes stay unique when two instances register at once.
func TestProblemCodesTwoInstances(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	var dbs [2]*store.DB
	for i := range dbs {
		if i == 0 {
			dbs[i] = storetest.OpenURL(t, url)
			continue
		}
		db, err := store.Open(t.Context(), url, store.Options{CodeBlock: 7})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		dbs[i] = db
	}
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		wg   sync.WaitGroup
	)
	for w := range 8 {
		wg.Go(func() {
			db := dbs[w%2]
			last := ""
			for range 40 {
				c, err := db.ProblemCode(t.Context(), 2026)
				if err != nil {
					t.Error(err)
					return
				}
				if c <= last {
					t.Errorf("codes went back on one instance: %s after %s", c, last)
				}
				last = c
				mu.Lock()
				if seen[c] {
					t.Errorf("code %s given twice", c)
				}
				seen[c] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 320 {
		t.Fatalf("%d codes, want 320", len(seen))
	}
}

func TestExtensionsAndComments(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	ctx := t.Context()
	root := mkUnit(t, db, "中心", 0)
	owner := mkUser(t, db, "owner", root.ID, domain.RoleOwner)
	ver := mkUser(t, db, "ver", root.ID, domain.RoleVerifier)
	p := mkProblem(t, db, &domain.Problem{Title: "t", UnitID: root.ID, CreatedBy: ver.ID, Status: domain.StatusRectifying,
		AssigneeID: owner.ID, Deadline: domain.NewDate(2026, 3, 10)})
	e := &domain.Extension{ProblemID: p.ID, RequestedBy: owner.ID, OldDeadline: p.Deadline, Deadline: domain.NewDate(2026, 3, 20),
		Reason: "理由", Status: domain.ExtensionPending, CreatedAt: t0}
	tx(t, db, func(r app.Repos) error { return r.Extensions.Create(ctx, e) })
	pending, err := db.Read().Extensions.HasPending(ctx, p.ID)
	if err != nil || !pending {
		t.Fatalf("pending %v %v", pending, err)
	}
	decided := *e
	now := t0.Add(time.Hour)
	decided.Status, decided.DecidedBy, decided.Note, decided.DecidedAt = domain.ExtensionApproved, ver.ID, "同意", &now
	tx(t, db, func(r app.Repos) error { return r.Extensions.Update(ctx, &decided) })
	again := decided
	again.Status = domain.ExtensionRejected
	if err := db.Tx(ctx, func(ctx context.Context, r app.Repos) error { return r.Extensions.Update(ctx, &again) }); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("second decision: %v, want ErrConflict", err)
	}
	got, err := db.Read().Extensions.Get(ctx, p.ID, e.ID)
	if err != nil || got.Status != domain.ExtensionApproved || got.DecidedBy != ver.ID || got.Note != "同意" ||
		got.Deadline.String() != "2026-03-20" || got.OldDeadline.String() != "2026-03-10" || got.DecidedAt == nil {
		t.Fatalf("decided extension %+v %v", got, err)
	}
	if _, err := db.Read().Extensions.Get(ctx, p.ID+1, e.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("extension of another problem: %v", err)
	}
	if pending, _ := db.Read().Extensions.HasPending(ctx, p.ID); pending {
		t.Fatal("still pending after the decision")
	}
	for _, text := range []string{"第一条", "second"} {
		tx(t, db, func(r app.Repos) error {
			return r.Comments.Create(ctx, &app.Comment{ProblemID: p.ID, AuthorID: owner.ID, Text: text, CreatedAt: t0})
		})
	}
	cs, err := db.Read().Comments.List(ctx, p.ID)
	if err != nil || len(cs) != 2 || cs[0].Text != "第一条" || cs[1].Text != "second" || cs[0].ID >= cs[1].ID {
		t.Fatalf("comments %v %v", cs, err)
	}
}

func TestSessionsAndLoginFailures(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	ctx := t.Context()
	root := mkUnit(t, db, "中心", 0)
	u := mkUser(t, db, "alice", root.ID, domain.RoleOwner)
	s1 := &app.Session{TokenHash: strings.Repeat("a", 64), UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	s2 := &app.Session{TokenHash: strings.Repeat("b", 64), UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	tx(t, db, func(r app.Repos) error {
		if err := r.Sessions.Create(ctx, s1); err != nil {
			return err
		}
		return r.Sessions.Create(ctx, s2)
	})
	got, err := db.Read().Sessions.GetByHash(ctx, s1.TokenHash)
	if err != nil || got.UserID != u.ID || got.RevokedAt != nil || !got.ExpiresAt.Equal(s1.ExpiresAt) {
		t.Fatalf("session %+v %v", got, err)
	}
	at := t0.Add(time.Minute)
	tx(t, db, func(r app.Repos) error { return r.Sessions.Revoke(ctx, s1.TokenHash, at) })
	got, _ = db.Read().Sessions.GetByHash(ctx, s1.TokenHash)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(at) {
		t.Fatalf("revoked %+v", got)
	}
	if other, _ := db.Read().Sessions.GetByHash(ctx, s2.TokenHash); other.RevokedAt != nil {
		t.Fatal("revoking one token revoked another")
	}
	tx(t, db, func(r app.Repos) error { return r.Sessions.RevokeUser(ctx, u.ID, at.Add(time.Minute)) })
	got, _ = db.Read().Sessions.GetByHash(ctx, s1.TokenHash)
	if !got.RevokedAt.Equal(at) {
		t.Fatal("RevokeUser moved an earlier revocation")
	}
	if other, _ := db.Read().Sessions.GetByHash(ctx, s2.TokenHash); other.RevokedAt == nil {
		t.Fatal("RevokeUser left a session")
	}

	for _, f := range []struct {
		user, ip string
		at       time.Time
	}{
		{"alice", "10.0.0.1", t0},
		{"alice", "10.0.0.2", t0.Add(10*time.Minute + 500*time.Microsecond)},
		{"alice", "10.0.0.1", t0.Add(20 * time.Minute)},
		{"bob", "10.0.0.1", t0.Add(20 * time.Minute)},
	} {
		tx(t, db, func(r app.Repos) error { return r.Sessions.RecordFailure(ctx, f.user, f.ip, f.at) })
	}
	check := func(user, ip string, since time.Time, wantUser, wantIP int64) {
		t.Helper()
		byUser, byIP, err := db.Read().Sessions.CountFailures(ctx, user, ip, since)
		if err != nil || byUser != wantUser || byIP != wantIP {
			t.Errorf("CountFailures(%s, %s, %v) = %d, %d, %v; want %d, %d", user, ip, since, byUser, byIP, err, wantUser, wantIP)
		}
	}
	check("alice", "10.0.0.1", t0.Add(-time.Minute), 3, 3)
	check("alice", "10.0.0.1", t0, 3, 3) // the window includes its start
	check("alice", "10.0.0.1", t0.Add(time.Second), 2, 2)
	check("alice", "10.0.0.2", t0.Add(10*time.Minute+500*time.Microsecond), 2, 1)
	check("alice", "10.0.0.2", t0.Add(10*time.Minute+501*time.Microsecond), 1, 0)
	check("carol", "10.9.9.9", t0, 0, 0)
	tx(t, db, func(r app.Repos) error { return r.Sessions.ClearFailures(ctx, "alice") })
	check("alice", "10.0.0.1", t0.Add(-time.Minute), 0, 1)
}

func TestTxRollsBackOnError(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	ctx := t.Context()
	boom := errors.New("boom")
	err := db.Tx(ctx, func(ctx context.Context, r app.Repos) error {
		if err := r.Units.Create(ctx, &app.Unit{Name: "gone", CreatedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
		e := &audit.Entry{Stream: "system", At: t0, Action: "x", ObjectType: "unit", Outcome: audit.OutcomeOK}
		if err := r.Audit.Append(ctx, e); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx returned %v", err)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM units"); n != 0 {
		t.Fatalf("%d units after rollback", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM audit_entries") + count(t, db, "SELECT COUNT(*) FROM audit_streams"); n != 0 {
		t.Fatalf("%d audit rows after rollback", n)
	}
}
