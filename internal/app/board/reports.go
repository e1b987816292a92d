package board

import (
	"cmp"
	"context"
	"encoding/json"
	"github.com/rectify-team/rectify/internal/app"
	"slices"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

// Report limits.
const (
	MaxReportRows  = 500 // rows of one report, the largest counts first
	MaxReportSeqs  = 100 // entries named per row, oldest first
	MaxReportDays  = 366
	maxOverdueRefs = 10000
)

// occurrence is one fact of a report before grouping.
type occurrence struct {
	problem app.ProblemRef
	userID  int64 // the person it is about
	unitID  int64 // the unit it is about
	seqs    []int64
	details map[string]int64
}

// Report builds a discipline report (verifiers and leaders).
func (s *Service) Report(ctx context.Context, c app.Caller, in app.ReportInput) (*app.Report, error) {
	if err := app.RequireRole(c.Actor, "discipline reports", domain.RoleVerifier, domain.RoleLeader); err != nil {
		return nil, err
	}
	if !slices.Contains(app.ReportKinds(), in.Kind) {
		names := make([]string, 0, 5)
		for _, k := range app.ReportKinds() {
			names = append(names, string(k))
		}
		return nil, domain.Invalid("report", "must be one of %s", strings.Join(names, ", "))
	}
	today := s.core.Today()
	if in.To.IsZero() {
		in.To = today
	}
	if in.From.IsZero() {
		in.From = stats.MonthOf(in.To).First()
	}
	var v domain.Validator
	v.Check(!in.To.Before(in.From), "to", "must not be before from")
	v.Check(in.From.DaysUntil(in.To) < MaxReportDays, "from", "a report covers at most %d days", MaxReportDays)
	v.Check(in.By == "" || in.By == app.ReportSubjectUser || in.By == app.ReportSubjectUnit, "by", "must be user or unit")
	v.Check(in.MinCount >= 0 && in.MinCount <= 100, "min", "must be from 1 to 100")
	if err := v.Err(); err != nil {
		return nil, err
	}
	r := s.store.Read()
	units, err := r.Units.List(ctx)
	if err != nil {
		return nil, err
	}
	unitPaths, unitNames := map[int64]string{}, map[int64]string{}
	for _, u := range units {
		unitPaths[u.ID], unitNames[u.ID] = u.Path, u.Name
	}
	within := func(unitID int64) bool { return true }
	if in.UnitID > 0 {
		root, ok := unitPaths[in.UnitID]
		if !ok {
			return nil, domain.Invalid("unit_id", "no unit has id %d", in.UnitID)
		}
		within = func(unitID int64) bool { return domain.InSubtree(unitPaths[unitID], root) }
	}
	loc := s.cfg.Location
	from, to := stats.DayStart(in.From, loc), stats.DayStart(in.To.AddDays(1), loc)
	var occ []occurrence
	switch in.Kind {
	case app.ReportLateAcceptance:
		occ, err = s.lateAcceptances(ctx, r, in, today, from, to)
	case app.ReportOverdue:
		occ, err = s.overdueOccurrences(ctx, r, in, today, from, to)
	case app.ReportSendBacks:
		occ, err = s.sendBacks(ctx, r, from, to)
	case app.ReportRefusals:
		occ, err = s.refusals(ctx, r, from, to)
	case app.ReportExtensions:
		occ, err = s.extensionOccurrences(ctx, r, from, to)
	}
	if err != nil {
		return nil, err
	}
	people := map[int64]bool{}
	for _, o := range occ {
		if o.userID != 0 {
			people[o.userID] = true
		}
	}
	ids := make([]int64, 0, len(people))
	for id := range people {
		ids = append(ids, id)
	}
	names, err := r.Stats.People(ctx, ids)
	if err != nil {
		return nil, err
	}
	subject := app.ReportSubjectUser
	switch {
	case in.Kind == app.ReportSendBacks:
		subject = app.ReportSubjectProblem
	case in.Kind == app.ReportExtensions, in.Kind == app.ReportOverdue && in.By == app.ReportSubjectUnit:
		subject = app.ReportSubjectUnit
	}
	rows := map[int64]*app.ReportRow{}
	var order []int64
	for _, o := range occ {
		unitID := o.unitID
		if subject == app.ReportSubjectUser && in.Kind == app.ReportRefusals {
			unitID = names[o.userID].UnitID
		}
		if !within(unitID) {
			continue
		}
		var key int64
		row := app.ReportRow{SubjectType: subject, Details: map[string]int64{}}
		switch subject {
		case app.ReportSubjectUser:
			key, row.SubjectID, row.UnitID = o.userID, o.userID, names[o.userID].UnitID
			row.Name = names[o.userID].Name
			if row.Name == "" && o.userID == 0 {
				row.Name = "(anonymous)"
			}
		case app.ReportSubjectUnit:
			key, row.SubjectID, row.UnitID, row.Name = unitID, unitID, unitID, unitNames[unitID]
		case app.ReportSubjectProblem:
			key, row.SubjectID, row.UnitID = o.problem.ID, o.problem.ID, o.problem.UnitID
			row.Name = strings.TrimSpace(o.problem.Code + " " + o.problem.Title)
		}
		x := rows[key]
		if x == nil {
			x = &row
			rows[key] = x
			order = append(order, key)
		}
		x.Count++
		if o.problem.ID != 0 && !slices.Contains(x.ProblemIDs, o.problem.ID) {
			x.ProblemIDs = append(x.ProblemIDs, o.problem.ID)
		}
		x.Seqs = append(x.Seqs, o.seqs...)
		for k, n := range o.details {
			if strings.HasPrefix(k, "max_") {
				x.Details[k] = max(x.Details[k], n)
			} else {
				x.Details[k] += n
			}
		}
	}
	out := &app.Report{Kind: in.Kind, From: in.From, To: in.To, Rows: []app.ReportRow{}}
	minSendBacks := in.MinCount
	if minSendBacks == 0 {
		minSendBacks = 2 // "repeated": sent back at least twice
	}
	for _, key := range order {
		x := rows[key]
		if in.Kind == app.ReportSendBacks && x.Count < minSendBacks {
			continue
		}
		slices.Sort(x.Seqs)
		x.Seqs = slices.Compact(x.Seqs)
		if len(x.Seqs) > MaxReportSeqs {
			x.Seqs = x.Seqs[:MaxReportSeqs]
		}
		if x.ProblemIDs == nil {
			x.ProblemIDs = []int64{}
		}
		out.Rows = append(out.Rows, *x)
	}
	slices.SortFunc(out.Rows, func(a, b app.ReportRow) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Name, b.Name), cmp.Compare(a.SubjectID, b.SubjectID))
	})
	if len(out.Rows) > MaxReportRows {
		out.Rows, out.Truncated = out.Rows[:MaxReportRows], true
	}
	return out, nil
}

// lateAcceptances: acceptances in the period later than one working day after
// the assignment, and assignments still not accepted whose limit has passed.
func (s *Service) lateAcceptances(ctx context.Context, r app.Repos, in app.ReportInput, today domain.Date, from, to time.Time) ([]occurrence, error) {
	loc := s.cfg.Location
	acceptances, err := r.Stats.Acceptances(ctx, from, to)
	if err != nil {
		return nil, err
	}
	accepts, err := s.judgeAcceptances(ctx, r, acceptances)
	if err != nil {
		return nil, err
	}
	var out []occurrence
	for _, a := range accepts {
		if a.assignedAt.IsZero() {
			continue
		}
		late, days := stats.AcceptedLate(domain.DateOf(a.assignedAt, loc), domain.DateOf(a.At, loc))
		if !late {
			continue
		}
		out = append(out, occurrence{problem: app.ProblemRef{ID: a.ProblemID, UnitID: a.unit}, userID: a.assignee,
			unitID: a.unit, seqs: []int64{a.assignSeq, a.Seq}, details: map[string]int64{"max_days_late": int64(days)}})
	}
	waiting, err := r.Stats.AwaitingAcceptance(ctx, to)
	if err != nil {
		return nil, err
	}
	end := minDate(today, in.To) // a limit has passed once its day is over
	var pendingIDs []int64
	var pending []app.ProblemRef
	for _, p := range waiting {
		if p.AssignedAt == nil {
			continue
		}
		limit := stats.AcceptanceLimit(domain.DateOf(*p.AssignedAt, loc))
		if limit.Before(end) { // still not accepted, however long ago the limit passed
			pending = append(pending, p)
			pendingIDs = append(pendingIDs, p.ID)
		}
	}
	assigns, err := r.Stats.ProblemEntries(ctx, pendingIDs, []string{string(domain.ActionAssign)})
	if err != nil {
		return nil, err
	}
	lastAssign := map[string]int64{}
	for _, e := range assigns {
		lastAssign[e.ObjectID] = e.Seq
	}
	for _, p := range pending {
		limit := stats.AcceptanceLimit(domain.DateOf(*p.AssignedAt, loc))
		o := occurrence{problem: p, userID: p.AssigneeID, unitID: p.UnitID,
			details: map[string]int64{"pending": 1, "max_days_late": int64(limit.DaysUntil(end))}}
		if seq := lastAssign[app.IDString(p.ID)]; seq != 0 {
			o.seqs = []int64{seq}
		}
		out = append(out, o)
	}
	return out, nil
}

func minDate(a, b domain.Date) domain.Date {
	if a.Before(b) {
		return a
	}
	return b
}

// overdueOccurrences: open problems whose deadline passed by the period's end
// (shown by the entry that set the deadline), and problems closed late in the
// period (shown by the closing entry).
func (s *Service) overdueOccurrences(ctx context.Context, r app.Repos, in app.ReportInput, today domain.Date, from, to time.Time) ([]occurrence, error) {
	end := minDate(today, in.To.AddDays(1))
	open, err := r.Stats.Overdue(ctx, end, maxOverdueRefs)
	if err != nil {
		return nil, err
	}
	late, err := r.Stats.ClosedLateBetween(ctx, from, to)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(open)+len(late))
	for _, p := range open {
		ids = append(ids, p.ID)
	}
	for _, p := range late {
		ids = append(ids, p.ID)
	}
	entries, err := r.Stats.ProblemEntries(ctx, ids, []string{string(domain.ActionAssign), string(domain.ActionReopen),
		string(domain.ActionDecideExtension), string(domain.ActionVerifyPass)})
	if err != nil {
		return nil, err
	}
	deadlineSet, closing := map[string]int64{}, map[string]int64{}
	for _, e := range entries {
		switch domain.Action(e.Action) {
		case domain.ActionVerifyPass:
			closing[e.ObjectID] = e.Seq
		case domain.ActionAssign, domain.ActionReopen:
			deadlineSet[e.ObjectID] = e.Seq
		case domain.ActionDecideExtension:
			if changed(e, "deadline") {
				deadlineSet[e.ObjectID] = e.Seq
			}
		}
	}
	var out []occurrence
	for _, p := range open {
		o := occurrence{problem: p, userID: p.AssigneeID, unitID: p.UnitID,
			details: map[string]int64{"overdue_now": 1, "max_days_overdue": int64(p.Deadline.DaysUntil(today))}}
		if seq := deadlineSet[app.IDString(p.ID)]; seq != 0 {
			o.seqs = []int64{seq}
		}
		out = append(out, o)
	}
	for _, p := range late {
		o := occurrence{problem: p, userID: p.AssigneeID, unitID: p.UnitID, details: map[string]int64{"closed_late": 1}}
		if seq := closing[app.IDString(p.ID)]; seq != 0 {
			o.seqs = []int64{seq}
		}
		out = append(out, o)
	}
	return out, nil
}

// changed reports whether an entry's changes name a field.
func changed(e *audit.Entry, field string) bool {
	var ch map[string]json.RawMessage
	if json.Unmarshal([]byte(e.Changes), &ch) != nil {
		return false
	}
	_, ok := ch[field]
	return ok
}

// sendBacks: each send-back (退回) in the period, by problem.
func (s *Service) sendBacks(ctx context.Context, r app.Repos, from, to time.Time) ([]occurrence, error) {
	entries, err := r.Stats.Entries(ctx, app.EntryRangeQuery{Actions: []string{string(domain.ActionVerifyFail)},
		Outcome: audit.OutcomeOK, From: from, To: to})
	if err != nil {
		return nil, err
	}
	refs, err := r.Stats.Problems(ctx, entryProblemIDs(entries))
	if err != nil {
		return nil, err
	}
	var out []occurrence
	for _, e := range entries {
		p, ok := refs[problemID(e)]
		if !ok {
			continue
		}
		out = append(out, occurrence{problem: p, userID: p.AssigneeID, unitID: p.UnitID, seqs: []int64{e.Seq}})
	}
	return out, nil
}

// refusals: each refused attempt in the period, by who attempted it.
func (s *Service) refusals(ctx context.Context, r app.Repos, from, to time.Time) ([]occurrence, error) {
	entries, err := r.Stats.Entries(ctx, app.EntryRangeQuery{Outcome: audit.OutcomeRefused, From: from, To: to})
	if err != nil {
		return nil, err
	}
	out := make([]occurrence, 0, len(entries))
	for _, e := range entries {
		o := occurrence{userID: e.ActorID, seqs: []int64{e.Seq}, details: map[string]int64{e.Action: 1}}
		if e.ObjectType == "problem" {
			o.problem.ID = problemID(e)
		}
		out = append(out, o)
	}
	return out, nil
}

// extensionOccurrences: each extension request and decision in the period, by
// the problem's responsible unit.
func (s *Service) extensionOccurrences(ctx context.Context, r app.Repos, from, to time.Time) ([]occurrence, error) {
	entries, err := r.Stats.Entries(ctx, app.EntryRangeQuery{Actions: []string{string(domain.ActionRequestExtension)},
		Outcome: audit.OutcomeOK, From: from, To: to})
	if err != nil {
		return nil, err
	}
	refs, err := r.Stats.Problems(ctx, entryProblemIDs(entries))
	if err != nil {
		return nil, err
	}
	decisions, err := r.Stats.ProblemEntries(ctx, entryProblemIDs(entries), []string{string(domain.ActionDecideExtension)})
	if err != nil {
		return nil, err
	}
	type decision struct {
		seq      int64
		approved bool
	}
	byExtension := map[int64]decision{}
	for _, e := range decisions {
		var ch struct {
			ExtensionID int64 `json:"extension_id"`
			Approved    bool  `json:"approved"`
		}
		if json.Unmarshal([]byte(e.Changes), &ch) == nil && ch.ExtensionID > 0 {
			byExtension[ch.ExtensionID] = decision{seq: e.Seq, approved: ch.Approved}
		}
	}
	var out []occurrence
	for _, e := range entries {
		p, ok := refs[problemID(e)]
		if !ok {
			continue
		}
		o := occurrence{problem: p, userID: e.ActorID, unitID: p.UnitID, seqs: []int64{e.Seq},
			details: map[string]int64{"requested": 1}}
		var ch struct {
			ExtensionID int64 `json:"extension_id"`
		}
		if json.Unmarshal([]byte(e.Changes), &ch) == nil {
			if d, ok := byExtension[ch.ExtensionID]; ok {
				o.seqs = append(o.seqs, d.seq)
				if d.approved {
					o.details["approved"] = 1
				} else {
					o.details["rejected"] = 1
				}
			} else {
				o.details["pending"] = 1
			}
		}
		out = append(out, o)
	}
	return out, nil
}

func problemID(e *audit.Entry) int64 {
	id, _ := parseID(e.ObjectID)
	return id
}

func entryProblemIDs(entries []*audit.Entry) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, e := range entries {
		if id := problemID(e); id > 0 && e.ObjectType == "problem" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func parseID(s string) (int64, bool) {
	var n int64
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for _, ch := range s {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		n = n*10 + int64(ch-'0')
	}
	return n, n > 0
}
