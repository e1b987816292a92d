package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

// Board is the 作风看板 and the monthly evaluation.
type Board interface {
	Overview(ctx context.Context, c app.Caller, in app.BoardInput) (*app.Overview, error)
	Trend(ctx context.Context, c app.Caller, in app.TrendInput) ([]app.TrendPeriod, error)
	Evaluation(ctx context.Context, c app.Caller, month stats.Month, level app.EvaluationLevel) (*app.Evaluation, error)
	PublishEvaluation(ctx context.Context, c app.Caller, month stats.Month) (*app.Publication, error)
}

// AuditTrail is the trail's list and its verification.
type AuditTrail interface {
	Audit(ctx context.Context, c app.Caller, q app.AuditQuery) ([]*audit.Entry, error)
	VerifyAudit(ctx context.Context, c app.Caller) (*app.VerifyResult, error)
}

// boardCSP is the console's policy, with style attributes allowed: the chart
// library styles its tooltips inline. Scripts stay as strict as everywhere.
const boardCSP = "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; " +
	"img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// boardData is what the charts draw, in the page's language.
type boardData struct {
	Labels   map[string]string `json:"labels"`
	Status   []namedValue      `json:"status"`
	Warning  []namedValue      `json:"warning"`
	Units    []nodeValue       `json:"units"`
	Category []nodeValue       `json:"categories"`
	Trend    []trendValue      `json:"trend"`
}

type namedValue struct {
	Key   string `json:"key"`
	Name  string `json:"name"`
	Value int64  `json:"value"`
}

type nodeValue struct {
	Name    string   `json:"name"`
	Total   int64    `json:"total"`
	Closed  int64    `json:"closed"`
	Overdue int64    `json:"overdue"`
	Rate    *float64 `json:"rate"`
}

type trendValue struct {
	Label      string `json:"label"`
	Registered int64  `json:"registered"`
	Closed     int64  `json:"closed"`
	Backlog    int64  `json:"backlog"`
}

type boardView struct {
	O    *app.Overview
	Data string // boardData as JSON, read by board.js from a data attribute
	Wall bool
}

// Pct shows a rate as a percentage.
func (boardView) Pct(r *float64) string {
	if r == nil {
		return "—"
	}
	return strconv.FormatFloat(*r*100, 'f', 1, 64) + "%"
}

func (c *Console) boardFigures(q *request) (*app.Overview, *boardData, error) {
	o, err := c.svc.Board.Overview(q.ctx(), q.caller, app.BoardInput{})
	if err != nil {
		return nil, nil, err
	}
	tr, err := c.svc.Board.Trend(q.ctx(), q.caller, app.TrendInput{By: stats.ByMonth})
	if err != nil {
		return nil, nil, err
	}
	d := &boardData{Labels: map[string]string{}}
	for _, k := range []string{"b.status", "b.warning", "b.units", "b.categories", "b.trend", "b.total", "b.closed",
		"b.overdue", "b.registered", "b.backlog", "b.rate"} {
		d.Labels[k] = q.t(k)
	}
	for _, s := range domain.Statuses() {
		d.Status = append(d.Status, namedValue{Key: string(s), Name: statusLabel(q.lang, s), Value: o.ByStatus[s]})
	}
	d.Warning = []namedValue{{"red", q.t("warn.red"), o.Warning.Red}, {"yellow", q.t("warn.yellow"), o.Warning.Yellow},
		{"green", q.t("warn.green"), o.Warning.Green}}
	for _, n := range o.ByUnit {
		d.Units = append(d.Units, nodeValue{Name: n.Name, Total: n.Total, Closed: n.Closed, Overdue: n.Overdue, Rate: n.ClosureRate})
	}
	for _, n := range o.ByCategory {
		d.Category = append(d.Category, nodeValue{Name: n.Name, Total: n.Total, Closed: n.Closed, Overdue: n.Overdue, Rate: n.ClosureRate})
	}
	for _, p := range tr {
		d.Trend = append(d.Trend, trendValue{Label: p.Label, Registered: p.Registered, Closed: p.Closed, Backlog: p.Backlog})
	}
	return o, d, nil
}

// board is the 作风看板; ?wall=1 is the full-screen wall that refreshes itself.
func (c *Console) board(q *request) {
	o, d, err := c.boardFigures(q)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	b, _ := json.Marshal(d)
	q.w.Header().Set("Content-Security-Policy", boardCSP)
	view := boardView{O: o, Data: string(b), Wall: q.r.URL.Query().Get("wall") != ""}
	c.render(q.w, q.r, http.StatusOK, "board", c.pageFor(q, q.t("b.title"), "board", view))
}

// boardJSON is the wall's refresh: the same figures as the page.
func (c *Console) boardJSON(q *request) {
	o, d, err := c.boardFigures(q)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	v := boardView{}
	q.w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(q.w).Encode(map[string]any{"charts": d, "kpi": map[string]any{
		"total": o.Total, "overdue": o.Overdue, "closure": v.Pct(o.ClosureRate), "on_time": v.Pct(o.OnTimeRate),
		"red": o.Warning.Red, "yellow": o.Warning.Yellow, "green": o.Warning.Green, "as_of": o.AsOf.String()}})
}

type evaluationView struct {
	E          *app.Evaluation
	Month      string
	Level      string
	CanPublish bool
}

// Pct shows a rate as a percentage.
func (evaluationView) Pct(r *float64) string { return boardView{}.Pct(r) }

func (c *Console) evaluation(q *request) {
	m := stats.MonthOf(c.svc.Clock.Today()).Prev()
	if s := q.r.URL.Query().Get("month"); s != "" {
		var err error
		if m, err = stats.ParseMonth(s); err != nil {
			c.fail(q.w, q.r, q.lang, q, domain.Invalid("month", "must be YYYY-MM"))
			return
		}
	}
	level := app.EvaluationLevel(q.r.URL.Query().Get("level"))
	if level != app.LevelUnit {
		level = app.LevelPerson
	}
	e, err := c.svc.Board.Evaluation(q.ctx(), q.caller, m, level)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	view := evaluationView{E: e, Month: m.String(), Level: string(level),
		CanPublish: !e.Published && q.caller.Actor.HasAny(domain.RoleLeader, domain.RoleAdmin)}
	c.render(q.w, q.r, http.StatusOK, "evaluation", c.pageFor(q, q.t("ev.title"), "evaluation", view))
}

func (c *Console) publishEvaluation(q *request) {
	if err := c.parseForm(q); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	m, err := stats.ParseMonth(q.r.PostFormValue("month"))
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, domain.Invalid("month", "must be YYYY-MM"))
		return
	}
	if _, err := c.svc.Board.PublishEvaluation(q.ctx(), q.caller, m); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	http.Redirect(q.w, q.r, "/evaluation?month="+m.String()+"&done=publish", http.StatusSeeOther)
}

type auditView struct {
	Entries     []*audit.Entry
	Verify      *app.VerifyResult
	Next        string
	Query       url.Values
	Actions     []string
	ObjectTypes []string
	Outcomes    []string
}

// Q is a filter's value.
func (v auditView) Q(name string) string { return v.Query.Get(name) }

// auditFilterParams are the API's filters of the trail, as the page's form names them.
var auditFilterParams = []string{"action", "outcome", "object_type", "object_id", "from", "to"}

// auditQuery reads the trail's filters as the API does: known values only,
// dates in the organisation's zone (to: to the end of its day).
func auditQuery(v url.Values, loc *time.Location) (app.AuditQuery, error) {
	q := app.AuditQuery{Action: v.Get("action"), Outcome: v.Get("outcome"), ObjectType: v.Get("object_type"),
		ObjectID: strings.TrimSpace(v.Get("object_id"))}
	var val domain.Validator
	val.Check(q.Action == "" || slices.Contains(app.AuditActions(), q.Action), "action", "must be one of %s", strings.Join(app.AuditActions(), ", "))
	val.Check(q.Outcome == "" || slices.Contains(app.AuditOutcomes(), q.Outcome), "outcome", "must be one of %s", strings.Join(app.AuditOutcomes(), ", "))
	val.Check(q.ObjectType == "" || slices.Contains(app.AuditObjectTypes(), q.ObjectType), "object_type", "must be one of %s", strings.Join(app.AuditObjectTypes(), ", "))
	val.Text("object_id", q.ObjectID, false, 64)
	for name, dst := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if s := v.Get(name); s != "" {
			t, err := time.ParseInLocation(time.DateOnly, s, loc)
			if err != nil {
				val.Add(name, "must be a date YYYY-MM-DD")
				continue
			}
			if name == "to" {
				t = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
			}
			*dst = t
		}
	}
	if s := v.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		val.Check(err == nil && n > 0, "before", "must be a positive integer id")
		q.BeforeSeq = n
	}
	return q, val.Err()
}

// auditTrail lists the trail, newest first, with the API's filters; ?verify=1 checks it (校验).
func (c *Console) auditTrail(q *request) {
	v := q.r.URL.Query()
	aq, err := auditQuery(v, c.svc.Clock.Config().Location)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	aq.Limit = 50
	es, err := c.svc.AuditTrail.Audit(q.ctx(), q.caller, aq)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	fq := url.Values{}
	for _, name := range auditFilterParams {
		if x := v.Get(name); x != "" {
			fq.Set(name, x)
		}
	}
	view := auditView{Entries: es, Query: fq, Actions: app.AuditActions(), ObjectTypes: app.AuditObjectTypes(),
		Outcomes: app.AuditOutcomes()}
	if len(es) == 50 {
		nq := url.Values{}
		for k, x := range fq {
			nq[k] = x
		}
		nq.Set("before", strconv.FormatInt(es[len(es)-1].Seq, 10))
		view.Next = "/audit?" + nq.Encode()
	}
	if v.Get("verify") != "" {
		if view.Verify, err = c.svc.AuditTrail.VerifyAudit(q.ctx(), q.caller); err != nil {
			c.fail(q.w, q.r, q.lang, q, err)
			return
		}
	}
	c.render(q.w, q.r, http.StatusOK, "audit", c.pageFor(q, q.t("au.title"), "audit", view))
}
