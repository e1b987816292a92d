package web

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/ledger"
)

// Account is the caller's own password.
type Account interface {
	ChangePassword(ctx context.Context, c app.Caller, token, oldPassword, newPassword string) error
}

// Import is the ledger's bulk import (批量导入) and its template.
type Import interface {
	ImportLedger(ctx context.Context, c app.Caller, filename string, file io.Reader) (*app.ImportResult, error)
	LedgerGuide(ctx context.Context) (ledger.Guide, error)
}

// Rechecks are the 回头看 the working group does.
type Rechecks interface {
	Rechecks(ctx context.Context, c app.Caller, f app.RecheckFilter) ([]*app.Recheck, bool, error)
	RecordRecheck(ctx context.Context, c app.Caller, id int64, in app.RecheckInput) (*app.RecheckResult, error)
}

var passwordFields = []string{"old", "new", "confirm"}

func (c *Console) passwordPage(q *request) {
	c.render(q.w, q.r, http.StatusOK, "password", c.pageFor(q, q.t("pw.title"), "", &formState{Errors: map[string]string{}}))
}

// changePassword changes the caller's password; their other sessions end,
// this one stays.
func (c *Console) changePassword(q *request) {
	if err := c.parseForm(q); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	form := q.r.PostForm
	// Passwords are never sent back into the page.
	kept := url.Values{}
	var err error
	if form.Get("new") != form.Get("confirm") {
		err = domain.Invalid("confirm", "the two new passwords differ")
	} else {
		err = c.svc.Account.ChangePassword(q.ctx(), q.caller, q.token, form.Get("old"), form.Get("new"))
	}
	if err != nil {
		if !refusal(err) && !errors.Is(err, domain.ErrTooManyAttempts) && !lost(err) {
			c.fail(q.w, q.r, q.lang, q, err)
			return
		}
		status := http.StatusBadRequest
		if errors.Is(err, domain.ErrTooManyAttempts) {
			status = http.StatusTooManyRequests
		}
		c.render(q.w, q.r, status, "password", c.pageFor(q, q.t("pw.title"), "", refusedForm(q.lang, kept, err, passwordFields...)))
		return
	}
	http.Redirect(q.w, q.r, "/password?done=password", http.StatusSeeOther)
}

type importView struct {
	Form   *formState
	Result *app.ImportResult
	Errors []domain.FieldError
}

func (c *Console) importPage(q *request) {
	c.render(q.w, q.r, http.StatusOK, "import", c.pageFor(q, q.t("imp.title"), "register", importView{Form: &formState{}}))
}

// importLedger takes an .xlsx ledger through the import use case; its
// errors are shown by row and column.
func (c *Console) importLedger(q *request) {
	if err := c.parseForm(q); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	var (
		res *app.ImportResult
		err = domain.Invalid("file", "choose one .xlsx file")
	)
	if q.r.MultipartForm != nil {
		if fhs := q.r.MultipartForm.File["file"]; len(fhs) == 1 {
			f, ferr := fhs[0].Open()
			if ferr != nil {
				c.fail(q.w, q.r, q.lang, q, ferr)
				return
			}
			res, err = c.svc.Import.ImportLedger(q.ctx(), q.caller, fhs[0].Filename, f)
			_ = f.Close()
		}
	}
	view := importView{Form: &formState{}, Result: res}
	status := http.StatusOK
	if err != nil {
		var val *domain.ValidationError
		if !errors.As(err, &val) {
			if !refusal(err) {
				c.fail(q.w, q.r, q.lang, q, err)
				return
			}
			view.Form = refusedForm(q.lang, url.Values{}, err)
		} else {
			for _, f := range val.Fields {
				view.Errors = append(view.Errors, domain.FieldError{Field: fieldLabel(q.lang, f.Field), Reason: reasonText(q.lang, f.Reason)})
			}
		}
		status = http.StatusBadRequest
	}
	c.render(q.w, q.r, status, "import", c.pageFor(q, q.t("imp.title"), "register", view))
}

func (c *Console) importTemplate(q *request) {
	g, err := c.svc.Import.LedgerGuide(q.ctx())
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	q.w.Header().Set("Content-Type", ledger.MediaTypeXLSX)
	q.w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "整改台账导入模板.xlsx"}))
	if err := ledger.Template(q.w, g); err != nil {
		c.log.Error("console: import template", "err", err)
		panic(http.ErrAbortHandler)
	}
}

// dueRechecks are the pending 回头看 due by today.
func (c *Console) dueRechecks(q *request) []*app.Recheck {
	rs, _, err := c.svc.Rechecks.Rechecks(q.ctx(), q.caller, app.RecheckFilter{DueBy: c.svc.Clock.Today(),
		Statuses: []app.RecheckStatus{app.RecheckPending}, Limit: 10})
	if err != nil {
		c.log.Warn("console: rechecks", "err", err)
		return nil
	}
	return rs
}
