package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      userJSON  `json:"user"`
}

func (a *api) login(c *gin.Context) error {
	var req loginRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	res, err := a.svc.Access.Login(c.Request.Context(), caller(c), req.Username, req.Password)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, loginResponse{Token: res.Token, ExpiresAt: res.ExpiresAt, User: toUserJSON(res.User)})
	return nil
}

func (a *api) logout(c *gin.Context) error {
	if err := a.svc.Access.Logout(c.Request.Context(), caller(c), c.GetString(tokenKey)); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

func (a *api) me(c *gin.Context) error {
	u, err := a.svc.Access.User(c.Request.Context(), caller(c).Actor.UserID)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toUserJSON(u))
	return nil
}

type passwordChangeRequest struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// changePassword changes the caller's own password; their other sessions end.
func (a *api) changePassword(c *gin.Context) error {
	var req passwordChangeRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	ans := noContent()
	if err := a.svc.Access.ChangePassword(c.Request.Context(), answering(c, ans), c.GetString(tokenKey), req.Old, req.New); err != nil {
		return err
	}
	return reply(c, ans, nil)
}

func (a *api) listUnits(c *gin.Context) error {
	units, err := a.svc.Access.Units(c.Request.Context())
	if err != nil {
		return err
	}
	items := make([]unitJSON, len(units))
	for i, u := range units {
		items[i] = toUnitJSON(u)
	}
	c.JSON(http.StatusOK, listJSON[unitJSON]{Items: items})
	return nil
}

type unitRequest struct {
	Name     *string `json:"name"`
	ParentID *int64  `json:"parent_id"`
}

func (a *api) createUnit(c *gin.Context) error {
	var req unitRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	in := app.UnitInput{}
	if req.Name != nil {
		in.Name = *req.Name
	}
	if req.ParentID != nil {
		in.ParentID = *req.ParentID
	}
	ans := typed(func(u *app.Unit) (response, error) { return jsonAnswer(http.StatusCreated, toUnitJSON(u), nil) })
	u, err := a.svc.Access.CreateUnit(c.Request.Context(), answering(c, ans), in)
	if err != nil {
		return err
	}
	return reply(c, ans, u)
}

func (a *api) updateUnit(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req unitRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := a.svc.Access.UpdateUnit(c.Request.Context(), caller(c), id, app.UnitPatch{Name: req.Name, ParentID: req.ParentID})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toUnitJSON(u))
	return nil
}

func (a *api) listCategories(c *gin.Context) error {
	cats, err := a.svc.Access.Categories(c.Request.Context())
	if err != nil {
		return err
	}
	items := make([]categoryJSON, len(cats))
	for i, x := range cats {
		items[i] = toCategoryJSON(x)
	}
	c.JSON(http.StatusOK, listJSON[categoryJSON]{Items: items})
	return nil
}

type categoryRequest struct {
	Code     *string `json:"code"`
	Name     *string `json:"name"`
	ParentID *int64  `json:"parent_id"`
}

func (a *api) createCategory(c *gin.Context) error {
	var req categoryRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	in := app.CategoryInput{}
	if req.Code != nil {
		in.Code = *req.Code
	}
	if req.Name != nil {
		in.Name = *req.Name
	}
	if req.ParentID != nil {
		in.ParentID = *req.ParentID
	}
	ans := typed(func(x *app.Category) (response, error) {
		return jsonAnswer(http.StatusCreated, toCategoryJSON(x), nil)
	})
	cat, err := a.svc.Access.CreateCategory(c.Request.Context(), answering(c, ans), in)
	if err != nil {
		return err
	}
	return reply(c, ans, cat)
}

func (a *api) updateCategory(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req categoryRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	cat, err := a.svc.Access.UpdateCategory(c.Request.Context(), caller(c), id, app.CategoryPatch{Code: req.Code, Name: req.Name, ParentID: req.ParentID})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toCategoryJSON(cat))
	return nil
}

func (a *api) listUsers(c *gin.Context) error {
	if err := allowQuery(c, "role", "unit_id", "q", "limit", "cursor"); err != nil {
		return err
	}
	q := app.UserQuery{Role: domain.Role(c.Query("role")), Text: c.Query("q")}
	if q.Role != "" && !q.Role.Valid() {
		return invalidField("role", "must be one of inspector, owner, verifier, leader, admin")
	}
	var err error
	if q.Limit, err = limit(c); err != nil {
		return err
	}
	if q.AfterID, err = decodeCursor("u", c.Query("cursor")); err != nil {
		return err
	}
	if v := c.Query("unit_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return invalidField("unit_id", "must be a unit id")
		}
		units, err := a.svc.Access.Units(c.Request.Context())
		if err != nil {
			return err
		}
		for _, u := range units {
			if u.ID == id {
				q.UnitPath = u.Path
			}
		}
		if q.UnitPath == "" {
			return invalidField("unit_id", "no unit has this id")
		}
	}
	q.Limit++
	users, err := a.svc.Access.Users(c.Request.Context(), q)
	if err != nil {
		return err
	}
	out := listJSON[userJSON]{Items: []userJSON{}}
	if len(users) == q.Limit {
		users = users[:q.Limit-1]
		out.NextCursor = encodeCursor("u", users[len(users)-1].ID)
	}
	for _, u := range users {
		out.Items = append(out.Items, toUserJSON(u))
	}
	c.JSON(http.StatusOK, out)
	return nil
}

func (a *api) getUser(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	u, err := a.svc.Access.User(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toUserJSON(u))
	return nil
}

type userCreateRequest struct {
	Username string   `json:"username"`
	Name     string   `json:"name"`
	Password string   `json:"password"`
	Roles    []string `json:"roles"`
	UnitID   int64    `json:"unit_id"`
	// AuthSource is local (the default, with a password), ldap or oidc (without).
	AuthSource string `json:"auth_source"`
}

func (a *api) createUser(c *gin.Context) error {
	var req userCreateRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	ans := typed(func(u *app.User) (response, error) { return jsonAnswer(http.StatusCreated, toUserJSON(u), nil) })
	u, err := a.svc.Access.CreateUser(c.Request.Context(), answering(c, ans), app.UserInput{Username: req.Username, Name: req.Name,
		Password: req.Password, Roles: req.Roles, UnitID: req.UnitID, AuthSource: req.AuthSource})
	if err != nil {
		return err
	}
	return reply(c, ans, u)
}

type userPatchRequest struct {
	Name     *string   `json:"name"`
	Roles    *[]string `json:"roles"`
	UnitID   *int64    `json:"unit_id"`
	Disabled *bool     `json:"disabled"`
	// AuthSource switches how the user signs in (local, ldap, oidc).
	AuthSource *string `json:"auth_source"`
}

func (a *api) updateUser(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req userPatchRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	p := app.UserPatch{Name: req.Name, UnitID: req.UnitID, Disabled: req.Disabled, AuthSource: req.AuthSource}
	if req.Roles != nil {
		p.Roles = *req.Roles
		if p.Roles == nil {
			p.Roles = []string{}
		}
	}
	u, err := a.svc.Access.UpdateUser(c.Request.Context(), caller(c), id, p)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toUserJSON(u))
	return nil
}

type passwordRequest struct {
	Password string `json:"password"`
}

func (a *api) resetPassword(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req passwordRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	ans := noContent()
	if err := a.svc.Access.ResetPassword(c.Request.Context(), answering(c, ans), id, req.Password); err != nil {
		return err
	}
	return reply(c, ans, nil)
}

// allowQuery refuses query parameters the endpoint does not know, so that a
// misspelt filter is an error rather than a silently unfiltered list.
func allowQuery(c *gin.Context, known ...string) error {
	for k := range c.Request.URL.Query() {
		ok := false
		for _, n := range known {
			if k == n {
				ok = true
				break
			}
		}
		if !ok {
			return invalidField(k, "is not a known query parameter")
		}
	}
	return nil
}

// limit reads ?limit= (1 to 200, default 50).
func limit(c *gin.Context) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 200 {
		return 0, invalidField("limit", "must be an integer from 1 to 200")
	}
	return n, nil
}
