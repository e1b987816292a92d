package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/ledger"
)

const pageSize = 30

// names resolves the ids a page shows: units and categories are read once
// per page, never once per row.
type names struct {
	units      map[int64]*app.Unit
	categories map[int64]*app.Category
	unitList   []*app.Unit
	catList    []*app.Category
}

func (c *Console) names(q *request) (*names, error) {
	us, err := c.svc.Directory.Units(q.ctx())
	if err != nil {
		return nil, err
	}
	cs, err := c.svc.Directory.Categories(q.ctx())
	if err != nil {
		return nil, err
	}
	n := &names{units: map[int64]*app.Unit{}, categories: map[int64]*app.Category{}}
	for _, u := range us {
		n.units[u.ID] = u
	}
	for _, x := range cs {
		n.categories[x.ID] = x
	}
	n.unitList = slices.Clone(us)
	slices.SortFunc(n.unitList, func(a, b *app.Unit) int { return cmp.Compare(a.Path, b.Path) })
	n.catList = slices.Clone(cs)
	slices.SortFunc(n.catList, func(a, b *app.Category) int { return cmp.Compare(a.Path, b.Path) })
	return n, nil
}

func (n *names) unit(id int64) string {
	if u := n.units[id]; u != nil {
		return u.Name
	}
	return ""
}

func (n *names) category(id int64) string {
	if x := n.categories[id]; x != nil {
		return x.Name
	}
	return ""
}

// option is one choice of a picker; Depth indents a tree.
type option struct {
	ID    int64
	Name  string
	Depth int
}

func depth(path string) int { return max(strings.Count(strings.Trim(path, "/"), "/"), 0) }

func (n *names) unitOptions() []option {
	out := make([]option, len(n.unitList))
	for i, u := range n.unitList {
		out[i] = option{ID: u.ID, Name: strings.Repeat("　", depth(u.Path)) + u.Name, Depth: depth(u.Path)}
	}
	return out
}

func (n *names) categoryOptions() []option {
	out := make([]option, len(n.catList))
	for i, x := range n.catList {
		out[i] = option{ID: x.ID, Name: strings.Repeat("　", depth(x.Path)) + x.Name, Depth: depth(x.Path)}
	}
	return out
}

// row is one problem in a list.
type row struct {
	P        *domain.Problem
	Warning  domain.WarningLevel
	Overdue  bool
	Unit     string
	Category string
}

func (c *Console) rows(ps []*domain.Problem, n *names) []row {
	today, yellow := c.svc.Clock.Today(), c.svc.Clock.Config().Deadlines.YellowDays
	out := make([]row, len(ps))
	for i, p := range ps {
		out[i] = row{P: p, Warning: p.Warning(today, yellow), Overdue: p.Overdue(today), Unit: n.unit(p.UnitID),
			Category: n.category(p.CategoryID)}
	}
	return out
}

// listFilterParams are the list's query parameters: the API's filters, and
// "before" as the cursor.
var listFilterParams = []string{"status", "severity", "source", "warning", "category_id", "unit_id", "assignee_id",
	"overdue", "q", "deadline_from", "deadline_to", "created_from", "created_to"}

// parseFilter reads the list's filters as the API does (app.ParseProblemFilter),
// and the console's page position; bad values are a 400 page.
func parseFilter(v url.Values, loc *time.Location) (app.ProblemFilter, error) {
	f, err := app.ParseProblemFilter(v, loc)
	if err != nil {
		return f, err
	}
	if s := v.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return f, domain.Invalid("before", "must be a positive integer id")
		}
		f.BeforeID = n
	}
	return f, nil
}

type listView struct {
	Rows       []row
	Query      url.Values
	Next       string // the next page's address; "" on the last
	First      string // the first page's address when not on it
	Export     string
	Units      []option
	Categories []option
	Assignees  []option
}

// Q returns a filter's value, Has whether a multi-valued filter holds v.
func (l listView) Q(name string) string { return l.Query.Get(name) }
func (l listView) Has(name, v string) bool {
	return slices.Contains(l.Query[name], v)
}

// filterQuery keeps the list's filters, without the cursor or empty values.
func filterQuery(v url.Values) url.Values {
	out := url.Values{}
	for _, name := range listFilterParams {
		for _, x := range v[name] {
			if x != "" {
				out.Add(name, x)
			}
		}
	}
	return out
}

func (c *Console) list(q *request) {
	v := q.r.URL.Query()
	f, err := parseFilter(v, c.svc.Clock.Config().Location)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	f.Limit = pageSize
	ps, more, err := c.svc.Lifecycle.Problems(q.ctx(), q.caller, f)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	n, err := c.names(q)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	// The assignee filter offers the owners, those problems are assigned to.
	owners, err := c.svc.Directory.Users(q.ctx(), app.UserQuery{Role: domain.RoleOwner, Limit: 200})
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	fq := filterQuery(v)
	view := listView{Rows: c.rows(ps, n), Query: fq, Units: n.unitOptions(), Categories: n.categoryOptions(),
		Export: "/problems/export.xlsx?" + fq.Encode()}
	for _, u := range owners {
		view.Assignees = append(view.Assignees, option{ID: u.ID, Name: u.Name})
	}
	if more && len(ps) > 0 {
		nq := filterQuery(v)
		nq.Set("before", strconv.FormatInt(ps[len(ps)-1].ID, 10))
		view.Next = "/problems?" + nq.Encode()
	}
	if f.BeforeID != 0 {
		view.First = "/problems?" + fq.Encode()
	}
	if q.r.Header.Get("HX-Request") == "true" {
		// The address bar shows the filters that matter, not every empty field.
		push := "/problems"
		if len(fq) > 0 {
			push += "?" + fq.Encode()
		}
		q.w.Header().Set("HX-Push-Url", push)
	}
	c.render(q.w, q.r, http.StatusOK, "list", c.pageFor(q, q.t("list.title"), "problems", view))
}

// export streams the 整改台账 of exactly the list's filters through the ledger use case.
func (c *Console) export(q *request) {
	f, err := parseFilter(q.r.URL.Query(), c.svc.Clock.Config().Location)
	if err == nil && f.BeforeID != 0 {
		err = domain.Invalid("before", "the ledger holds every problem that matches")
	}
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	probe := f
	probe.Limit = 1
	if _, _, err := c.svc.Lifecycle.Problems(q.ctx(), q.caller, probe); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	name := "整改台账-" + c.svc.Clock.Now().Format("20060102-1504") + ".xlsx"
	q.w.Header().Set("Content-Type", ledger.MediaTypeXLSX)
	q.w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w, err := ledger.NewXLSX(q.w)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	_, err = c.svc.Ledger.ExportLedger(q.ctx(), q.caller, f, app.LedgerPageSize, w)
	if err == nil {
		err = w.Close(ledger.Meta{Title: "整改台账", ExportedAt: c.svc.Clock.Now(), ExportedBy: q.user.Name,
			Filter: filterQuery(q.r.URL.Query()).Encode()})
	}
	if err != nil {
		// Rows may have gone out: cut the connection so that the client sees a
		// broken download, not a short one.
		c.log.Error("console: ledger export failed", "err", err, "user_id", q.user.ID)
		panic(http.ErrAbortHandler)
	}
}

type todoView struct {
	Rows []row
}

// todo is the owner's 我的待办: open problems assigned to the caller, red
// first, then yellow, then green, each by deadline.
func (c *Console) todo(q *request) {
	rows, err := c.todoRows(q, 200)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	c.render(q.w, q.r, http.StatusOK, "todo", c.pageFor(q, q.t("todo.title"), "todo", todoView{Rows: rows}))
}

func (c *Console) todoRows(q *request, limit int) ([]row, error) {
	f := app.ProblemFilter{AssigneeID: q.user.ID, Limit: limit,
		Statuses: []domain.Status{domain.StatusAssigned, domain.StatusRectifying}}
	ps, _, err := c.svc.Lifecycle.Problems(q.ctx(), q.caller, f)
	if err != nil {
		return nil, err
	}
	n, err := c.names(q)
	if err != nil {
		return nil, err
	}
	rows := c.rows(ps, n)
	rank := map[domain.WarningLevel]int{domain.WarningRed: 0, domain.WarningYellow: 1, domain.WarningGreen: 2, domain.WarningNone: 3}
	slices.SortStableFunc(rows, func(a, b row) int {
		if d := cmp.Compare(rank[a.Warning], rank[b.Warning]); d != 0 {
			return d
		}
		return cmp.Compare(a.P.Deadline.String(), b.P.Deadline.String())
	})
	return rows, nil
}

type homeView struct {
	Rechecks []*app.Recheck
	Todo     []row
	ToAssign []row
	ToVerify []row
	Mine     []row
}

// home shows each of the caller's roles its work.
func (c *Console) home(q *request) {
	var view homeView
	a := q.caller.Actor
	n, err := c.names(q)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	queue := func(f app.ProblemFilter) []row {
		f.Limit = 10
		ps, _, err := c.svc.Lifecycle.Problems(q.ctx(), q.caller, f)
		if err != nil {
			c.log.Warn("console: home queue", "err", err)
			return nil
		}
		return c.rows(ps, n)
	}
	if a.Has(domain.RoleOwner) {
		if view.Todo, err = c.todoRows(q, 200); err != nil {
			c.fail(q.w, q.r, q.lang, q, err)
			return
		}
		if len(view.Todo) > 10 {
			view.Todo = view.Todo[:10]
		}
	}
	if a.Has(domain.RoleVerifier) {
		view.ToAssign = queue(app.ProblemFilter{Statuses: []domain.Status{domain.StatusRegistered}})
		view.ToVerify = queue(app.ProblemFilter{Statuses: []domain.Status{domain.StatusSubmitted}})
		view.Rechecks = c.dueRechecks(q)
	}
	if a.Has(domain.RoleInspector) {
		ps, _, err := c.svc.Lifecycle.Problems(q.ctx(), q.caller, app.ProblemFilter{Limit: 50})
		if err == nil {
			for _, p := range ps {
				if p.CreatedBy == q.user.ID && len(view.Mine) < 10 {
					view.Mine = append(view.Mine, c.rows([]*domain.Problem{p}, n)[0])
				}
			}
		}
	}
	c.render(q.w, q.r, http.StatusOK, "home", c.pageFor(q, q.t("home.title"), "home", view))
}

// formState is one form as it was sent, with the reasons it was refused.
type formState struct {
	Values  url.Values
	Errors  map[string]string
	General []string
}

// V is what was typed in a field; E the reason it was refused.
func (f *formState) V(name string) string { return f.Values.Get(name) }
func (f *formState) VS(name string) []string {
	return f.Values[name]
}
func (f *formState) E(name string) string { return f.Errors[name] }
func (f *formState) Sent() bool           { return f.Values != nil }

// refusedForm maps a use case's refusal onto the form's fields, in lang.
func refusedForm(lang string, v url.Values, err error, known ...string) *formState {
	fs := &formState{Values: v, Errors: map[string]string{}}
	var (
		val    *domain.ValidationError
		unsupp *domain.UnsupportedTypeError
	)
	field := func(name string) string {
		switch {
		case name == "attachment_ids" || name == "file":
			return "files"
		case strings.HasPrefix(name, "milestones"):
			return "milestones"
		}
		return name
	}
	add := func(name, reason string) {
		label := fieldLabel(lang, name)
		name = field(name)
		reason = reasonText(lang, reason)
		if slices.Contains(known, name) {
			if fs.Errors[name] != "" {
				reason = fs.Errors[name] + translate(lang, "why.list_sep") + reason
			}
			fs.Errors[name] = reason
			return
		}
		fs.General = append(fs.General, label+translate(lang, "why.field_sep")+reason)
	}
	switch {
	case errors.As(err, &val):
		for _, x := range val.Fields {
			add(x.Field, x.Reason)
		}
	case errors.As(err, &unsupp):
		add(unsupp.Field, unsupp.Reason)
	default:
		fs.General = append(fs.General, errorText(lang, err))
	}
	return fs
}

// refusal reports whether err is a refusal a form shows beside its fields.
func refusal(err error) bool {
	var (
		val    *domain.ValidationError
		unsupp *domain.UnsupportedTypeError
		forb   *domain.ForbiddenError
	)
	return errors.As(err, &val) || errors.As(err, &unsupp) || errors.As(err, &forb)
}

// lost reports whether an action lost to someone else's: the version moved
// or the state no longer allows it.
func lost(err error) bool {
	var inv *domain.InvalidTransitionError
	return errors.Is(err, domain.ErrPreconditionFailed) || errors.Is(err, domain.ErrConflict) || errors.As(err, &inv)
}

func pathID(q *request, name string) (int64, bool) {
	id, err := strconv.ParseInt(q.r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// historyItem is one line of the timeline, read from the audit trail.
type historyItem struct {
	At      any
	Actor   string
	Action  string
	From    domain.Status
	To      domain.Status
	Note    string
	Refused bool
}

type commentView struct {
	Author string
	At     any
	Text   string
}

type problemView struct {
	P          *domain.Problem
	Warning    domain.WarningLevel
	Overdue    bool
	Unit       string
	Category   string
	Assignee   string
	Images     []*app.ProblemAttachment
	Files      []*app.ProblemAttachment
	Submitted  []*app.ProblemAttachment // the latest submit's evidence, shown beside the verify form
	Extensions []*domain.Extension
	Pending    *domain.Extension
	Comments   []commentView
	History    []historyItem
	Actions    []domain.Action
	Owners     []*app.User
	Deadline   string // the default deadline of an assignment
	Today      string
	Conflict   string
	Forms      map[string]*formState
	Recheck    *app.Recheck // the 回头看 due now, for the working group to record
}

// Can reports whether the viewer may take an action now (the domain's table).
func (v *problemView) Can(a string) bool { return slices.Contains(v.Actions, domain.Action(a)) }

// F is the state of an action's form.
func (v *problemView) F(action string) *formState {
	if f := v.Forms[action]; f != nil {
		return f
	}
	return &formState{Errors: map[string]string{}}
}

// OpenMilestones are those the owner may tick off.
func (v *problemView) OpenMilestones() []domain.Milestone {
	var out []domain.Milestone
	for _, m := range v.P.Milestones {
		if !m.Done {
			out = append(out, m)
		}
	}
	return out
}

func (c *Console) problem(q *request) {
	id, ok := pathID(q, "id")
	if !ok {
		c.errorPage(q.w, q.r, q, http.StatusNotFound, "err.404")
		return
	}
	c.showProblem(q, id, http.StatusOK, nil, "")
}

// showProblem renders a problem page; forms carries a refused form, conflict
// the message of an action that lost.
func (c *Console) showProblem(q *request, id int64, status int, forms map[string]*formState, conflict string) {
	ctx := q.ctx()
	p, err := c.svc.Lifecycle.Problem(ctx, q.caller, id)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	n, err := c.names(q)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	today, cfg := c.svc.Clock.Today(), c.svc.Clock.Config()
	v := &problemView{P: p, Warning: p.Warning(today, cfg.Deadlines.YellowDays), Overdue: p.Overdue(today),
		Unit: n.unit(p.UnitID), Category: n.category(p.CategoryID), Actions: p.AvailableActions(q.caller.Actor),
		Forms: forms, Conflict: conflict, Today: today.String(),
		Deadline: cfg.Deadlines.DefaultDeadline(p.Severity, today).String()}
	people := map[int64]string{}
	person := func(uid int64) string {
		if uid == 0 {
			return ""
		}
		if s, ok := people[uid]; ok {
			return s
		}
		u, err := c.svc.Directory.User(ctx, uid)
		if err != nil {
			people[uid] = "#" + strconv.FormatInt(uid, 10)
		} else {
			people[uid] = u.Name
		}
		return people[uid]
	}
	v.Assignee = person(p.AssigneeID)
	atts, err := c.svc.Evidence.ProblemAttachments(ctx, q.caller, id)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	for _, a := range atts {
		if strings.HasPrefix(a.ContentType, "image/") {
			v.Images = append(v.Images, a)
		} else {
			v.Files = append(v.Files, a)
		}
	}
	if p.SubmittedAt != nil {
		for _, a := range atts {
			if a.Action == domain.ActionSubmit && !a.AttachedAt.Before(*p.SubmittedAt) {
				v.Submitted = append(v.Submitted, a)
			}
		}
	}
	if v.Extensions, err = c.svc.Lifecycle.Extensions(ctx, q.caller, id); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	for _, e := range v.Extensions {
		if e.Status == domain.ExtensionPending {
			v.Pending = e
		}
	}
	cs, err := c.svc.Lifecycle.Comments(ctx, q.caller, id)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	for _, x := range cs {
		v.Comments = append(v.Comments, commentView{Author: person(x.AuthorID), At: x.CreatedAt, Text: x.Text})
	}
	entries, err := c.svc.Lifecycle.History(ctx, q.caller, id, 0, 200)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	for _, e := range entries {
		v.History = append(v.History, c.historyItem(q, e))
	}
	if p.Status == domain.StatusClosed && q.caller.Actor.Has(domain.RoleVerifier) {
		rs, _, err := c.svc.Rechecks.Rechecks(ctx, q.caller, app.RecheckFilter{ProblemID: id, DueBy: today,
			Statuses: []app.RecheckStatus{app.RecheckPending}, Limit: 1})
		if err != nil {
			c.fail(q.w, q.r, q.lang, q, err)
			return
		}
		if len(rs) > 0 {
			v.Recheck = rs[0]
		}
	}
	if v.Can(string(domain.ActionAssign)) {
		// The assignee picker offers the owners of the problem's unit tree.
		v.Owners, err = c.svc.Directory.Users(ctx, app.UserQuery{Role: domain.RoleOwner, UnitPath: p.UnitPath, Limit: 200})
		if err != nil {
			c.fail(q.w, q.r, q.lang, q, err)
			return
		}
	}
	pg := c.pageFor(q, p.Code+" "+p.Title, "problems", v)
	c.render(q.w, q.r, status, "problem", pg)
}

func (c *Console) historyItem(q *request, e *audit.Entry) historyItem {
	h := historyItem{At: e.At, Actor: e.ActorName, Action: e.Action, From: domain.Status(e.FromState),
		To: domain.Status(e.ToState), Refused: e.Outcome == audit.OutcomeRefused}
	if _, ok := catalogue["act."+e.Action]; ok {
		h.Action = q.t("act." + e.Action)
	}
	var ch map[string]any
	if json.Unmarshal([]byte(e.Changes), &ch) == nil {
		for _, k := range []string{"note", "reason", "text"} {
			if s, ok := ch[k].(string); ok && s != "" {
				h.Note = s
				break
			}
		}
	}
	if h.Refused && e.Reason != "" {
		h.Note = recordedReasonText(q.lang, e.Reason)
	}
	return h
}

// act runs one lifecycle action from its form; a refusal shows the form
// again with what was typed, a lost race the current state.
func (c *Console) act(q *request) {
	id, ok := pathID(q, "id")
	if !ok {
		c.errorPage(q.w, q.r, q, http.StatusNotFound, "err.404")
		return
	}
	action := q.r.PathValue("action")
	if err := c.parseForm(q); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	form := q.r.PostForm
	version, _ := strconv.ParseInt(form.Get("version"), 10, 64)
	ctx, cl := q.ctx(), q.caller
	note := strings.TrimSpace(form.Get("note"))
	var (
		err    error
		known  []string
		formID = action
	)
	switch action {
	case "assign":
		known = []string{"assignee_id", "deadline", "measures", "milestones"}
		var in app.AssignInput
		in.AssigneeID, _ = strconv.ParseInt(form.Get("assignee_id"), 10, 64)
		in.Measures = form.Get("measures")
		if in.Deadline, err = optionalDate("deadline", form.Get("deadline")); err == nil {
			in.Milestones, err = milestones(form)
		}
		if err == nil {
			_, err = c.svc.Lifecycle.Assign(ctx, cl, id, version, in)
		}
	case "accept":
		known = []string{"note"}
		_, err = c.svc.Lifecycle.Accept(ctx, cl, id, version, note)
	case "urge":
		known = []string{"note"}
		_, err = c.svc.Lifecycle.Urge(ctx, cl, id, version, note)
	case "progress":
		known = []string{"note", "percent", "milestone_ids", "files"}
		in := app.ProgressInput{Note: note}
		if s := strings.TrimSpace(form.Get("percent")); s != "" {
			n, perr := strconv.Atoi(s)
			if perr != nil {
				err = domain.Invalid("percent", "must be a whole number from 0 to 100")
			}
			in.Percent = &n
		}
		for _, s := range form["milestone_ids"] {
			if n, perr := strconv.ParseInt(s, 10, 64); perr == nil {
				in.MilestoneIDs = append(in.MilestoneIDs, n)
			}
		}
		if err == nil {
			in.AttachmentIDs, err = c.uploads(q, "files")
		}
		if err == nil {
			_, err = c.svc.Lifecycle.ReportProgress(ctx, cl, id, version, in)
		}
	case "submit":
		known = []string{"note", "files"}
		in := app.SubmitInput{Note: note}
		if in.AttachmentIDs, err = c.uploads(q, "files"); err == nil {
			_, err = c.svc.Lifecycle.SubmitFix(ctx, cl, id, version, in)
		}
	case "verify":
		known = []string{"note"}
		_, err = c.svc.Lifecycle.Verify(ctx, cl, id, version, form.Get("passed") == "true", note)
		if form.Get("passed") == "true" {
			action = "verify_pass"
		} else {
			action = "verify_fail"
		}
	case "dismiss":
		known = []string{"reason"}
		_, err = c.svc.Lifecycle.Dismiss(ctx, cl, id, version, strings.TrimSpace(form.Get("reason")))
	case "reopen":
		known = []string{"reason", "deadline"}
		var d domain.Date
		if d, err = optionalDate("deadline", form.Get("deadline")); err == nil {
			_, err = c.svc.Lifecycle.Reopen(ctx, cl, id, version, strings.TrimSpace(form.Get("reason")), d)
		}
	case "request_extension":
		known = []string{"deadline", "reason"}
		var d domain.Date
		if d, err = optionalDate("deadline", form.Get("deadline")); err == nil {
			_, err = c.svc.Lifecycle.RequestExtension(ctx, cl, id, version, d, strings.TrimSpace(form.Get("reason")))
		}
	case "decide_extension":
		known = []string{"note"}
		eid, _ := strconv.ParseInt(form.Get("extension_id"), 10, 64)
		_, err = c.svc.Lifecycle.DecideExtension(ctx, cl, id, version, eid, form.Get("approved") == "true", note)
	case "recheck":
		known = []string{"result", "note", "deadline", "files"}
		in := app.RecheckInput{Result: form.Get("result"), Note: note}
		rid, _ := strconv.ParseInt(form.Get("recheck_id"), 10, 64)
		if in.Deadline, err = optionalDate("deadline", form.Get("deadline")); err == nil {
			in.AttachmentIDs, err = c.uploads(q, "files")
		}
		if err == nil {
			_, err = c.svc.Rechecks.RecordRecheck(ctx, cl, rid, in)
		}
	case "comment":
		known = []string{"text"}
		_, err = c.svc.Lifecycle.Comment(ctx, cl, id, form.Get("text"))
	default:
		c.errorPage(q.w, q.r, q, http.StatusNotFound, "err.404")
		return
	}
	switch {
	case err == nil:
		http.Redirect(q.w, q.r, fmt.Sprintf("/problems/%d?done=%s", id, action), http.StatusSeeOther)
	case lost(err):
		c.log.Info("console: action lost", "problem_id", id, "action", action, "err", err)
		p, perr := c.svc.Lifecycle.Problem(ctx, cl, id)
		if perr != nil {
			c.fail(q.w, q.r, q.lang, q, perr)
			return
		}
		c.showProblem(q, id, http.StatusConflict, nil, q.t("p.conflict", statusLabel(q.lang, p.Status)))
	case refusal(err):
		status := http.StatusBadRequest
		if errors.Is(err, domain.ErrForbidden) {
			status = http.StatusForbidden
		}
		c.showProblem(q, id, status, map[string]*formState{formID: refusedForm(q.lang, form, err, known...)}, "")
	default:
		c.fail(q.w, q.r, q.lang, q, err)
	}
}

func optionalDate(field, s string) (domain.Date, error) {
	if s = strings.TrimSpace(s); s == "" {
		return domain.Date{}, nil
	}
	d, err := domain.ParseDate(s)
	if err != nil {
		return d, domain.Invalid(field, "must be a date YYYY-MM-DD")
	}
	return d, nil
}

// milestones reads assign's plan: rows of due date and title, blank rows left out.
func milestones(form url.Values) ([]domain.MilestonePlan, error) {
	dues, titles := form["milestone_due"], form["milestone_title"]
	var plan []domain.MilestonePlan
	for i := range max(len(dues), len(titles)) {
		var due, title string
		if i < len(dues) {
			due = strings.TrimSpace(dues[i])
		}
		if i < len(titles) {
			title = strings.TrimSpace(titles[i])
		}
		if due == "" && title == "" {
			continue
		}
		m := domain.MilestonePlan{Title: title}
		if due != "" {
			d, err := domain.ParseDate(due)
			if err != nil {
				return nil, domain.Invalid(fmt.Sprintf("milestones[%d].due", len(plan)), "must be a date YYYY-MM-DD")
			}
			m.Due = d
		}
		plan = append(plan, m)
	}
	return plan, nil
}

// uploads stores a form's files through the attachment use case and returns their ids.
func (c *Console) uploads(q *request, field string) ([]int64, error) {
	if q.r.MultipartForm == nil {
		return nil, nil
	}
	var ids []int64
	for _, fh := range q.r.MultipartForm.File[field] {
		if fh.Size == 0 && fh.Filename == "" {
			continue
		}
		if fh.Size > c.opt.MaxUploadBytes {
			return nil, domain.Invalid("file", "%s is larger than %d MiB", fh.Filename, c.opt.MaxUploadBytes>>20)
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		a, err := c.svc.Evidence.Upload(q.ctx(), q.caller, fh.Filename, f)
		_ = f.Close()
		if err != nil {
			return nil, err
		}
		ids = append(ids, a.ID)
	}
	return ids, nil
}

// attachment serves a file the caller may see, by the same scope as the API.
func (c *Console) attachment(q *request) {
	id, ok := pathID(q, "id")
	if !ok {
		c.errorPage(q.w, q.r, q, http.StatusNotFound, "err.404")
		return
	}
	a, content, err := c.svc.Evidence.OpenAttachment(q.ctx(), q.caller, id)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	defer func() { _ = content.Close() }() // read only: nothing to lose
	disposition := "attachment"
	if strings.HasPrefix(a.ContentType, "image/") && q.r.URL.Query().Get("download") == "" {
		disposition = "inline"
	}
	h := q.w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": a.Name}))
	h.Set("Cache-Control", "private, max-age=3600")
	// An uploaded file never runs as a page of this site.
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox")
	http.ServeContent(q.w, q.r, "", a.CreatedAt, content)
}
