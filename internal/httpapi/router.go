// Package httpapi is Rectify's REST API (v1) over gin: routing, middleware,
// wire types and the one error writer. docs/openapi.yaml describes it.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Options configure the API.
type Options struct {
	Logger         *slog.Logger
	Metrics        *Metrics // nil: no metrics
	MetricsToken   string   // set: /metrics is served here to this bearer token; empty: it is absent here
	MaxBodyBytes   int64    // default 1 MiB
	MaxUploadBytes int64    // largest attachment; default 20 MiB
	TrustedProxies []string // whose X-Forwarded-For is believed; none by default
	ReadyTimeout   time.Duration
	// FailureLogEvery is how often requests refused for an unavailable
	// database are reported, with their count (default DefaultFailureLogEvery).
	FailureLogEvery time.Duration
}

type api struct {
	svc     Services
	log     *slog.Logger
	opt     Options
	allow   map[string]string // path without parameters → its Allow header
	unavail *failureLog       // 503s for an unavailable database, counted per interval
}

// New returns the HTTP handler of the whole API.
func New(svc Services, opt Options) (http.Handler, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = 1 << 20
	}
	if opt.ReadyTimeout <= 0 {
		opt.ReadyTimeout = 2 * time.Second
	}
	a := &api{svc: svc, log: opt.Logger, opt: opt, unavail: newFailureLog(opt.Logger, opt.FailureLogEvery)}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies(opt.TrustedProxies); err != nil {
		return nil, err
	}
	r.Use(withRequestID, securityHeaders, a.accessLog, a.recoverJSON)
	if opt.Metrics != nil {
		r.Use(opt.Metrics.instrument)
		if opt.MetricsToken != "" {
			r.GET("/metrics", gin.WrapH(opt.Metrics.Guarded(opt.MetricsToken)))
		}
	}
	r.NoRoute(func(c *gin.Context) {
		c.JSON(http.StatusNotFound, errorBody{Error: errorJSON{Code: "not_found", Message: "no such endpoint"}})
	})
	r.NoMethod(a.methodNotAllowed)
	r.GET("/healthz", a.healthz)
	r.GET("/readyz", a.readyz)

	v1 := r.Group("/api/v1", noStore, a.limitBody)
	v1.GET("/healthz", a.healthz)
	v1.GET("/readyz", a.readyz)
	v1.POST("/auth/login", a.handle(a.login))
	a.routeSignIn(v1) // signin.go: the ways in, OpenID Connect

	auth := v1.Group("", a.authenticate, a.idempotent)
	auth.POST("/auth/logout", a.handle(a.logout))
	auth.GET("/me", a.handle(a.me))
	auth.POST("/me/password", a.handle(a.changePassword))

	auth.GET("/units", a.handle(a.listUnits))
	auth.POST("/units", a.handle(a.createUnit))
	auth.PATCH("/units/:id", a.handle(a.updateUnit))
	auth.GET("/users", a.handle(a.listUsers))
	auth.POST("/users", a.handle(a.createUser))
	auth.GET("/users/:id", a.handle(a.getUser))
	auth.PATCH("/users/:id", a.handle(a.updateUser))
	auth.POST("/users/:id/password", a.handle(a.resetPassword))
	auth.GET("/categories", a.handle(a.listCategories))
	auth.POST("/categories", a.handle(a.createCategory))
	auth.PATCH("/categories/:id", a.handle(a.updateCategory))

	auth.POST("/problems", a.handle(a.registerProblem))
	auth.GET("/problems", a.handle(a.listProblems))
	auth.GET("/problems/:id", a.handle(a.getProblem))
	auth.PATCH("/problems/:id", a.handle(a.editProblem))
	auth.POST("/problems/:id/assign", a.handle(a.assign))
	auth.POST("/problems/:id/accept", a.handle(a.noteAction(a.svc.Lifecycle.Accept)))
	auth.POST("/problems/:id/progress", a.handle(a.progress))
	auth.POST("/problems/:id/submit", a.handle(a.submit))
	auth.POST("/problems/:id/urge", a.handle(a.noteAction(a.svc.Lifecycle.Urge)))
	auth.POST("/problems/:id/verify", a.handle(a.verify))
	auth.POST("/problems/:id/dismiss", a.handle(a.dismiss))
	auth.POST("/problems/:id/reopen", a.handle(a.reopen))
	auth.POST("/problems/:id/comments", a.handle(a.comment))
	auth.GET("/problems/:id/comments", a.handle(a.listComments))
	auth.POST("/problems/:id/extensions", a.handle(a.requestExtension))
	auth.GET("/problems/:id/extensions", a.handle(a.listExtensions))
	auth.POST("/problems/:id/extensions/:eid/decision", a.handle(a.decideExtension))
	auth.GET("/problems/:id/history", a.handle(a.history))

	auth.GET("/audit", a.handle(a.listAudit))
	auth.GET("/audit/verify", a.handle(a.verifyAudit))
	auth.GET("/audit/checkpoint", a.handle(a.latestCheckpoint))

	a.routeAttachments(r, auth) // attachments.go
	a.routeBoard(r, auth)       // board.go: stats, evaluation, notices, ledger
	a.routeNotify(auth)         // notify.go: inbox, re-checks, outbox

	a.allow = a.answerOtherMethods(r) // last: it reads every route above
	return r, nil
}

// methodNotAllowed is the 405. gin's Allow counts a route with a parameter
// that would take the path (PATCH /problems/:id for /problems/export.csv);
// for a path without parameters the routes' own methods replace it.
func (a *api) methodNotAllowed(c *gin.Context) {
	if allow, ok := a.allow[c.Request.URL.Path]; ok {
		c.Header("Allow", allow)
	}
	c.JSON(http.StatusMethodNotAllowed, errorBody{Error: errorJSON{Code: "method_not_allowed", Message: "method not allowed on this endpoint"}})
}

// answerOtherMethods registers a 405 where a route with a parameter would
// take a path without parameters that does not serve that method: PATCH
// /problems/export.csv would be PATCH /problems/:id with the id "export.csv",
// a 404. Elsewhere gin answers 405 itself (HandleMethodNotAllowed). It
// returns the Allow header of each path without parameters.
func (a *api) answerOtherMethods(r *gin.Engine) map[string]string {
	routes := r.Routes()
	served := map[string][]string{}
	for _, rt := range routes {
		served[rt.Path] = append(served[rt.Path], rt.Method)
	}
	allows := map[string]string{}
	for path, methods := range served {
		if strings.ContainsAny(path, ":*") {
			continue
		}
		slices.Sort(methods)
		allows[path] = strings.Join(methods, ", ")
		for _, rt := range routes {
			if !slices.Contains(methods, rt.Method) && strings.ContainsAny(rt.Path, ":*") && routeMatches(rt.Path, path) {
				methods = append(methods, rt.Method) // once per method
				r.Handle(rt.Method, path, a.methodNotAllowed)
			}
		}
	}
	return allows
}

// routeMatches reports whether gin's pattern (":name" a segment, "*name" the rest) matches path.
func routeMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	for i, p := range ps {
		if strings.HasPrefix(p, "*") {
			return true
		}
		if i >= len(xs) || (!strings.HasPrefix(p, ":") && p != xs[i]) || (strings.HasPrefix(p, ":") && xs[i] == "") {
			return false
		}
	}
	return len(ps) == len(xs)
}

func (a *api) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

func (a *api) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), a.opt.ReadyTimeout)
	defer cancel()
	if err := a.svc.Core.Ping(ctx); err != nil {
		a.unavail.note(c.Request.Context(), "readyz", requestID(c), err)
		c.Set(countedKey, true)
		c.Header("Retry-After", "5")
		c.JSON(http.StatusServiceUnavailable, errorBody{Error: errorJSON{Code: "unavailable", Message: "the database does not answer"}})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
