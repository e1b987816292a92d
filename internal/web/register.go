package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// problemForm is the register and edit form.
type problemForm struct {
	Form       *formState
	Units      []option
	Categories []option
	Action     string
	Edit       bool
	Version    int64
	Code       string
}

var problemFields = []string{"title", "description", "category_id", "unit_id", "severity", "source", "found_at", "files"}

func (c *Console) showProblemForm(q *request, status int, view problemForm) {
	n, err := c.names(q)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	view.Units, view.Categories = n.unitOptions(), n.categoryOptions()
	title := q.t("reg.title")
	if view.Edit {
		title = q.t("edit.title")
	}
	c.render(q.w, q.r, status, "register", c.pageFor(q, title, "register", view))
}

func (c *Console) registerPage(q *request) {
	v := url.Values{"found_at": {c.svc.Clock.Today().String()}, "severity": {string(domain.SeverityGeneral)},
		"source": {string(domain.SourceSpotCheck)}}
	c.showProblemForm(q, http.StatusOK, problemForm{Form: &formState{Values: v, Errors: map[string]string{}}, Action: "/problems"})
}

// readProblemForm decodes the form into the register use case's input.
func readProblemForm(v url.Values) (app.ProblemInput, error) {
	in := app.ProblemInput{Title: strings.TrimSpace(v.Get("title")), Description: strings.TrimSpace(v.Get("description")),
		Severity: domain.Severity(v.Get("severity")), Source: domain.Source(v.Get("source"))}
	var val domain.Validator
	for name, dst := range map[string]*int64{"category_id": &in.CategoryID, "unit_id": &in.UnitID} {
		if s := v.Get(name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			val.Check(err == nil && n > 0, name, "choose one")
			*dst = n
		}
	}
	if s := strings.TrimSpace(v.Get("found_at")); s != "" {
		d, err := domain.ParseDate(s)
		val.Check(err == nil, "found_at", "must be a date YYYY-MM-DD")
		in.FoundAt = d
	}
	return in, val.Err()
}

func (c *Console) register(q *request) {
	if err := c.parseForm(q); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	form := q.r.PostForm
	in, err := readProblemForm(form)
	if err == nil {
		in.AttachmentIDs, err = c.uploads(q, "files")
	}
	var p *domain.Problem
	if err == nil {
		p, err = c.svc.Lifecycle.Register(q.ctx(), q.caller, in)
	}
	if err != nil {
		if !refusal(err) {
			c.fail(q.w, q.r, q.lang, q, err)
			return
		}
		c.showProblemForm(q, http.StatusBadRequest, problemForm{Form: refusedForm(q.lang, form, err, problemFields...), Action: "/problems"})
		return
	}
	http.Redirect(q.w, q.r, fmt.Sprintf("/problems/%d?done=register", p.ID), http.StatusSeeOther)
}

func (c *Console) editPage(q *request) {
	id, ok := pathID(q, "id")
	if !ok {
		c.errorPage(q.w, q.r, q, http.StatusNotFound, "err.404")
		return
	}
	p, err := c.svc.Lifecycle.Problem(q.ctx(), q.caller, id)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	v := url.Values{"title": {p.Title}, "description": {p.Description}, "category_id": {strconv.FormatInt(p.CategoryID, 10)},
		"unit_id": {strconv.FormatInt(p.UnitID, 10)}, "severity": {string(p.Severity)}, "source": {string(p.Source)},
		"found_at": {p.FoundAt.String()}}
	c.showProblemForm(q, http.StatusOK, problemForm{Form: &formState{Values: v, Errors: map[string]string{}},
		Action: fmt.Sprintf("/problems/%d/edit", id), Edit: true, Version: p.Version, Code: p.Code})
}

func (c *Console) edit(q *request) {
	id, ok := pathID(q, "id")
	if !ok {
		c.errorPage(q.w, q.r, q, http.StatusNotFound, "err.404")
		return
	}
	if err := c.parseForm(q); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	form := q.r.PostForm
	version, _ := strconv.ParseInt(form.Get("version"), 10, 64)
	in, err := readProblemForm(form)
	if err == nil {
		patch := app.ProblemPatch{Title: &in.Title, Description: &in.Description, CategoryID: &in.CategoryID,
			UnitID: &in.UnitID, Severity: &in.Severity, Source: &in.Source}
		if !in.FoundAt.IsZero() {
			patch.FoundAt = &in.FoundAt
		}
		_, err = c.svc.Lifecycle.Edit(q.ctx(), q.caller, id, version, patch)
	}
	switch {
	case err == nil:
		http.Redirect(q.w, q.r, fmt.Sprintf("/problems/%d?done=edit", id), http.StatusSeeOther)
	case lost(err):
		p, perr := c.svc.Lifecycle.Problem(q.ctx(), q.caller, id)
		if perr != nil {
			c.fail(q.w, q.r, q.lang, q, perr)
			return
		}
		c.showProblem(q, id, http.StatusConflict, nil, q.t("p.conflict", statusLabel(q.lang, p.Status)))
	case refusal(err):
		c.showProblemForm(q, http.StatusBadRequest, problemForm{Form: refusedForm(q.lang, form, err, problemFields...),
			Action: fmt.Sprintf("/problems/%d/edit", id), Edit: true, Version: version})
	default:
		c.fail(q.w, q.r, q.lang, q, err)
	}
}

type inboxView struct {
	Items []*app.Notification
}

func (c *Console) inbox(q *request) {
	in, err := c.svc.Inbox.Notifications(q.ctx(), q.caller, false, 0, 50)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	c.render(q.w, q.r, http.StatusOK, "inbox", c.pageFor(q, q.t("inbox.title"), "inbox", inboxView{Items: in.Items}))
}

func (c *Console) markRead(q *request) {
	if err := c.parseForm(q); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	var ids []int64
	for _, s := range q.r.PostForm["id"] {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			ids = append(ids, n)
		}
	}
	if _, _, err := c.svc.Inbox.MarkRead(q.ctx(), q.caller, ids); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	http.Redirect(q.w, q.r, "/inbox", http.StatusSeeOther)
}

// openMessage marks one message read and opens its problem, or the inbox
// again when it is about none. The problem page keeps its own scope check,
// so the problem named by the form needs no other.
func (c *Console) openMessage(q *request) {
	id, ok := pathID(q, "id")
	if !ok {
		c.errorPage(q.w, q.r, q, http.StatusNotFound, "err.404")
		return
	}
	if err := c.parseForm(q); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	if _, _, err := c.svc.Inbox.MarkRead(q.ctx(), q.caller, []int64{id}); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	to := "/inbox"
	if pid, err := strconv.ParseInt(q.r.PostForm.Get("problem_id"), 10, 64); err == nil && pid > 0 {
		to = fmt.Sprintf("/problems/%d", pid)
	}
	http.Redirect(q.w, q.r, to, http.StatusSeeOther)
}

// badge is the unread count alone, which the layout polls.
func (c *Console) badge(q *request) {
	in, err := c.svc.Inbox.Notifications(q.ctx(), q.caller, true, 0, 1)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = c.pages["inbox"].ExecuteTemplate(q.w, "unread", in.Unread)
}
