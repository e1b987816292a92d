package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

// Notices are the 通报, the discipline reports they may be drawn from, and
// contribution points.
type Notices interface {
	DraftNotice(ctx context.Context, c app.Caller, in app.NoticeInput) (*app.Notice, error)
	EditNotice(ctx context.Context, c app.Caller, id, ifMatch int64, p app.NoticePatch) (*app.Notice, error)
	PublishNotice(ctx context.Context, c app.Caller, id, ifMatch int64) (*app.Notice, error)
	Notices(ctx context.Context, c app.Caller, q app.NoticeQuery) ([]*app.Notice, error)
	Report(ctx context.Context, c app.Caller, in app.ReportInput) (*app.Report, error)
	AwardContribution(ctx context.Context, c app.Caller, in app.ContributionInput) (*app.Contribution, error)
	Contributions(ctx context.Context, c app.Caller, q app.ContributionQuery) ([]*app.Contribution, error)
}

var reportKinds = []app.ReportKind{app.ReportLateAcceptance, app.ReportOverdue, app.ReportSendBacks, app.ReportRefusals, app.ReportExtensions}

type noticesView struct {
	Notices    []*app.Notice
	Forms      map[string]*formState
	Kinds      []app.ReportKind
	Month      string
	CanDraft   bool
	CanPublish bool
}

func (v *noticesView) F(name string) *formState {
	if f := v.Forms[name]; f != nil {
		return f
	}
	return &formState{Errors: map[string]string{}}
}

func (c *Console) noticesPage(q *request) { c.showNotices(q, http.StatusOK, nil) }

func (c *Console) showNotices(q *request, status int, forms map[string]*formState) {
	ns, err := c.svc.Notices.Notices(q.ctx(), q.caller, app.NoticeQuery{Limit: 50})
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	v := &noticesView{Notices: ns, Forms: forms, Kinds: reportKinds, Month: stats.MonthOf(c.svc.Clock.Today()).Prev().String(),
		CanDraft: q.caller.Actor.Has(domain.RoleVerifier), CanPublish: q.caller.Actor.Has(domain.RoleLeader)}
	c.render(q.w, q.r, status, "notices", c.pageFor(q, q.t("no.title"), "notices", v))
}

// noticeAct drafts, edits or publishes a 通报.
func (c *Console) noticeAct(q *request) {
	if err := c.parseForm(q); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	form, ctx, cl := q.r.PostForm, q.ctx(), q.caller
	id, _ := strconv.ParseInt(q.r.PathValue("id"), 10, 64)
	version, _ := strconv.ParseInt(form.Get("version"), 10, 64)
	var (
		err   error
		key   = "draft"
		known = []string{"kind", "title", "body", "month", "report"}
	)
	switch q.r.PathValue("what") {
	case "draft":
		in := app.NoticeInput{Kind: app.NoticeKind(form.Get("kind")), Title: form.Get("title"), Body: form.Get("body")}
		switch form.Get("from") {
		case "evaluation":
			m, perr := stats.ParseMonth(form.Get("month"))
			if perr != nil {
				err = domain.Invalid("month", "must be YYYY-MM")
			}
			in.Evaluation = &app.NoticeEvaluation{Month: m, Level: app.LevelPerson}
		case "report":
			in.Report = &app.ReportInput{Kind: app.ReportKind(form.Get("report"))}
		}
		if err == nil {
			_, err = c.svc.Notices.DraftNotice(ctx, cl, in)
		}
	case "edit":
		key = "notice-" + strconv.FormatInt(id, 10)
		title, body := form.Get("title"), form.Get("body")
		_, err = c.svc.Notices.EditNotice(ctx, cl, id, version, app.NoticePatch{Title: &title, Body: &body})
	case "publish":
		key = "notice-" + strconv.FormatInt(id, 10)
		_, err = c.svc.Notices.PublishNotice(ctx, cl, id, version)
	default:
		c.errorPage(q.w, q.r, q, http.StatusNotFound, "err.404")
		return
	}
	switch {
	case err == nil:
		http.Redirect(q.w, q.r, "/notices?done=notice", http.StatusSeeOther)
	case refusal(err) || lost(err):
		status := http.StatusBadRequest
		if lost(err) {
			status = http.StatusConflict
		}
		c.showNotices(q, status, map[string]*formState{key: refusedForm(q.lang, form, err, known...)})
	default:
		c.fail(q.w, q.r, q.lang, q, err)
	}
}

type reportView struct {
	Kinds  []app.ReportKind
	Kind   string
	From   string
	To     string
	Report *app.Report
}

// report shows a discipline report (签收超时, 超期, 多次退回, ...).
func (c *Console) report(q *request) {
	v := q.r.URL.Query()
	view := reportView{Kinds: reportKinds, Kind: v.Get("kind"), From: v.Get("from"), To: v.Get("to")}
	if view.Kind == "" {
		view.Kind = string(app.ReportOverdue)
	}
	in := app.ReportInput{Kind: app.ReportKind(view.Kind)}
	var err error
	if in.From, err = optionalDate("from", view.From); err == nil {
		in.To, err = optionalDate("to", view.To)
	}
	if err == nil {
		view.Report, err = c.svc.Notices.Report(q.ctx(), q.caller, in)
	}
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	c.render(q.w, q.r, http.StatusOK, "report", c.pageFor(q, q.t("rp.title"), "reports", view))
}

type contributionsView struct {
	Month  string
	Items  []*app.Contribution
	People []*app.User
	Names  map[int64]string
	Form   *formState
}

func (c *Console) contributionsPage(q *request) { c.showContributions(q, http.StatusOK, nil) }

func (c *Console) showContributions(q *request, status int, form *formState) {
	month := stats.MonthOf(c.svc.Clock.Today()).String()
	items, err := c.svc.Notices.Contributions(q.ctx(), q.caller, app.ContributionQuery{Month: month, Limit: 100})
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	people, err := c.svc.Directory.Users(q.ctx(), app.UserQuery{Limit: 500})
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	v := contributionsView{Month: month, Items: items, People: people, Names: map[int64]string{}, Form: form}
	for _, u := range people {
		v.Names[u.ID] = u.Name
	}
	if v.Form == nil {
		v.Form = &formState{Errors: map[string]string{}}
	}
	c.render(q.w, q.r, status, "contributions", c.pageFor(q, q.t("co.title"), "contributions", v))
}

func (c *Console) award(q *request) {
	if err := c.parseForm(q); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	form := q.r.PostForm
	points, perr := strconv.Atoi(strings.TrimSpace(form.Get("points")))
	var err error
	if perr != nil {
		err = domain.Invalid("points", "must be a whole number")
	} else {
		_, err = c.svc.Notices.AwardContribution(q.ctx(), q.caller, app.ContributionInput{UserID: formID(form, "user_id"),
			Points: points, Reason: form.Get("reason")})
	}
	switch {
	case err == nil:
		http.Redirect(q.w, q.r, "/contributions?done=award", http.StatusSeeOther)
	case refusal(err):
		c.showContributions(q, http.StatusBadRequest, refusedForm(q.lang, form, err, "user_id", "points", "reason"))
	default:
		c.fail(q.w, q.r, q.lang, q, err)
	}
}
