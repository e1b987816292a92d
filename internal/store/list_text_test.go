package store_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

// A text search of two characters or more reads the postings of its terms,
// not the problems table: its statement names problem_terms and the
// database's plan reads problems only by id. One character scans as before.
func TestProblemTextSearchUsesTerms(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 2026))
	w := newListWorld(t, rng, 600)
	ctx := t.Context()
	code := w.problems[17].Code
	for _, text := range []string{"整改", code, code[8:], code[6:13], "pump", "alve", "明纪", "不存在", "zzqx", "整改 pump"} {
		q := app.ProblemQuery{Scope: app.Scope{All: true}, Text: text, Limit: 20, Today: w.today, YellowDays: 3,
			Statuses: []domain.Status{domain.StatusAssigned, domain.StatusClosed}}
		stmt, args, err := store.ListStatement(ctx, w.db, q)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stmt, "problem_terms") {
			t.Fatalf("%q: the statement reads no terms: %s", text, stmt)
		}
		explain(t, w.db, text, stmt, args)
		w.checkPage(t, q)
	}
	stmt, _, err := store.ListStatement(ctx, w.db, app.ProblemQuery{Scope: app.Scope{All: true}, Text: "题", Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stmt, "problem_terms") {
		t.Fatalf("one character has no term to read: %s", stmt)
	}
	// Every description has 说明, more postings than are counted: alone it
	// walks them newest first; under a status the plan walks the problems.
	q := app.ProblemQuery{Scope: app.Scope{All: true}, Text: "说明", Limit: 20}
	stmt, args, err := store.ListStatement(ctx, w.db, q)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stmt, "ORDER BY t.problem_id DESC") {
		t.Fatalf("a common text alone is not walked in its postings: %s", stmt)
	}
	explain(t, w.db, q.Text, stmt, args)
	q.Statuses = []domain.Status{domain.StatusRectifying}
	if stmt, _, err = store.ListStatement(ctx, w.db, q); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stmt, "problem_terms") {
		t.Fatalf("a common text under a status walks its postings: %s", stmt)
	}
	// A piece of a code whose digits begin some 700 codes' terms, more than
	// are counted at first, and whose bigram ("00") is in every code: the
	// range of its digits is counted further and read whole, under a status
	// or not, rather than a bigram's postings walked past every code.
	for _, statuses := range [][]domain.Status{nil, {domain.StatusAssigned, domain.StatusClosed}} {
		q := app.ProblemQuery{Scope: app.Scope{All: true}, Text: "000", Limit: 20, Today: w.today, YellowDays: 3, Statuses: statuses}
		stmt, args, err := store.ListStatement(ctx, w.db, q)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stmt, "SELECT DISTINCT t.problem_id FROM problem_terms t WHERE t.term >= ? AND t.term < ?") {
			t.Fatalf("%v: a code's digits are not read by their range: %s", statuses, stmt)
		}
		explain(t, w.db, q.Text, stmt, args)
		if len(w.checkPage(t, q)) == 0 {
			t.Fatalf("%v: no problem has %q", statuses, q.Text)
		}
	}
}

// checkPage fails t unless the store's page for q is the brute force's,
// and returns its ids.
func (w *listWorld) checkPage(t *testing.T, q app.ProblemQuery) []int64 {
	t.Helper()
	got, err := w.db.Read().Problems.List(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	gotIDs := []int64{}
	for _, p := range got {
		gotIDs = append(gotIDs, p.ID)
	}
	if want := w.page(q); !slices.Equal(gotIDs, append([]int64{}, want...)) {
		t.Fatalf("%q %+v: got %v, want %v", q.Text, q, gotIDs, want)
	}
	return gotIDs
}

// explain fails t when the database's plan for the id query reads the
// problems table other than by id.
func explain(t *testing.T, db *store.DB, text, stmt string, args []any) {
	t.Helper()
	// database/sql takes no slice arguments: expand "IN ?" as gorm does.
	var flat []any
	var sb strings.Builder
	parts := strings.Split(stmt, "?")
	for i, part := range parts {
		sb.WriteString(part)
		if i == len(parts)-1 {
			break
		}
		switch a := args[i].(type) {
		case []string:
			sb.WriteString("(" + strings.TrimSuffix(strings.Repeat("?,", len(a)), ",") + ")")
			for _, x := range a {
				flat = append(flat, x)
			}
		case []domain.Status:
			sb.WriteString("(" + strings.TrimSuffix(strings.Repeat("?,", len(a)), ",") + ")")
			for _, x := range a {
				flat = append(flat, string(x))
			}
		default:
			sb.WriteString("?")
			flat = append(flat, a)
		}
	}
	prefix := "EXPLAIN QUERY PLAN "
	if db.Dialect() == store.DialectMySQL {
		prefix = "EXPLAIN "
	}
	rows, err := db.SQL().QueryContext(t.Context(), prefix+sb.String(), flat...)
	if err != nil {
		t.Fatalf("%q: explain: %v", text, err)
	}
	defer func() { _ = rows.Close() }()
	cols, _ := rows.Columns()
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := map[string]string{}
		for i, c := range cols {
			switch v := vals[i].(type) {
			case []byte:
				row[c] = string(v)
			case nil:
			default:
				row[c] = fmt.Sprint(v)
			}
		}
		if db.Dialect() == store.DialectMySQL {
			plan = append(plan, row["table"]+" "+row["type"]+" "+row["key"])
			if row["table"] == "p" && row["type"] != "eq_ref" {
				t.Fatalf("%q: problems read by %s, not by id: %v", text, row["type"], row)
			}
		} else {
			plan = append(plan, row["detail"])
			if d := row["detail"]; strings.HasPrefix(d, "SCAN p") {
				t.Fatalf("%q: the problems table is scanned: %s", text, d)
			}
		}
	}
	t.Logf("%q: %v", text, plan)
	if !slices.ContainsFunc(plan, func(s string) bool {
		return strings.Contains(s, "problem_terms") || strings.Contains(s, "derived") ||
			strings.HasPrefix(s, "t ") || strings.Contains(s, "SEARCH t") || strings.Contains(s, "SCAN t")
	}) {
		t.Fatalf("%q: the plan reads no terms: %v", text, plan)
	}
}

// What a search finds follows the problem's writes: registration, an edit of
// the title or description, the bulk insert, and the terms the migration
// gives problems that were there before the terms.
func TestProblemTextSearchFollowsWrites(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	ctx := t.Context()
	unit := mkUnit(t, db, "检修班", 0)
	insp := mkUser(t, db, "insp", unit.ID, domain.RoleInspector)
	mk := func(code, title, desc string) *domain.Problem {
		return &domain.Problem{Code: code, Title: title, Description: desc, CategoryID: 5, Severity: domain.SeverityGeneral,
			Source: domain.SourceInspection, UnitID: unit.ID, FoundAt: domain.DateOf(t0, time.UTC), Status: domain.StatusRegistered,
			Version: 1, CreatedBy: insp.ID, CreatedAt: t0, UpdatedAt: t0}
	}
	find := func(text string) []string {
		t.Helper()
		ps, err := db.Read().Problems.List(ctx, app.ProblemQuery{Scope: app.Scope{All: true}, Text: text, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		codes := []string{}
		for _, p := range ps {
			codes = append(codes, p.Code)
		}
		slices.Sort(codes)
		return codes
	}
	expect := func(text string, want ...string) {
		t.Helper()
		if want == nil {
			want = []string{}
		}
		if got := find(text); !slices.Equal(got, want) {
			t.Fatalf("%q finds %v, want %v", text, got, want)
		}
	}
	p := mk("WT-2026-000041", "旧标题 Boiler", "锅炉房")
	tx(t, db, func(r app.Repos) error { return r.Problems.Create(ctx, p) })
	expect("旧标题", p.Code)
	expect("boiler", p.Code)
	expect("000041", p.Code)
	expect("冷却塔")

	p.Title, p.Version = "冷却塔漏水", 2
	tx(t, db, func(r app.Repos) error { return r.Problems.Retext(ctx, p, 1, "旧标题 Boiler", "锅炉房") })
	expect("冷却塔", p.Code)
	expect("塔漏", p.Code)
	expect("旧标题")
	expect("boiler")
	expect("锅炉房", p.Code) // the description stayed
	p.Description, p.Version = "水泵房 pump-7", 3
	tx(t, db, func(r app.Repos) error { return r.Problems.Retext(ctx, p, 2, "冷却塔漏水", "锅炉房") })
	expect("锅炉房")
	expect("ump-7", p.Code)
	p.Status, p.Version = domain.StatusDismissed, 4 // no text changed
	tx(t, db, func(r app.Repos) error { return r.Problems.Update(ctx, p, 3) })
	expect("冷却塔", p.Code)

	bulk := []*domain.Problem{mk("WT-2025-000001", "导入的问题", "历史台账"), mk("WT-2025-000002", "另一条", "历史 ledger")}
	tx(t, db, func(r app.Repos) error { return r.Ledger.InsertProblems(ctx, bulk) })
	expect("历史", bulk[0].Code, bulk[1].Code)
	expect("ledger", bulk[1].Code)
	expect("2025-00000", bulk[0].Code, bulk[1].Code)

	// Problems from before the terms: their terms gone, the migration's
	// mark set as the migration sets it, and migrating again restores them.
	if _, err := db.SQL().ExecContext(ctx, "DELETE FROM problem_terms"); err != nil {
		t.Fatal(err)
	}
	expect("历史")
	if _, err := db.SQL().ExecContext(ctx, "UPDATE problem_terms_backfill SET upto = (SELECT MAX(id) FROM problems)"); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	expect("历史", bulk[0].Code, bulk[1].Code)
	expect("冷却塔", p.Code)
	expect("000041", p.Code)
}
