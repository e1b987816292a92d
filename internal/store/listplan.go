package store

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// The problem list's id query.
//
// A page is the n largest ids among the rows that pass the filter. An index
// (c1, …, ck, id) hands them over in order, reading little more than it
// returns, only when each ci is fixed to one value. So the store splits the
// query into branches: a branch is the whole filter AND one value for each
// column of one index; it walks that index newest first and stops after n
// rows, and the page is the n largest ids of all the branches. That is exact
// when every row that passes the filter passes some branch, which holds
// because a column's values are all those the filter allows in it: a
// subtree's ids (read first from the small units and categories tables),
// the statuses the warning and overdue filters imply, the filter's
// severities or sources. The owner's scope "assigned to me OR in my
// subtree" gives two sides, each with its own branches. Every branch repeats
// the whole filter, so it never adds a row the filter would not.
//
// Which index, and so which branches, is a guess from rough shares (a status
// is about a sixth of the rows, a unit one of n units…): a wrong guess costs
// time, never a row. A created-date range also bounds the ids every branch
// walks: a row created on day d has an id between the smallest and the
// largest id created on day d (created_day is a generated column, indexed
// with id: an index seek each), so no branch reads ids outside those of the
// range's days; the seeks are in the branch's own statement, so they see the
// same rows. The subtrees are read just before, in a statement of their own,
// as the caller read the paths of the filter's unit and category before:
// a unit added to a subtree, and given a problem, in the millisecond between
// them is not on that page. docs/performance.md has the measurements.

const (
	// listMaxBranches bounds the branches of one page: past it the
	// per-branch overhead outweighs reading in id order.
	listMaxBranches = 48
	// listMaxDays bounds the days of a created-date range that bound the id
	// walk (two seeks a day); a longer range is not bounded.
	listMaxDays = 62
)

// listTrees holds the subtrees a list query names, enumerated, and the
// number of leaves of each tree (where most problems are) for the plan's
// guesses.
type listTrees struct {
	units         []int64 // the unit filter's subtree; nil when there is none
	scopeUnits    []int64 // the owner's subtree; nil when the scope has none
	categories    []int64 // the category filter's subtree; nil when there is none
	unitCount     int
	categoryCount int
	text          *textPlan // the text search's terms (terms.go); nil for none
	lights        bool      // problems.light is computed for q's today and yellow days (lights.go)
}

// wantsLights reports whether q's page would use problems.light.
func wantsLights(q app.ProblemQuery) bool {
	return q.Limit > 0 && (len(q.Warnings) > 0 || q.Overdue != nil && *q.Overdue)
}

// listTreesSQL returns the statement that reads the subtrees of q, or ""
// when q names none.
func listTreesSQL(q app.ProblemQuery) (string, []any) {
	var parts []string
	var args []any
	if q.UnitPath != "" {
		parts = append(parts, "SELECT 1 AS k, id FROM units WHERE path LIKE ? ESCAPE '!'")
		args = append(args, likePrefix(q.UnitPath))
	}
	if !q.Scope.All && q.Scope.UnitPath != "" {
		parts = append(parts, "SELECT 2 AS k, id FROM units WHERE path LIKE ? ESCAPE '!'")
		args = append(args, likePrefix(q.Scope.UnitPath))
	}
	if q.CategoryPath != "" {
		parts = append(parts, "SELECT 3 AS k, id FROM categories WHERE path LIKE ? ESCAPE '!'")
		args = append(args, likePrefix(q.CategoryPath))
	}
	if len(parts) > 0 {
		parts = append(parts, "SELECT 4 AS k, COUNT(*) FROM units t WHERE NOT EXISTS (SELECT 1 FROM units c WHERE c.parent_id = t.id)",
			"SELECT 5 AS k, COUNT(*) FROM categories t WHERE NOT EXISTS (SELECT 1 FROM categories c WHERE c.parent_id = t.id)")
	}
	if wantsLights(q) {
		parts = append(parts, "SELECT 6 AS k, ("+lightsReadySQL+")")
		args = append(args, q.Today.String(), q.YellowDays)
	}
	if len(parts) == 0 {
		return "", nil
	}
	return strings.Join(parts, " UNION ALL "), args
}

// listTrees reads the subtrees of q in one statement.
func (r problemRepo) listTrees(ctx context.Context, q app.ProblemQuery) (listTrees, error) {
	var t listTrees
	if q.UnitPath != "" {
		t.units = []int64{}
	}
	if !q.Scope.All && q.Scope.UnitPath != "" {
		t.scopeUnits = []int64{}
	}
	if q.CategoryPath != "" {
		t.categories = []int64{}
	}
	if q.Text != "" && q.Limit > 0 {
		var err error
		if t.text, err = r.textPlanFor(ctx, q.Text); err != nil {
			return t, err
		}
	}
	stmt, args := listTreesSQL(q)
	if stmt == "" {
		return t, nil
	}
	ctx, cancel := r.bounded(ctx)
	defer cancel()
	rows, err := r.db(ctx).Raw(stmt, args...).Rows()
	if err != nil {
		return t, err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var k, v int64
		if err := rows.Scan(&k, &v); err != nil {
			return t, markUnavailable(err)
		}
		switch k {
		case 1:
			t.units = append(t.units, v)
		case 2:
			t.scopeUnits = append(t.scopeUnits, v)
		case 3:
			t.categories = append(t.categories, v)
		case 4:
			t.unitCount = int(v)
		case 5:
			t.categoryCount = int(v)
		case 6:
			t.lights = v == 1
		}
	}
	return t, markUnavailable(rows.Err())
}

// listPred is one condition of the filter, with what the plan's guesses need.
type listPred struct {
	sql  string
	args []any
	cols []string // the problem columns it reads; "" for one no list index holds
	// by is the column whose allowed values stand for the condition ("" for
	// none). Otherwise density is the guessed share of rows that pass it,
	// past a prefix: the share of the newest rows, the first a walk reads,
	// that fail it (few of the newest problems are overdue yet).
	by       string
	density  float64
	prefix   float64
	subquery bool // it runs a subquery, so it is never checked on an index entry alone
	scope    bool // the owner's scope
	created  bool // a created-date bound, whose prefix the id bounds skip
	deadline bool // a deadline bound, which the range's days stand for when it has few
}

// Subtrees are matched by the path of the row's unit or category (a primary
// key lookup, cached by MariaDB per id) rather than with "IN (SELECT id …)",
// which MariaDB flattens into a join that reads the subtree's rows first and
// sorts them, losing the branch's index order. Both forms select the same
// rows: every problem has its unit and category.
const (
	unitInSubtreeSQL     = "(SELECT u.path FROM units u WHERE u.id = p.unit_id) LIKE ? ESCAPE '!'"
	categoryInSubtreeSQL = "(SELECT c.path FROM categories c WHERE c.id = p.category_id) LIKE ? ESCAPE '!'"
)

// listFilter is the list's filter, condition by condition: the same
// conditions whatever the plan. With lights, the warning and overdue filters
// read problems.light, which then holds the warning as of q.Today (lights.go).
func listFilter(q app.ProblemQuery, lights bool) []listPred {
	var f []listPred
	add := func(p listPred) { f = append(f, p) }
	switch {
	case q.Scope.All:
	case q.Scope.UnitPath != "":
		add(listPred{sql: "(p.assignee_id = ? OR " + unitInSubtreeSQL + ")", args: []any{q.Scope.UserID, likePrefix(q.Scope.UnitPath)},
			cols: []string{"assignee_id", "unit_id"}, density: 0.05, subquery: true, scope: true})
	default:
		add(listPred{sql: "p.assignee_id = ?", args: []any{q.Scope.UserID}, cols: []string{"assignee_id"}, by: "assignee_id", scope: true})
	}
	if len(q.Statuses) > 0 {
		add(listPred{sql: "p.status IN ?", args: []any{q.Statuses}, cols: []string{"status"}, by: "status"})
	}
	if q.CategoryPath != "" {
		add(listPred{sql: categoryInSubtreeSQL, args: []any{likePrefix(q.CategoryPath)}, cols: []string{"category_id"},
			by: "category_id", subquery: true})
	}
	if len(q.Severities) > 0 {
		add(listPred{sql: "p.severity IN ?", args: []any{q.Severities}, cols: []string{"severity"}, by: "severity"})
	}
	if len(q.Sources) > 0 {
		add(listPred{sql: "p.source IN ?", args: []any{q.Sources}, cols: []string{"source"}, by: "source"})
	}
	if q.UnitPath != "" {
		add(listPred{sql: unitInSubtreeSQL, args: []any{likePrefix(q.UnitPath)}, cols: []string{"unit_id"}, by: "unit_id", subquery: true})
	}
	if q.AssigneeID > 0 {
		add(listPred{sql: "p.assignee_id = ?", args: []any{q.AssigneeID}, cols: []string{"assignee_id"}, by: "assignee_id"})
	}
	today := q.Today.String()
	if len(q.Warnings) > 0 && lights {
		add(listPred{sql: "p.light IN ?", args: []any{strs(q.Warnings)}, cols: []string{"light"}, by: "light"})
	}
	if len(q.Warnings) > 0 && !lights {
		yellowEnd := q.Today.AddDays(q.YellowDays).String()
		cond, args, perRow := []string{"1 = 0"}, []any{}, false
		density, prefix := 0.0, 1.0
		for _, w := range q.Warnings {
			switch w {
			case domain.WarningRed:
				cond = append(cond, "(p.status IN ? AND p.deadline < ?)", "(p.status = ? AND p.closed_on_time = ?)")
				args = append(args, openStatuses, today, domain.StatusClosed, false)
				density, prefix = density+0.3, min(prefix, 0.02)
			case domain.WarningYellow: // near the deadline, or behind a passed milestone (序时进度)
				cond = append(cond, "(p.status IN ? AND p.deadline >= ? AND (p.deadline <= ? OR "+behindScheduleSQL+"))")
				args = append(args, openStatuses, today, yellowEnd, false, today)
				density, prefix, perRow = density+0.1, min(prefix, 0.01), true
			case domain.WarningGreen:
				cond = append(cond, "(p.status IN ? AND p.deadline > ? AND NOT "+behindScheduleSQL+")", "(p.status = ? AND p.closed_on_time = ?)")
				args = append(args, openStatuses, yellowEnd, false, today, domain.StatusClosed, true)
				density, prefix, perRow = density+0.8, 0, true
			}
		}
		add(listPred{sql: "(" + strings.Join(cond, " OR ") + ")", args: args, cols: []string{"status", "deadline", "closed_on_time"},
			density: min(density, 1), prefix: min(prefix, 1), subquery: perRow})
	}
	if q.Overdue != nil {
		switch {
		case *q.Overdue && lights: // red and open
			add(listPred{sql: "p.light = ? AND p.status IN ?", args: []any{string(domain.WarningRed), openStatuses}, cols: []string{"light", "status"},
				by: "light"})
		case *q.Overdue:
			add(listPred{sql: "p.status IN ? AND p.deadline < ?", args: []any{openStatuses, today}, cols: []string{"status", "deadline"},
				density: 0.9, prefix: 0.04})
		default:
			add(listPred{sql: "(p.status NOT IN ? OR p.deadline IS NULL OR p.deadline >= ?)", args: []any{openStatuses, today},
				cols: []string{"status", "deadline"}, density: 0.6})
		}
	}
	if q.Text != "" {
		like := likeContains(q.Text)
		add(listPred{sql: "(p.title LIKE ? ESCAPE '!' OR p.description LIKE ? ESCAPE '!' OR p.code LIKE ? ESCAPE '!')",
			args: []any{like, like, like}, cols: []string{""}, density: 0.05})
	}
	if !q.DeadlineFrom.IsZero() {
		add(listPred{sql: "p.deadline >= ?", args: []any{q.DeadlineFrom.String()}, cols: []string{"deadline"}, density: 0.5, deadline: true})
	}
	if !q.DeadlineTo.IsZero() {
		add(listPred{sql: "p.deadline <= ?", args: []any{q.DeadlineTo.String()}, cols: []string{"deadline"}, density: 0.5, deadline: true})
	}
	if !q.CreatedFrom.IsZero() {
		add(listPred{sql: "p.created_at >= ?", args: []any{q.CreatedFrom.UTC()}, cols: []string{""}, density: 0.5, created: true})
	}
	if !q.CreatedTo.IsZero() {
		add(listPred{sql: "p.created_at < ?", args: []any{q.CreatedTo.UTC()}, cols: []string{""}, density: 1, prefix: 0.5, created: true})
	}
	if q.BeforeID > 0 {
		add(listPred{sql: "p.id < ?", args: []any{q.BeforeID}, cols: []string{"id"}, density: 1})
	}
	return f
}

// listIndex is an index a branch can walk in id order: cols are the columns
// a branch fixes, then id; extra are further columns the index holds.
type listIndex struct {
	name  string
	cols  []string
	extra []string
}

func (ix listIndex) holds(col string) bool {
	return col == "id" || slices.Contains(ix.cols, col) || slices.Contains(ix.extra, col)
}

// listIndexes are the problems' indexes that end in id (migrations 00001,
// 00005, 00007, 00051 and 00052), the table itself first.
var listIndexes = []listIndex{
	{name: "PRIMARY"},
	{name: "idx_problems_status", cols: []string{"status"}, extra: []string{"deadline", "closed_on_time"}},
	{name: "idx_problems_status_severity", cols: []string{"status", "severity"}},
	{name: "idx_problems_status_source", cols: []string{"status", "source"}},
	{name: "idx_problems_unit", cols: []string{"unit_id"}},
	{name: "idx_problems_unit_status", cols: []string{"unit_id", "status"}, extra: []string{"deadline", "closed_on_time", "assignee_id"}},
	{name: "idx_problems_assignee", cols: []string{"assignee_id"}},
	{name: "idx_problems_assignee_status", cols: []string{"assignee_id", "status"}, extra: []string{"deadline", "closed_on_time"}},
	{name: "idx_problems_assignee_unit", cols: []string{"assignee_id", "unit_id"}},
	{name: "idx_problems_category", cols: []string{"category_id"}},
	{name: "idx_problems_status_deadline", cols: []string{"status", "deadline"}},
	{name: "idx_problems_deadline", cols: []string{"deadline"}},
	{name: "idx_problems_assignee_deadline", cols: []string{"assignee_id", "deadline"}},
	{name: "idx_problems_unit_deadline", cols: []string{"unit_id", "deadline"}},
	{name: "idx_problems_light", cols: []string{"light", "status"}},
	{name: "idx_problems_unit_light", cols: []string{"unit_id", "light"}},
	{name: "idx_problems_assignee_light", cols: []string{"assignee_id", "light"}},
}

// listValues maps a column to the distinct values the filter allows in it
// (absent: any value).
type listValues map[string][]any

func (v listValues) clone() listValues {
	c := make(listValues, len(v)+1)
	for k, x := range v {
		c[k] = x
	}
	return c
}

// restrict narrows column col to the values also in vals.
func (v listValues) restrict(col string, vals []any) {
	cur, ok := v[col]
	if !ok {
		v[col] = distinct(vals)
		return
	}
	in := make(map[any]bool, len(vals))
	for _, x := range vals {
		in[x] = true
	}
	out := []any{}
	for _, x := range cur {
		if in[x] {
			out = append(out, x)
		}
	}
	v[col] = out
}

// none reports that no row can have an allowed value in some column.
func (v listValues) none() bool {
	for _, x := range v {
		if len(x) == 0 {
			return true
		}
	}
	return false
}

func distinct(vals []any) []any {
	seen := make(map[any]bool, len(vals))
	out := make([]any, 0, len(vals))
	for _, x := range vals {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func ids(xs []int64) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func strs[T ~string](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// listSide is one side of the scope's disjunction (the whole filter when the
// scope is not the owner's): the filter's conditions that apply, the values
// they allow, and the index it walks.
type listSide struct {
	preds  []listPred
	values listValues
	index  listIndex
	prefer string // an index to walk regardless of the guesses
}

// listBranch fixes one value for each column of its side's index.
type listBranch struct {
	side   int
	values []any
}

// listPlan is the id query of one page.
type listPlan struct {
	sides    []listSide
	branches []listBranch
	bounds   string // the created-date range's id bounds, or ""
	bargs    []any
	limit    int
	text     *textPlan // the rows are the postings of a term, not an index's
	before   int64     // the cursor, for the walk of a term's postings
}

// listStatuses returns the statuses a row may have to pass the status,
// overdue and warning filters; nil when any status may.
func listStatuses(q app.ProblemQuery) []any {
	v := listValues{}
	if len(q.Statuses) > 0 {
		v.restrict("status", strs(q.Statuses))
	}
	open := strs(openStatuses)
	if q.Overdue != nil && *q.Overdue {
		v.restrict("status", open)
	}
	if len(q.Warnings) > 0 {
		implied := []any{}
		for _, w := range q.Warnings {
			switch w {
			case domain.WarningRed, domain.WarningGreen:
				implied = append(implied, open...)
				implied = append(implied, string(domain.StatusClosed))
			case domain.WarningYellow:
				implied = append(implied, open...)
			}
		}
		v.restrict("status", implied)
	}
	return v["status"]
}

// planList chooses the branches of a page's id query.
func planList(q app.ProblemQuery, t listTrees, dialect string) listPlan {
	p := listPlan{limit: q.Limit}
	whole, split := listSides(q, t)
	switch {
	case q.Limit == 0:
		p.sides = whole
		return p
	case q.Limit < 0: // no limit: every row, one walk
		p.sides = []listSide{{preds: listFilter(q, t.lights), index: listIndexes[0]}}
		p.branches = []listBranch{{}}
		return p
	}
	p.bounds, p.bargs = createdBounds(q, dialect)
	if t.text != nil && (!t.text.ordered || split == nil && len(whole[0].values) == 0) {
		// A search's rows are few or found newest first among a term's
		// postings: the whole filter checks each, with the exact text. A
		// common text under a filter an index answers (a status, an owner's
		// scope…) is found faster by that index's walk, checking the text.
		p.sides = []listSide{{preds: listFilter(q, t.lights)}}
		p.branches = []listBranch{{}}
		p.text, p.before = t.text, q.BeforeID
		return p
	}
	days := len(p.bargs) / 2
	// The owner's scope is walked as one or as its two sides, whichever is
	// guessed cheaper.
	p.sides = whole
	if cost := chooseIndexes(whole, t, q.Limit, days); split != nil && chooseIndexes(split, t, q.Limit, days) < cost {
		p.sides = split
	}
	p.expand()
	return p
}

// listSides returns the filter as one side, and for an owner's scope as its
// two sides too, with no index chosen yet.
func listSides(q app.ProblemQuery, t listTrees) (whole, split []listSide) {
	filter := listFilter(q, t.lights)
	base := listValues{}
	if s := listStatuses(q); s != nil {
		base["status"] = s
	}
	if len(q.Severities) > 0 {
		base.restrict("severity", strs(q.Severities))
	}
	if len(q.Sources) > 0 {
		base.restrict("source", strs(q.Sources))
	}
	if t.units != nil {
		base.restrict("unit_id", ids(t.units))
	}
	if t.categories != nil {
		base.restrict("category_id", ids(t.categories))
	}
	if q.AssigneeID > 0 {
		base.restrict("assignee_id", []any{q.AssigneeID})
	}
	if t.lights {
		if len(q.Warnings) > 0 {
			base.restrict("light", strs(q.Warnings))
		}
		if q.Overdue != nil && *q.Overdue {
			base.restrict("light", []any{string(domain.WarningRed)})
		}
	}
	if days := deadlineDays(q); days != nil {
		// A short deadline range is its days: a branch walks (deadline, id),
		// or with a status each (status, deadline, id), in id order. Every
		// row has a status.
		base.restrict("deadline", days)
		if _, ok := base["status"]; !ok {
			base["status"] = strs(domain.Statuses())
		}
		for i := range filter {
			if filter[i].deadline {
				// Deadlines follow creation by a few weeks: a walk in id order
				// passes every problem created since the range's, a guessed half.
				filter[i].by, filter[i].prefix = "deadline", 0.5
			}
		}
	}
	for i := range filter {
		if filter[i].scope && q.Scope.UnitPath != "" {
			filter[i].density = scopeDensity(base, t)
		}
	}
	whole = []listSide{{preds: filter, values: base}}
	switch {
	case q.Scope.All:
	case q.Scope.UnitPath != "":
		// Assigned to me: the scope holds, and assignee_id = me says so where
		// an index can check it. In my subtree: the scope condition stays,
		// and the subtree's units are the values of unit_id.
		mine := slices.DeleteFunc(slices.Clone(filter), func(pr listPred) bool { return pr.scope })
		mine = append(mine, listPred{sql: "p.assignee_id = ?", args: []any{q.Scope.UserID}, cols: []string{"assignee_id"}, by: "assignee_id"})
		subtree := slices.Clone(filter)
		for i := range subtree {
			if subtree[i].scope {
				subtree[i].by = "unit_id"
			}
		}
		mineValues, subtreeValues := base.clone(), base.clone()
		mineValues.restrict("assignee_id", []any{q.Scope.UserID})
		subtreeValues.restrict("unit_id", ids(t.scopeUnits))
		split = []listSide{{preds: mine, values: mineValues}, {preds: subtree, values: subtreeValues}}
		if units, ok := base["unit_id"]; ok && scopeDensity(base, t) < 0.5 && len(units) <= listMaxBranches {
			// Assigned to me in units mostly outside my subtree: few rows,
			// if any, which (assignee_id, unit_id) finds directly where the
			// guesses, blind to assignments following units, would walk.
			split[0].prefer = "idx_problems_assignee_unit"
		}
	default:
		whole[0].values.restrict("assignee_id", []any{q.Scope.UserID})
	}
	return whole, split
}

// expand makes the branches: for each side, one per combination of the
// values of its index's columns.
func (p *listPlan) expand() {
	p.branches = nil
	for i, s := range p.sides {
		if s.values.none() {
			continue
		}
		combos := [][]any{{}}
		for _, c := range s.index.cols {
			vals, _ := s.valuesOf(c)
			var next [][]any
			for _, combo := range combos {
				for _, x := range vals {
					next = append(next, append(slices.Clone(combo), x))
				}
			}
			combos = next
		}
		for _, combo := range combos {
			p.branches = append(p.branches, listBranch{side: i, values: combo})
		}
	}
}

// valuesOf returns the values a branch may fix col to: those the filter
// allows, or for status, which every row has one of, all of them when the
// filter allows any. false when a branch cannot fix col.
func (s listSide) valuesOf(col string) ([]any, bool) {
	if vals, ok := s.values[col]; ok {
		return vals, true
	}
	if col == "status" {
		return strs(domain.Statuses()), true
	}
	return nil, false
}

// scopeDensity guesses the share of the rows allowed by base that are in
// the owner's scope, knowing that problems are mostly assigned within their
// own unit: all of them in units of the owner's subtree, few elsewhere.
func scopeDensity(base listValues, t listTrees) float64 {
	mine := t.share("assignee_id") * t.share("assignee_id")
	units, ok := base["unit_id"]
	if !ok {
		return min(1, max(float64(len(t.scopeUnits))*t.share("unit_id"), t.share("assignee_id")))
	}
	if len(units) == 0 {
		return 0
	}
	scope := make(map[int64]bool, len(t.scopeUnits))
	for _, u := range t.scopeUnits {
		scope[u] = true
	}
	in := 0
	for _, u := range units {
		if scope[u.(int64)] {
			in++
		}
	}
	overlap := float64(in) / float64(len(units))
	return overlap + (1-overlap)*mine
}

// share is the guessed share of the rows that have one given value in col.
func (t listTrees) share(col string) float64 {
	switch col {
	case "status":
		return 1.0 / 6
	case "severity":
		return 1.0 / 3
	case "source":
		return 1.0 / 5
	case "unit_id":
		return 1 / float64(max(t.unitCount, 1))
	case "category_id":
		return 1 / float64(max(t.categoryCount, 1))
	case "assignee_id":
		return 1.0 / 30
	case "deadline":
		return 1.0 / 365
	case "light":
		return 1.0 / 4
	}
	return 1
}

// deadlineDays returns the days of a deadline range short enough to be
// walked day by day, or nil.
func deadlineDays(q app.ProblemQuery) []any {
	if q.DeadlineFrom.IsZero() || q.DeadlineTo.IsZero() || q.DeadlineTo.Before(q.DeadlineFrom) {
		return nil
	}
	var days []any
	for d := q.DeadlineFrom; !d.After(q.DeadlineTo); d = d.AddDays(1) {
		if len(days) == listMaxDays {
			return nil
		}
		days = append(days, d.String())
	}
	return days
}

// chooseIndexes sets the index of each side to the one guessed cheapest and
// returns the guessed cost of all the sides' branches.
func chooseIndexes(sides []listSide, t listTrees, n, days int) float64 {
	total := 0.0
	for i := range sides {
		if sides[i].values.none() {
			continue
		}
		best, bestCost := listIndexes[0], math.Inf(1)
		for _, ix := range listIndexes {
			c := sides[i].cost(ix, t, n, days)
			if ix.name == sides[i].prefer && !math.IsInf(c, 1) {
				c = 0
			}
			if c < bestCost {
				best, bestCost = ix, c
			}
		}
		sides[i].index = best
		total += bestCost
	}
	return total
}

// listRiskWeight is the weight of a plan's worst case beside its guessed
// cost: the shares are guesses, and data is skewed (a campaign registers
// thousands of problems of one source in an afternoon), so a walk that could
// read a whole branch to find a page costs its guess plus a part of that,
// where branches whose index fixes every condition read n entries at worst.
const listRiskWeight = 0.01

// cost guesses what walking ix costs this side, in microseconds, roughly
// MariaDB's on this project's test machine (docs/performance.md). A branch
// holds a share f/k of the N rows; it reads the prefix of them that no row
// passes, then about n/d more, d being the share of its rows that pass the
// filter. An index entry costs 0.15, 2 more when the row must be read (for
// the entries that pass what the index can check alone); a row of the table
// itself 0.3; a subquery 0.3 a row; a branch 30, and 40 a day more to
// bound a created-date range. To that it adds listRiskWeight of the worst
// case: every branch read whole, unless its index fixes every condition.
func (s listSide) cost(ix listIndex, t listTrees, n, days int) float64 {
	k, f := 1, 1.0
	for _, c := range ix.cols {
		vals, ok := s.valuesOf(c)
		if !ok {
			return math.Inf(1)
		}
		k *= len(vals)
		f *= min(1, float64(len(vals))*t.share(c))
	}
	if k > listMaxBranches {
		return math.Inf(1)
	}
	rows := 1e6
	if days > 0 {
		rows = 1e6 * float64(days) / 365
	}
	pass := 1.0 // the share of the table that passes, past the prefix
	for col, vals := range s.values {
		pass *= min(1, float64(len(vals))*t.share(col))
	}
	prefix, covering, reach, subqueries, fixed := 0.0, true, 1.0, 0, true
	for _, pr := range s.preds {
		_, stands := s.values[pr.by]
		stands = stands && pr.by != ""
		if !stands {
			pass *= pr.density
		}
		walked := !stands || !slices.Contains(ix.cols, pr.by) // not fixed by the branch's values
		if walked && (pr.density < 1 || pr.prefix > 0) {
			fixed = false // a walk checks it entry by entry
		}
		if walked && (!pr.created || days == 0) {
			prefix = max(prefix, pr.prefix)
		}
		alone := !pr.subquery
		for _, c := range pr.cols {
			if !ix.holds(c) {
				covering, alone = false, false
			}
		}
		if alone && !stands {
			reach *= pr.density
		}
		if pr.subquery {
			subqueries++
		}
	}
	entry := 0.15
	switch {
	case ix.name == "PRIMARY":
		entry = 0.3
	case !covering:
		entry += 2 * reach
	}
	entry += 0.3 * float64(subqueries)
	size := rows * f / float64(k)
	walk := min(size, prefix*size+float64(n)*f/max(pass, 1e-9))
	worst := size
	if fixed {
		worst = min(size, float64(n))
	}
	return float64(k) * (30 + 40*float64(days) + (walk+listRiskWeight*worst)*entry)
}

// createdBounds returns the condition that bounds the ids of a created-date
// range by the smallest and the largest id of each day the range touches,
// or "" when the range is open or longer than listMaxDays.
func createdBounds(q app.ProblemQuery, dialect string) (string, []any) {
	if q.CreatedFrom.IsZero() || q.CreatedTo.IsZero() || !q.CreatedFrom.Before(q.CreatedTo) {
		return "", nil
	}
	var days []any
	last := createdDay(q.CreatedTo)
	for d := q.CreatedFrom.UTC(); createdDay(d) <= last; d = d.AddDate(0, 0, 1) {
		if len(days) == listMaxDays {
			return "", nil
		}
		days = append(days, createdDay(d))
	}
	least, greatest := dialectOf(dialect).least(), dialectOf(dialect).greatest()
	bound := func(fn, agg, none string) string {
		xs := make([]string, len(days))
		for i := range days {
			xs[i] = "COALESCE((SELECT " + agg + "(c.id) FROM problems c WHERE c.created_day = ?), " + none + ")"
		}
		if len(xs) == 1 {
			return xs[0]
		}
		return fn + "(" + strings.Join(xs, ", ") + ")"
	}
	return "p.id >= " + bound(least, "MIN", strconv.FormatInt(math.MaxInt64, 10)) + " AND p.id <= " + bound(greatest, "MAX", "0"),
		append(slices.Clone(days), days...)
}

// createdDay is the created_day of instant t: its UTC date. On SQLite,
// which stores times as text and compares them as text, created_day is the
// first ten characters of the stored text, and an instant is written as
// text that begins with its UTC date: a row that compares inside a range has
// its created_day among the range's days there too.
func createdDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// build returns the id query's SQL and arguments; "" when no row can pass.
func (p listPlan) build(dialect string) (string, []any) {
	if len(p.branches) == 0 {
		return "", nil
	}
	if p.text != nil {
		return p.buildText(dialect)
	}
	var args []any
	branch := func(b listBranch) string {
		s := p.sides[b.side]
		var sb strings.Builder
		sb.WriteString("SELECT p.id FROM problems p ")
		sb.WriteString(dialectOf(dialect).indexHint(s.index.name))
		conds := []string{}
		for _, pr := range s.preds {
			conds = append(conds, pr.sql)
			args = append(args, pr.args...)
		}
		for i, c := range s.index.cols {
			conds = append(conds, "p."+c+" = ?")
			args = append(args, b.values[i])
		}
		if p.bounds != "" {
			conds = append(conds, p.bounds)
			args = append(args, p.bargs...)
		}
		if len(conds) > 0 {
			sb.WriteString(" WHERE " + strings.Join(conds, " AND "))
		}
		sb.WriteString(" ORDER BY p.id DESC")
		if p.limit > 0 {
			sb.WriteString(" LIMIT " + strconv.Itoa(p.limit))
		}
		return sb.String()
	}
	if len(p.branches) == 1 {
		return branch(p.branches[0]), args
	}
	parts := make([]string, len(p.branches))
	for i, b := range p.branches {
		parts[i] = "SELECT id FROM (" + branch(b) + ") b" + strconv.Itoa(i)
	}
	return "SELECT id FROM (" + strings.Join(parts, " UNION ") + ") u ORDER BY id DESC LIMIT " + strconv.Itoa(p.limit), args
}

// buildText returns the id query of a text search: the problems of one term
// condition, in a derived table of distinct ids sorted afterwards when they
// are few, or walked newest first in the term's postings when many, each
// joined to its row and checked by the whole filter.
func (p listPlan) buildText(dialect string) (string, []any) {
	cond, args := p.text.probe.cond()
	var conds []string
	sel, join := dialectOf(dialect).joinInOrder()
	var from, order string
	if p.text.ordered {
		from, order = "problem_terms t", " ORDER BY t.problem_id DESC"
		conds = append(conds, cond)
		if p.before > 0 {
			conds = append(conds, "t.problem_id < ?")
			args = append(args, p.before)
		}
	} else {
		from, order = "(SELECT DISTINCT t.problem_id FROM problem_terms t WHERE "+cond+") t", " ORDER BY p.id DESC"
	}
	for _, pr := range p.sides[0].preds {
		conds = append(conds, pr.sql)
		args = append(args, pr.args...)
	}
	if p.bounds != "" {
		conds = append(conds, p.bounds)
		args = append(args, p.bargs...)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	return sel + from + join + where + order + " LIMIT " + strconv.Itoa(p.limit), args
}
