package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rectify-team/rectify/internal/app"
)

// Admin is the organisation's upkeep: units, users, categories, the outbox.
type Admin interface {
	CreateUnit(ctx context.Context, c app.Caller, in app.UnitInput) (*app.Unit, error)
	UpdateUnit(ctx context.Context, c app.Caller, id int64, p app.UnitPatch) (*app.Unit, error)
	CreateUser(ctx context.Context, c app.Caller, in app.UserInput) (*app.User, error)
	UpdateUser(ctx context.Context, c app.Caller, id int64, p app.UserPatch) (*app.User, error)
	ResetPassword(ctx context.Context, c app.Caller, id int64, password string) error
	CreateCategory(ctx context.Context, c app.Caller, in app.CategoryInput) (*app.Category, error)
}

// OutboxAdmin is the webhook outbox's page.
type OutboxAdmin interface {
	Outbox(ctx context.Context, c app.Caller, q app.OutboxQuery) ([]*app.OutboxMessage, bool, error)
	RetryOutbox(ctx context.Context, c app.Caller, id int64) (*app.OutboxMessage, error)
}

type adminView struct {
	Units      []option
	Categories []option
	Users      []*app.User
	UnitNames  map[int64]string
	Outbox     []*app.OutboxMessage
	Roles      []string
	Forms      map[string]*formState
}

// F is the state of one of the page's forms.
func (v *adminView) F(name string) *formState {
	if f := v.Forms[name]; f != nil {
		return f
	}
	return &formState{Errors: map[string]string{}}
}

// HasRole reports whether a user holds a role.
func (v *adminView) HasRole(u *app.User, role string) bool {
	for _, r := range u.Roles {
		if string(r) == role {
			return true
		}
	}
	return false
}

func (c *Console) adminPage(q *request) { c.showAdmin(q, http.StatusOK, nil) }

func (c *Console) showAdmin(q *request, status int, forms map[string]*formState) {
	n, err := c.names(q)
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	users, err := c.svc.Directory.Users(q.ctx(), app.UserQuery{Limit: 500})
	if err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	v := &adminView{Units: n.unitOptions(), Categories: n.categoryOptions(), Users: users, Forms: forms,
		UnitNames: map[int64]string{}, Roles: []string{"inspector", "owner", "verifier", "leader", "admin"}}
	for id, u := range n.units {
		v.UnitNames[id] = u.Name
	}
	if q.caller.Actor.Has("admin") {
		if v.Outbox, _, err = c.svc.OutboxAdmin.Outbox(q.ctx(), q.caller, app.OutboxQuery{Limit: 30}); err != nil {
			c.fail(q.w, q.r, q.lang, q, err)
			return
		}
	}
	c.render(q.w, q.r, status, "admin", c.pageFor(q, q.t("ad.title"), "admin", v))
}

func formID(v url.Values, name string) int64 {
	n, _ := strconv.ParseInt(v.Get(name), 10, 64)
	return n
}

// adminAct runs one of the admin page's forms through its use case.
func (c *Console) adminAct(q *request) {
	if err := c.parseForm(q); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	form, what := q.r.PostForm, q.r.PathValue("what")
	ctx, cl := q.ctx(), q.caller
	id, _ := strconv.ParseInt(q.r.PathValue("id"), 10, 64)
	var (
		err   error
		key   = what
		known []string
	)
	switch what {
	case "unit":
		known = []string{"name", "parent_id"}
		if id == 0 {
			_, err = c.svc.Admin.CreateUnit(ctx, cl, app.UnitInput{Name: form.Get("name"), ParentID: formID(form, "parent_id")})
		} else {
			name := form.Get("name")
			_, err = c.svc.Admin.UpdateUnit(ctx, cl, id, app.UnitPatch{Name: &name})
		}
	case "category":
		known = []string{"code", "name", "parent_id"}
		_, err = c.svc.Admin.CreateCategory(ctx, cl, app.CategoryInput{Code: form.Get("code"), Name: form.Get("name"), ParentID: formID(form, "parent_id")})
	case "user":
		known = []string{"username", "name", "password", "roles", "unit_id"}
		if id == 0 {
			_, err = c.svc.Admin.CreateUser(ctx, cl, app.UserInput{Username: form.Get("username"), Name: form.Get("name"),
				Password: form.Get("password"), Roles: form["roles"], UnitID: formID(form, "unit_id")})
			form.Del("password")
		} else {
			key = "user-" + strconv.FormatInt(id, 10)
			unit, disabled := formID(form, "unit_id"), form.Get("disabled") == "true"
			roles := form["roles"]
			if roles == nil {
				roles = []string{}
			}
			_, err = c.svc.Admin.UpdateUser(ctx, cl, id, app.UserPatch{Roles: roles, UnitID: &unit, Disabled: &disabled})
		}
	case "password":
		key, known = "password-"+strconv.FormatInt(id, 10), []string{"password"}
		err = c.svc.Admin.ResetPassword(ctx, cl, id, form.Get("password"))
		form.Del("password")
	case "outbox":
		_, err = c.svc.OutboxAdmin.RetryOutbox(ctx, cl, id)
	default:
		c.errorPage(q.w, q.r, q, http.StatusNotFound, "err.404")
		return
	}
	switch {
	case err == nil:
		http.Redirect(q.w, q.r, "/admin?done=admin#"+strings.SplitN(key, "-", 2)[0]+"s", http.StatusSeeOther)
	case refusal(err) || lost(err):
		status := http.StatusBadRequest
		if lost(err) {
			status = http.StatusConflict
		}
		c.showAdmin(q, status, map[string]*formState{key: refusedForm(q.lang, form, err, known...)})
	default:
		c.fail(q.w, q.r, q.lang, q, err)
	}
}
