package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

// page is what the layout renders around a page's content.
type page struct {
	lang   string
	loc    *time.Location
	User   *userView
	CSRF   string
	Title  string
	Unread int64
	Flash  string
	Error  string
	Nav    string // the current section, for the menu
	Data   any
}

type userView struct {
	ID    int64
	Name  string
	Roles []domain.Role
}

// T translates a message id.
func (p *page) T(id string, args ...any) string { return translate(p.lang, id, args...) }

// Lang is the page's language, for <html lang>.
func (p *page) Lang() string {
	if p.lang == langEN {
		return "en"
	}
	return "zh-CN"
}

// OtherLang is the language the switch offers.
func (p *page) OtherLang() string {
	if p.lang == langEN {
		return langZH
	}
	return langEN
}

// Has reports whether the signed-in user has a role.
func (p *page) Has(role string) bool {
	if p.User == nil {
		return false
	}
	for _, r := range p.User.Roles {
		if string(r) == role {
			return true
		}
	}
	return false
}

// Time shows an instant in the organisation's zone.
func (p *page) Time(t any) string {
	switch v := t.(type) {
	case time.Time:
		if v.IsZero() {
			return ""
		}
		return v.In(p.loc).Format("2006-01-02 15:04")
	case *time.Time:
		if v == nil {
			return ""
		}
		return v.In(p.loc).Format("2006-01-02 15:04")
	}
	return fmt.Sprint(t)
}

// Status, Sev, Src, Warn, Role and Act name values in the page's language.
func (p *page) Status(s domain.Status) string     { return statusLabel(p.lang, s) }
func (p *page) Sev(s domain.Severity) string      { return p.T("sev." + string(s)) }
func (p *page) Src(s domain.Source) string        { return p.T("src." + string(s)) }
func (p *page) Warn(w domain.WarningLevel) string { return p.T("warn." + string(w)) }
func (p *page) Role(r domain.Role) string         { return p.T("role." + string(r)) }
func (p *page) Act(a any) string                  { return p.T("act." + fmt.Sprint(a)) }
func (p *page) Severities() []domain.Severity     { return domain.Severities() }
func (p *page) Sources() []domain.Source          { return domain.Sources() }
func (p *page) Statuses() []domain.Status         { return domain.Statuses() }
func (p *page) Warnings() []domain.WarningLevel {
	return []domain.WarningLevel{domain.WarningRed, domain.WarningYellow, domain.WarningGreen}
}

// Why says in the page's language why a refusal recorded in the trail or a
// skipped row of an import was refused.
func (p *page) Why(reason string) string { return recordedReasonText(p.lang, reason) }

// Formula is the evaluation's score definition with its weights.
func (p *page) Formula(w stats.Weights) string { return formulaText(p.lang, w) }

func formulaText(lang string, w stats.Weights) string {
	g := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	return fill(translate(lang, "ev.formula_text"), []string{g(w.Workload), g(w.Accuracy), g(w.Timeliness), g(w.Contribution),
		g(w.General), g(w.Serious), g(w.Critical)})
}

// VerifyReason says why the trail failed 校验: its first finding, whose
// entry the page names apart.
func (p *page) VerifyReason(v *app.VerifyResult) string {
	reason := v.Reason
	if len(v.Findings) > 0 {
		reason = v.Findings[0].Reason
	}
	if _, _, ok := matchReason(reason); ok || p.lang == langEN {
		return reasonText(p.lang, reason)
	}
	return p.T("au.bad_other")
}

// Object names the kind of an audited object.
func (p *page) Object(t string) string { return p.T("obj." + t) }

// Outcome names an audited attempt's outcome.
func (p *page) Outcome(o string) string { return p.T("au.outcome_" + o) }

func (p *page) StatusIs(s domain.Status, v string) bool { return string(s) == v }

var funcs = template.FuncMap{
	"contains": func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
	"str": func(v any) string { return fmt.Sprint(v) },
	// deref reads an optional number, which the templates pass on as a pointer otherwise.
	"deref": func(n *int64) int64 {
		if n == nil {
			return 0
		}
		return *n
	},
	"isImage": func(ct string) bool { return strings.HasPrefix(ct, "image/") },
	"kib": func(n int64) string {
		if n < 1024 {
			return fmt.Sprintf("%d B", n)
		}
		return fmt.Sprintf("%.0f KiB", float64(n)/1024)
	},
	"list":       func(xs ...string) []string { return xs },
	"rowsOf":     func(p *page, rows []row) rowsView { return rowsView{Page: p, Rows: rows} },
	"evidenceOf": func(p *page, items []*app.ProblemAttachment) evidenceView { return evidenceView{Page: p, Items: items} },
	"concat": func(a, b []*app.ProblemAttachment) []*app.ProblemAttachment {
		return append(append([]*app.ProblemAttachment{}, a...), b...)
	},
	"seq": func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	},
}

type rowsView struct {
	Page *page
	Rows []row
}

type evidenceView struct {
	Page  *page
	Items []*app.ProblemAttachment
}

// parsePages parses each page with the layout and the partials.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes a page inside the layout; an htmx request for a fragment
// (HX-Target) gets the content alone.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	if p.loc == nil {
		p.loc = c.svc.Clock.Config().Location
	}
	t, ok := c.pages[name]
	if !ok {
		panic("no template " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		c.log.Error("console: render", "page", name, "err", err)
		http.Error(w, "render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// pageFor starts a page for an authenticated request, with its unread count.
func (c *Console) pageFor(q *request, title, nav string, data any) *page {
	p := &page{lang: q.lang, loc: c.svc.Clock.Config().Location, CSRF: csrfToken(q.token), Title: title, Nav: nav, Data: data,
		User: &userView{ID: q.user.ID, Name: q.user.Name, Roles: q.user.Roles}}
	if in, err := c.svc.Inbox.Notifications(q.ctx(), q.caller, true, 0, 1); err == nil {
		p.Unread = in.Unread
	}
	if f := q.r.URL.Query().Get("done"); f != "" {
		if _, ok := catalogue["act."+f]; ok {
			p.Flash = q.t("p.saved", q.t("act."+f))
		}
	}
	return p
}

type errorView struct {
	Message string
}

// errorPage renders an error page; q is nil before sign-in.
func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, q *request, status int, id string, args ...any) {
	lang := langZH
	if q != nil {
		lang = q.lang
	} else if ck, err := r.Cookie(langCookie); err == nil && ck.Value == langEN {
		lang = langEN
	}
	w.Header().Set("Cache-Control", "no-store")
	p := &page{lang: lang, Title: translate(lang, "err.title"), Data: errorView{Message: translate(lang, id, args...)}}
	if q != nil {
		p = c.pageFor(q, p.Title, "", p.Data)
	}
	c.render(w, r, status, "error", p)
}

// fail maps an error from a use case to its page, as httpapi maps it to a status.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, lang string, q *request, err error) {
	var (
		val    *domain.ValidationError
		unsupp *domain.UnsupportedTypeError
		forb   *domain.ForbiddenError
		inv    *domain.InvalidTransitionError
		tooBig *http.MaxBytesError
	)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		c.errorPage(w, r, q, http.StatusNotFound, "err.404")
	case errors.As(err, &forb):
		c.errorPage(w, r, q, http.StatusForbidden, "p.refused", errorText(lang, err))
	case errors.Is(err, domain.ErrForbidden):
		c.errorPage(w, r, q, http.StatusForbidden, "err.403")
	case errors.As(err, &tooBig):
		c.errorPage(w, r, q, http.StatusRequestEntityTooLarge, "err.413")
	case errors.As(err, &val), errors.As(err, &unsupp):
		c.errorPage(w, r, q, http.StatusBadRequest, "err.400", errorText(lang, err))
	case errors.Is(err, domain.ErrTooManyAttempts):
		c.errorPage(w, r, q, http.StatusTooManyRequests, "p.refused", errorText(lang, err))
	case errors.Is(err, domain.ErrUnauthenticated):
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case errors.Is(err, domain.ErrConflict), errors.Is(err, domain.ErrPreconditionFailed), errors.As(err, &inv):
		c.errorPage(w, r, q, http.StatusConflict, "p.refused", errorText(lang, err))
	default:
		if r.Context().Err() != nil {
			return
		}
		c.log.Error("console: request failed", "path", r.URL.Path, "err", err)
		c.errorPage(w, r, q, http.StatusInternalServerError, "err.500")
	}
}
