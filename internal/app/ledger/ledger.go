package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/ledger/table"
)

// tree names the nodes of a unit or category tree by their path of names.
type tree struct {
	paths map[int64][]string // id → names from the root
	codes map[int64]string
}

func unitTree(units []*app.Unit) tree {
	t := tree{paths: map[int64][]string{}, codes: map[int64]string{}}
	byID := map[int64]*app.Unit{}
	for _, u := range units {
		byID[u.ID] = u
	}
	for _, u := range units {
		t.paths[u.ID] = namePath(u.Path, func(id int64) string {
			if n := byID[id]; n != nil {
				return n.Name
			}
			return "?"
		})
	}
	return t
}

func categoryTree(cats []*app.Category) tree {
	t := tree{paths: map[int64][]string{}, codes: map[int64]string{}}
	byID := map[int64]*app.Category{}
	for _, c := range cats {
		byID[c.ID] = c
	}
	for _, c := range cats {
		t.codes[c.ID] = c.Code
		t.paths[c.ID] = namePath(c.Path, func(id int64) string {
			if n := byID[id]; n != nil {
				return n.Name
			}
			return "?"
		})
	}
	return t
}

func namePath(path string, name func(int64) string) []string {
	var out []string
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		if id, err := strconv.ParseInt(part, 10, 64); err == nil {
			out = append(out, name(id))
		}
	}
	return out
}

func (t tree) name(id int64) string { return strings.Join(t.paths[id], "/") }

// top is the name of the node's root: a category's dimension.
func (t tree) top(id int64) string {
	if p := t.paths[id]; len(p) > 0 {
		return p[0]
	}
	return ""
}

// resolve finds the node a cell names: a code, a path of names from the root
// ("思想政治/学习意识"), or the trailing part of one ("学习意识") when unique.
func (t tree) resolve(v, what string) (int64, error) {
	for id, code := range t.codes {
		if code != "" && strings.EqualFold(code, v) {
			return id, nil
		}
	}
	want := splitPath(v)
	var matches []int64
	for id, p := range t.paths {
		if len(want) > 0 && len(want) <= len(p) && slices.Equal(p[len(p)-len(want):], want) {
			if len(want) == len(p) {
				return id, nil // the full path wins over partial matches
			}
			matches = append(matches, id)
		}
	}
	switch len(matches) {
	case 0:
		return 0, fmt.Errorf("no %s is named %q", what, v)
	case 1:
		return matches[0], nil
	}
	names := make([]string, 0, len(matches))
	for _, id := range matches {
		names = append(names, t.name(id))
	}
	slices.Sort(names)
	return 0, fmt.Errorf("%q names several %ss (%s); write the whole path", v, what, strings.Join(names, "; "))
}

func splitPath(v string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == '/' || r == '／' || r == '>' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func personLabel(p app.PersonRef) string {
	if p.Name == "" || p.Name == p.Username {
		return p.Username
	}
	return p.Name + " (" + p.Username + ")"
}

// notes are a problem's latest 整改情况 (submission note) and 验收意见
// (verification note) since it was last reopened.
type notes struct{ fix, verdict string }

func noteOf(e *audit.Entry) string {
	var ch map[string]any
	if json.Unmarshal([]byte(e.Changes), &ch) != nil {
		return ""
	}
	s, _ := ch["note"].(string)
	return s
}

// ExportLedger writes every problem the caller may list with the filter, page
// by page (pageSize problems at a time, so that a large ledger is never held
// in memory), as ledger records to w. It returns the number of rows.
func (s *Service) ExportLedger(ctx context.Context, c app.Caller, f app.ProblemFilter, pageSize int, w table.Writer) (int, error) {
	if pageSize <= 0 {
		pageSize = app.LedgerPageSize
	}
	r := s.store.Read()
	units, err := r.Units.List(ctx)
	if err != nil {
		return 0, err
	}
	cats, err := r.Categories.List(ctx)
	if err != nil {
		return 0, err
	}
	ut, ct := unitTree(units), categoryTree(cats)
	loc, today, yellow := s.cfg.Location, s.core.Today(), s.cfg.Deadlines.YellowDays
	f.Limit, f.BeforeID = pageSize, 0
	n := 0
	for {
		ps, more, err := s.problems.Problems(ctx, c, f)
		if err != nil {
			return n, err
		}
		if len(ps) == 0 {
			return n, nil
		}
		ids := make([]int64, len(ps))
		var people []int64
		for i, p := range ps {
			ids[i] = p.ID
			if p.AssigneeID != 0 {
				people = append(people, p.AssigneeID)
			}
		}
		names, err := r.Stats.People(ctx, people)
		if err != nil {
			return n, err
		}
		entries, err := r.Stats.ProblemEntries(ctx, ids, []string{string(domain.ActionSubmit),
			string(domain.ActionVerifyPass), string(domain.ActionVerifyFail), string(domain.ActionReopen)})
		if err != nil {
			return n, err
		}
		byProblem := map[string]notes{}
		for _, e := range entries {
			x := byProblem[e.ObjectID]
			switch domain.Action(e.Action) {
			case domain.ActionReopen:
				x = notes{}
			case domain.ActionSubmit:
				x.fix = noteOf(e)
			case domain.ActionVerifyPass:
				x.verdict = cmpOr(noteOf(e), "验收通过")
			case domain.ActionVerifyFail:
				x.verdict = "退回：" + noteOf(e)
			}
			byProblem[e.ObjectID] = x
		}
		for _, p := range ps {
			rec := &table.Record{Code: p.Code, Title: p.Title, Description: p.Description, Category: ct.name(p.CategoryID),
				Severity: p.Severity.Label(), Source: p.Source.Label(), Unit: ut.name(p.UnitID),
				FoundAt: p.FoundAt.String(), Measures: p.Measures, Deadline: p.Deadline.String(), Status: p.Status.Label(),
				Warning: p.Warning(today, yellow).Label(), Reworks: strconv.Itoa(p.ReworkCount),
				Extensions: strconv.Itoa(p.ExtensionCount), CreatedAt: p.CreatedAt.In(loc).Format("2006-01-02 15:04"),
				Dimension: ct.top(p.CategoryID), Overdue: p.Overdue(today), Closed: p.Status == domain.StatusClosed,
				ClosedOnTime: p.ClosedOnTime != nil && *p.ClosedOnTime}
			if p.AssigneeID != 0 {
				rec.Assignee = personLabel(names[p.AssigneeID])
			}
			if p.Status != domain.StatusRegistered && p.Status != domain.StatusDismissed {
				rec.Percent = strconv.Itoa(p.Percent) + "%"
			}
			if p.ClosedAt != nil {
				rec.ClosedAt = p.ClosedAt.In(loc).Format("2006-01-02 15:04")
			}
			x := byProblem[app.IDString(p.ID)]
			rec.Fix, rec.Verdict = x.fix, x.verdict
			if err := w.Write(rec); err != nil {
				return n, err
			}
			n++
		}
		if !more {
			return n, nil
		}
		f.BeforeID = ps[len(ps)-1].ID
	}
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// LedgerGuide lists what the import template offers as accepted values.
func (s *Service) LedgerGuide(ctx context.Context) (table.Guide, error) {
	r := s.store.Read()
	units, err := r.Units.List(ctx)
	if err != nil {
		return table.Guide{}, err
	}
	cats, err := r.Categories.List(ctx)
	if err != nil {
		return table.Guide{}, err
	}
	ut, ct := unitTree(units), categoryTree(cats)
	g := table.Guide{}
	for _, c := range cats {
		g.Categories = append(g.Categories, c.Code+"  "+ct.name(c.ID))
	}
	for _, u := range units {
		g.Units = append(g.Units, ut.name(u.ID))
	}
	for _, sv := range domain.Severities() {
		g.Severities = append(g.Severities, sv.Label())
	}
	for _, src := range domain.Sources() {
		g.Sources = append(g.Sources, src.Label())
	}
	return g, nil
}

// pending is a row ready to be created.
type pending struct {
	row      table.Row
	hash     string
	problem  *domain.Problem
	register domain.Change
	assign   *domain.Change
	keepCode bool
}

// importCells maps the domain's field names to the ledger's columns, so that
// a validation error names the cell.
var importCells = map[string]string{
	"title": table.ColTitle, "description": table.ColDescription, "category_id": table.ColCategory,
	"severity": table.ColSeverity, "source": table.ColSource, "unit_id": table.ColUnit, "found_at": table.ColFoundAt,
	"assignee_id": table.ColAssignee, "deadline": table.ColDeadline, "measures": table.ColMeasures,
}

// ImportLedger registers (and, where a 责任人 is given, assigns) the problems
// of an .xlsx ledger. Every row is checked first and every error is reported
// by row and column; nothing is created unless every row is good, and then
// everything is created in one transaction with its audit entries. A row
// imported before (same content), a repeat of a row above, or a row whose
// 编号 names the same problem here is skipped, so a re-upload creates
// nothing twice.
func (s *Service) ImportLedger(ctx context.Context, c app.Caller, filename string, file io.Reader) (*app.ImportResult, error) {
	rec := app.Record{Stream: audit.SystemStream, Action: app.ActionProblemImport, ObjectType: app.ObjectImport}
	var out *app.ImportResult
	err := func() error {
		if err := app.RequireRole(c.Actor, "importing problems", domain.RoleInspector, domain.RoleVerifier); err != nil {
			return err
		}
		body, err := io.ReadAll(file)
		if err != nil {
			return err
		}
		if s.workbooks == nil {
			return errors.New("no workbook reader configured (wire.WithWorkbookReader)")
		}
		sum := sha256.Sum256(body)
		sheet, err := s.workbooks(bytes.NewReader(body))
		if err != nil {
			var pe *table.ParseError
			if errors.As(err, &pe) {
				return domain.Invalid(pe.Field, "%s", pe.Reason)
			}
			return err
		}
		if len(sheet.Rows) == 0 {
			return domain.Invalid("file", "the sheet %s has no rows below its header", sheet.Name)
		}
		return s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
			if err := s.core.ClaimKey(ctx, r, c, now); err != nil {
				return err
			}
			res, err := s.importRows(ctx, r, now, c, sheet, hex.EncodeToString(sum[:]), filename)
			if err != nil {
				return err
			}
			out = res
			return s.core.KeepResult(ctx, r, c, res)
		})
	}()
	if err = s.core.KeyTaken(ctx, c, err); err != nil {
		if app.Refusable(err) && !errors.Is(err, app.ErrReplayed) {
			s.core.AuditRefusal(ctx, c, rec, err)
		}
		return nil, err
	}
	return out, nil
}

func (s *Service) importRows(ctx context.Context, r app.Repos, now time.Time, c app.Caller, sheet *table.Sheet, fileSum, filename string) (*app.ImportResult, error) {
	today := domain.DateOf(now, s.cfg.Location)
	units, err := r.Units.List(ctx)
	if err != nil {
		return nil, err
	}
	cats, err := r.Categories.List(ctx)
	if err != nil {
		return nil, err
	}
	ut, ct := unitTree(units), categoryTree(cats)
	unitPaths := map[int64]string{}
	for _, u := range units {
		unitPaths[u.ID] = u.Path
	}
	hashes := make([]string, len(sheet.Rows))
	var codes []string
	for i, row := range sheet.Rows {
		hashes[i] = table.RowHash(row)
		if code := row.Get(table.ColCode); code != "" {
			codes = append(codes, strings.ToUpper(code))
		}
	}
	imported, err := r.Ledger.ImportedRows(ctx, hashes)
	if err != nil {
		return nil, err
	}
	existing, err := r.Ledger.ProblemsByCode(ctx, codes)
	if err != nil {
		return nil, err
	}
	res := &app.ImportResult{FileSHA256: fileSum, Rows: len(sheet.Rows), Created: []app.ImportedProblem{}, Skipped: []app.SkippedRow{}}
	var (
		v       domain.Validator
		todo    []*pending
		seen    = map[string]int{} // hash → row
		codeRow = map[string]int{} // code → row
		people  = map[string]importPerson{}
	)
	bad := func(row table.Row, col, format string, args ...any) {
		v.Add(sheet.Cell(row.Number, col), format, args...)
	}
	for i, row := range sheet.Rows {
		hash := hashes[i]
		if id, ok := imported[hash]; ok {
			res.Skipped = append(res.Skipped, app.SkippedRow{Row: row.Number, ProblemID: id, Reason: "imported before"})
			continue
		}
		if first, ok := seen[hash]; ok {
			res.Skipped = append(res.Skipped, app.SkippedRow{Row: row.Number, Reason: fmt.Sprintf("repeats row %d", first)})
			continue
		}
		seen[hash] = row.Number
		p := &pending{row: row, hash: hash}
		code := strings.ToUpper(row.Get(table.ColCode))
		if code != "" {
			if !validCode(code) {
				bad(row, table.ColCode, "%q is not a problem code of the form WT-2026-000123; leave it empty for a new code", code)
				continue
			}
			if first, ok := codeRow[code]; ok {
				bad(row, table.ColCode, "%s also appears in row %d", code, first)
				continue
			}
			codeRow[code] = row.Number
		}
		fields, assign, ok := s.importFields(ctx, r, row, today, ut, ct, unitPaths, people, func(col, format string, args ...any) {
			bad(row, col, format, args...)
		})
		if err := fields.Validate(today); err != nil {
			cellErrors(err, func(col, reason string) {
				if col == table.ColTitle || col == table.ColDescription || col == table.ColFoundAt {
					bad(row, col, "%s", reason)
					ok = false
				}
			})
		}
		if !ok {
			continue
		}
		if old := existing[code]; old != nil {
			if old.Title == fields.Title && old.UnitID == fields.UnitID {
				res.Skipped = append(res.Skipped, app.SkippedRow{Row: row.Number, ProblemID: old.ID,
					Reason: "already in the ledger as " + old.Code})
				continue
			}
			bad(row, table.ColCode, "%s belongs to another problem here (%q); clear the cell to import this row as a new problem", code, old.Title)
			continue
		}
		prob, ch, err := domain.Register(fields, c.Actor, now, today)
		if err != nil {
			if !cellErrors(err, func(col, reason string) { bad(row, col, "%s", reason) }) {
				return nil, err
			}
			continue
		}
		prob.Code, p.keepCode = code, code != ""
		p.problem, p.register = prob, ch
		if assign != nil {
			ach, err := prob.Assign(*assign, c.Actor, now, today, s.cfg.Deadlines)
			if err != nil {
				var forb *domain.ForbiddenError
				switch {
				case errors.As(err, &forb):
					bad(row, table.ColAssignee, "assigning (交办) requires the verifier role; leave 责任人 empty to only register")
				case !cellErrors(err, func(col, reason string) { bad(row, col, "%s", reason) }):
					return nil, err
				}
				continue
			}
			prob.Version = 2
			p.assign = &ach
		}
		todo = append(todo, p)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	imp := &app.ImportRecord{FileSHA256: fileSum, Filename: filename, Rows: len(sheet.Rows), ImportedBy: c.Actor.UserID, ImportedAt: now}
	if err := r.Ledger.CreateImport(ctx, imp); err != nil {
		return nil, err
	}
	res.ImportID = imp.ID
	// Codes: a block of the year's counter for the new ones; the kept ones move their year's counter past them.
	var fresh int64
	kept := map[int]int64{} // year → largest kept number
	for _, p := range todo {
		if !p.keepCode {
			fresh++
			continue
		}
		year, seq, _ := splitCode(p.problem.Code)
		kept[year] = max(kept[year], seq)
	}
	if fresh > 0 {
		first, err := r.Ledger.ReserveCodes(ctx, today.Year(), fresh)
		if err != nil {
			return nil, err
		}
		for _, p := range todo {
			if !p.keepCode {
				p.problem.Code = fmt.Sprintf("WT-%d-%06d", today.Year(), first)
				first++
			}
		}
	}
	for year, seq := range kept {
		if err := r.Ledger.RaiseCounter(ctx, year, seq); err != nil {
			return nil, err
		}
	}
	problems := make([]*domain.Problem, len(todo))
	for i, p := range todo {
		problems[i] = p.problem
	}
	// Many rows at a time: one statement per row would outlast the transaction's time limit on a large file.
	if err := r.Ledger.InsertProblems(ctx, problems); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			return nil, domain.Conflict("a code of this file was taken meanwhile; upload it again (rows already in are skipped)")
		}
		return nil, err
	}
	var entries []*audit.Entry
	rows := make([]app.ImportedRow, 0, len(todo))
	for _, p := range todo {
		prob := p.problem
		p.register.Details["code"] = prob.Code
		p.register.Details["import_id"] = imp.ID
		p.register.Details["import_row"] = p.row.Number
		entries = append(entries, s.core.ProblemEntry(c, now, prob.ID, p.register))
		if p.assign != nil {
			entries = append(entries, s.core.ProblemEntry(c, now, prob.ID, *p.assign))
		}
		rows = append(rows, app.ImportedRow{Hash: p.hash, ImportID: imp.ID, Row: p.row.Number, ProblemID: prob.ID})
		res.Created = append(res.Created, app.ImportedProblem{Row: p.row.Number, ID: prob.ID, Code: prob.Code, Assigned: p.assign != nil})
	}
	if err := r.Ledger.AppendNewStreams(ctx, entries); err != nil {
		return nil, err
	}
	if err := r.Ledger.AddRows(ctx, rows); err != nil {
		return nil, err
	}
	imp.Created, imp.Skipped = len(res.Created), len(res.Skipped)
	if err := r.Ledger.FinishImport(ctx, imp); err != nil {
		return nil, err
	}
	entry := s.core.Entry(c, now, app.Record{Stream: "import/" + app.IDString(imp.ID), Action: app.ActionProblemImport, ObjectType: app.ObjectImport,
		ObjectID: app.IDString(imp.ID), Changes: map[string]any{"file_sha256": fileSum, "filename": filename,
			"rows": imp.Rows, "created": imp.Created, "skipped": imp.Skipped}})
	if err := r.Audit.Append(ctx, entry); err != nil {
		return nil, err
	}
	return res, nil
}

func validCode(code string) bool {
	_, _, ok := splitCode(code)
	return ok
}

// splitCode splits WT-YYYY-NNNNNN into its year and number.
func splitCode(code string) (int, int64, bool) {
	parts := strings.Split(code, "-")
	if len(parts) != 3 || parts[0] != "WT" || len(parts[1]) != 4 || len(parts[2]) < 6 || len(parts[2]) > 12 {
		return 0, 0, false
	}
	for _, part := range parts[1:] {
		if _, err := strconv.ParseUint(part, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	y, _ := strconv.Atoi(parts[1])
	n, _ := strconv.ParseInt(parts[2], 10, 64)
	return y, n, y >= 1900 && n >= 1
}

// cellErrors reports a domain validation error cell by cell; false when err is not one.
func cellErrors(err error, report func(col, reason string)) bool {
	var val *domain.ValidationError
	if !errors.As(err, &val) {
		return false
	}
	for _, f := range val.Fields {
		col := importCells[f.Field]
		if col == "" {
			col = f.Field
		}
		report(col, f.Reason)
	}
	return true
}

// importFields resolves one row's cells into the fields of a registration
// and, when a 责任人 is named, an assignment. It reports each bad cell.
func (s *Service) importFields(ctx context.Context, r app.Repos, row table.Row, today domain.Date, ut, ct tree,
	unitPaths map[int64]string, people map[string]importPerson, bad func(col, format string, args ...any)) (domain.ProblemFields, *domain.AssignCmd, bool) {
	ok := true
	fail := func(col, format string, args ...any) {
		bad(col, format, args...)
		ok = false
	}
	f := domain.ProblemFields{Title: row.Get(table.ColTitle), Description: row.Get(table.ColDescription), FoundAt: today}
	if v := row.Get(table.ColCategory); v == "" {
		fail(table.ColCategory, "is required")
	} else if id, err := ct.resolve(v, "category"); err != nil {
		fail(table.ColCategory, "%s", err.Error())
	} else {
		f.CategoryID = id
	}
	if v := row.Get(table.ColSeverity); v == "" {
		fail(table.ColSeverity, "is required")
	} else if sv, found := fromLabel(domain.Severities(), v); !found {
		fail(table.ColSeverity, "%q is not one of 一般, 较重, 严重", v)
	} else {
		f.Severity = sv
	}
	if v := row.Get(table.ColSource); v == "" {
		fail(table.ColSource, "is required")
	} else if src, found := fromLabel(domain.Sources(), v); !found {
		fail(table.ColSource, "%q is not one of 自查, 抽查, 检查, 督查, 反映", v)
	} else {
		f.Source = src
	}
	if v := row.Get(table.ColUnit); v == "" {
		fail(table.ColUnit, "is required")
	} else if id, err := ut.resolve(v, "unit"); err != nil {
		fail(table.ColUnit, "%s", err.Error())
	} else {
		f.UnitID, f.UnitPath = id, unitPaths[id]
	}
	if v := row.Get(table.ColFoundAt); v != "" {
		if d, err := importDate(v); err != nil {
			fail(table.ColFoundAt, "%q %s", v, err.Error())
		} else {
			f.FoundAt = d
		}
	}
	var assign *domain.AssignCmd
	if v := row.Get(table.ColAssignee); v != "" {
		p, err := s.findPerson(ctx, r, v, people)
		if err != nil {
			fail(table.ColAssignee, "%s", err.Error())
		} else {
			assign = &domain.AssignCmd{Assignee: domain.Assignee{ID: p.ID, Roles: p.Roles, Disabled: p.Disabled},
				Measures: row.Get(table.ColMeasures)}
		}
	}
	if v := row.Get(table.ColDeadline); v != "" {
		d, err := importDate(v)
		switch {
		case err != nil:
			fail(table.ColDeadline, "%q %s", v, err.Error())
		case assign == nil && ok:
			fail(table.ColDeadline, "a deadline needs a 责任人 to assign the problem to")
		case assign != nil:
			assign.Deadline = d
		}
	} else if row.Get(table.ColMeasures) != "" && assign == nil && ok {
		fail(table.ColMeasures, "measures need a 责任人 to assign the problem to")
	}
	return f, assign, ok
}

func importDate(v string) (domain.Date, error) {
	t, err := table.ParseDate(v)
	if err != nil {
		return domain.Date{}, err
	}
	return domain.ParseDate(t.Format(time.DateOnly))
}

func fromLabel[K interface {
	~string
	Label() string
}](values []K, v string) (K, bool) {
	for _, k := range values {
		if v == k.Label() || strings.EqualFold(v, string(k)) {
			return k, true
		}
	}
	return "", false
}

// importPerson is a 责任人 found for an import.
type importPerson struct {
	ID       int64
	Roles    []domain.Role
	Disabled bool
}

// findPerson resolves a 责任人 cell: "姓名 (username)", a username, or a unique name.
func (s *Service) findPerson(ctx context.Context, r app.Repos, v string, cache map[string]importPerson) (importPerson, error) {
	if p, ok := cache[v]; ok {
		return p, nil
	}
	username := usernameIn(v)
	if u, err := r.Users.GetByUsername(ctx, app.NormalizeUsername(username)); err == nil {
		p := importPerson{ID: u.ID, Roles: u.Roles, Disabled: u.Disabled}
		cache[v] = p
		return p, nil
	} else if !errors.Is(err, domain.ErrNotFound) {
		return importPerson{}, err
	}
	users, err := r.Users.List(ctx, app.UserQuery{Text: v, Limit: 50})
	if err != nil {
		return importPerson{}, err
	}
	var found []*app.User
	for _, u := range users {
		if u.Name == v {
			found = append(found, u)
		}
	}
	switch len(found) {
	case 0:
		return importPerson{}, fmt.Errorf("no user is named %q; write the username, or 姓名 (username)", v)
	case 1:
		u := found[0]
		p := importPerson{ID: u.ID, Roles: u.Roles, Disabled: u.Disabled}
		cache[v] = p
		return p, nil
	}
	return importPerson{}, fmt.Errorf("several users are named %q; write 姓名 (username)", v)
}

// usernameIn returns the username of "姓名 (username)" or "姓名（username）", or v itself.
func usernameIn(v string) string {
	for _, pair := range [][2]string{{"(", ")"}, {"（", "）"}} {
		if strings.HasSuffix(v, pair[1]) {
			if i := strings.LastIndex(v, pair[0]); i > 0 {
				return strings.TrimSpace(v[i+len(pair[0]) : len(v)-len(pair[1])])
			}
		}
	}
	return v
}
