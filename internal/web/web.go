// Package web is Rectify's console: pages rendered on the server with
// html/template, htmx for partial updates, every asset embedded. It is a
// second face beside httpapi over the same use cases; it decodes forms, calls
// the use case and renders — who may do what comes from the domain.
package web

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/ledger"
)

//go:embed assets templates
var files embed.FS

// The use cases the console calls, each as narrow as the pages need.

// Sessions signs people in and out and resolves their session.
type Sessions interface {
	Login(ctx context.Context, c app.Caller, username, password string) (*app.LoginResult, error)
	Authenticate(ctx context.Context, token string) (*app.User, error)
	Logout(ctx context.Context, c app.Caller, token string) error
	Providers() []app.Provider
	StartOIDC(ctx context.Context, c app.Caller, redirectURL string) (*app.OIDCStart, error)
	FinishOIDC(ctx context.Context, c app.Caller, in app.OIDCCallback) (*app.LoginResult, error)
}

// Lifecycle is the problem's use cases.
type Lifecycle interface {
	Register(ctx context.Context, c app.Caller, in app.ProblemInput) (*domain.Problem, error)
	Edit(ctx context.Context, c app.Caller, id, ifMatch int64, patch app.ProblemPatch) (*domain.Problem, error)
	Assign(ctx context.Context, c app.Caller, id, ifMatch int64, in app.AssignInput) (*domain.Problem, error)
	Accept(ctx context.Context, c app.Caller, id, ifMatch int64, note string) (*domain.Problem, error)
	ReportProgress(ctx context.Context, c app.Caller, id, ifMatch int64, in app.ProgressInput) (*domain.Problem, error)
	SubmitFix(ctx context.Context, c app.Caller, id, ifMatch int64, in app.SubmitInput) (*domain.Problem, error)
	Verify(ctx context.Context, c app.Caller, id, ifMatch int64, passed bool, note string) (*domain.Problem, error)
	Dismiss(ctx context.Context, c app.Caller, id, ifMatch int64, reason string) (*domain.Problem, error)
	Reopen(ctx context.Context, c app.Caller, id, ifMatch int64, reason string, deadline domain.Date) (*domain.Problem, error)
	Urge(ctx context.Context, c app.Caller, id, ifMatch int64, note string) (*domain.Problem, error)
	Comment(ctx context.Context, c app.Caller, id int64, text string) (*domain.Problem, error)
	RequestExtension(ctx context.Context, c app.Caller, id, ifMatch int64, deadline domain.Date, reason string) (*domain.Extension, error)
	DecideExtension(ctx context.Context, c app.Caller, id, ifMatch, extID int64, approved bool, note string) (*domain.Problem, error)
	Problem(ctx context.Context, c app.Caller, id int64) (*domain.Problem, error)
	Problems(ctx context.Context, c app.Caller, f app.ProblemFilter) ([]*domain.Problem, bool, error)
	History(ctx context.Context, c app.Caller, id, afterSeq int64, limit int) ([]*audit.Entry, error)
	Extensions(ctx context.Context, c app.Caller, id int64) ([]*domain.Extension, error)
	Comments(ctx context.Context, c app.Caller, id int64) ([]*app.Comment, error)
}

// Evidence is uploads and their reading.
type Evidence interface {
	Upload(ctx context.Context, c app.Caller, name string, content io.Reader) (*app.Attachment, error)
	OpenAttachment(ctx context.Context, c app.Caller, id int64) (*app.Attachment, io.ReadSeekCloser, error)
	ProblemAttachments(ctx context.Context, c app.Caller, id int64) ([]*app.ProblemAttachment, error)
}

// Directory is the organisation the pickers offer.
type Directory interface {
	Units(ctx context.Context) ([]*app.Unit, error)
	Categories(ctx context.Context) ([]*app.Category, error)
	Users(ctx context.Context, q app.UserQuery) ([]*app.User, error)
	User(ctx context.Context, id int64) (*app.User, error)
}

// Inbox is the caller's notifications.
type Inbox interface {
	Notifications(ctx context.Context, c app.Caller, unreadOnly bool, beforeID int64, limit int) (*app.Inbox, error)
	MarkRead(ctx context.Context, c app.Caller, ids []int64) (marked, unread int64, err error)
}

// Ledger exports the 整改台账.
type Ledger interface {
	ExportLedger(ctx context.Context, c app.Caller, f app.ProblemFilter, pageSize int, w ledger.Writer) (int, error)
}

// Clock gives the organisation's day and policies.
type Clock interface {
	Config() app.Config
	Today() domain.Date
	Now() time.Time
}

// Services are the use cases the console calls, each group through its own
// narrow interface; ServicesOf fills them from the wired use cases.
type Services struct {
	Sessions    Sessions
	Lifecycle   Lifecycle
	Evidence    Evidence
	Directory   Directory
	Inbox       Inbox
	Ledger      Ledger
	Clock       Clock
	Account     Account
	Import      Import
	Rechecks    Rechecks
	Board       Board
	AuditTrail  AuditTrail
	Admin       Admin
	OutboxAdmin OutboxAdmin
	Notices     Notices
}

// Options configure the console.
type Options struct {
	Logger *slog.Logger
	// SecureCookies marks cookies Secure even on plain HTTP, for a server
	// behind a proxy that terminates TLS. Requests that came over TLS get
	// Secure cookies anyway.
	SecureCookies  bool
	MaxUploadBytes int64 // largest file; default 20 MiB
	// TrustedProxies are the addresses or CIDR ranges whose X-Forwarded-For
	// is believed, as for the API; sign-in throttling counts by client IP.
	TrustedProxies []string
	// OIDCCallback is the console's OpenID Connect callback as registered with
	// the provider (https://HOST/login/oidc/callback, one of
	// RECTIFY_OIDC_REDIRECT_URL); "" offers no OpenID Connect in the console.
	OIDCCallback string
}

// Console is the console's handler.
type Console struct {
	svc     Services
	log     *slog.Logger
	opt     Options
	pages   map[string]*template.Template
	mux     *http.ServeMux
	proxies []netip.Prefix
}

// New returns the console's handler, to be mounted at "/".
func New(svc Services, opt Options) (*Console, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MaxUploadBytes <= 0 {
		opt.MaxUploadBytes = 20 << 20
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	c := &Console{svc: svc, log: opt.Logger, opt: opt, pages: pages, mux: http.NewServeMux()}
	for _, p := range opt.TrustedProxies {
		pfx, err := parseProxy(p)
		if err != nil {
			return nil, err
		}
		c.proxies = append(c.proxies, pfx)
	}
	c.routes()
	return c, nil
}

func (c *Console) routes() {
	static, _ := fs.Sub(files, "assets")
	c.mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(static)))
	c.mux.HandleFunc("GET /login", c.loginPage)
	c.mux.HandleFunc("POST /login", c.login)
	c.mux.HandleFunc("GET /login/oidc", c.startOIDC)
	c.mux.HandleFunc("GET /login/oidc/callback", c.finishOIDC)
	c.mux.Handle("POST /logout", c.authed(c.logout))
	c.mux.Handle("GET /{$}", c.authed(c.home))
	c.mux.Handle("GET /todo", c.authed(c.todo))
	c.mux.Handle("GET /problems", c.authed(c.list))
	c.mux.Handle("GET /problems/export.xlsx", c.authed(c.export))
	c.mux.Handle("GET /problems/new", c.authed(c.registerPage))
	c.mux.Handle("POST /problems", c.authed(c.register))
	c.mux.Handle("GET /problems/{id}", c.authed(c.problem))
	c.mux.Handle("GET /problems/{id}/edit", c.authed(c.editPage))
	c.mux.Handle("POST /problems/{id}/edit", c.authed(c.edit))
	c.mux.Handle("POST /problems/{id}/{action}", c.authed(c.act))
	c.mux.Handle("GET /attachments/{id}", c.authed(c.attachment))
	c.mux.Handle("GET /inbox", c.authed(c.inbox))
	c.mux.Handle("POST /inbox/read", c.authed(c.markRead))
	c.mux.Handle("POST /inbox/{id}/open", c.authed(c.openMessage))
	c.mux.Handle("GET /inbox/badge", c.authed(c.badge))
	c.mux.Handle("GET /board", c.authed(c.board))
	c.mux.Handle("GET /board/data", c.authed(c.boardJSON))
	c.mux.Handle("GET /evaluation", c.authed(c.evaluation))
	c.mux.Handle("POST /evaluation/publish", c.authed(c.publishEvaluation))
	c.mux.Handle("GET /audit", c.authed(c.auditTrail))
	c.mux.Handle("GET /notices", c.authed(c.noticesPage))
	c.mux.Handle("POST /notices/{what}", c.authed(c.noticeAct))
	c.mux.Handle("POST /notices/{id}/{what}", c.authed(c.noticeAct))
	c.mux.Handle("GET /reports", c.authed(c.report))
	c.mux.Handle("GET /contributions", c.authed(c.contributionsPage))
	c.mux.Handle("POST /contributions", c.authed(c.award))
	c.mux.Handle("GET /admin", c.authed(c.adminPage))
	c.mux.Handle("POST /admin/{what}", c.authed(c.adminAct))
	c.mux.Handle("POST /admin/{what}/{id}", c.authed(c.adminAct))
	c.mux.Handle("GET /password", c.authed(c.passwordPage))
	c.mux.Handle("POST /password", c.authed(c.changePassword))
	c.mux.Handle("GET /problems/import", c.authed(c.importPage))
	c.mux.Handle("POST /problems/import", c.authed(c.importLedger))
	c.mux.Handle("GET /problems/import-template.xlsx", c.authed(c.importTemplate))
	c.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.errorPage(w, r, nil, http.StatusNotFound, "err.404")
	})
}

// ServeHTTP sets the security headers of every answer and recovers from panics.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	defer func() {
		if v := recover(); v != nil {
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			c.log.Error("console panic", "panic", v, "path", r.URL.Path, "stack", string(debug.Stack()))
			c.errorPage(w, r, nil, http.StatusInternalServerError, "err.500")
		}
	}()
	c.mux.ServeHTTP(w, r)
}

// csp allows scripts, styles, images and requests from this origin only, and
// no inline script or style anywhere.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// staticFiles serves the embedded assets; their names carry versions, so they are cached long.
func staticFiles(fsys fs.FS) http.Handler {
	h := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || r.URL.Path[len(r.URL.Path)-1] == '/' {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.ServeHTTP(w, r)
	})
}

// request is one authenticated request's state.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	caller app.Caller
	user   *app.User
	token  string
	lang   string
}

func (q *request) ctx() context.Context { return q.r.Context() }

func (q *request) t(id string, args ...any) string { return translate(q.lang, id, args...) }

// clientIP is the peer's address, or, when the peer is a trusted proxy, the
// nearest address in X-Forwarded-For that is not one.
func (c *Console) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !c.trusted(host) {
		return host
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		if !c.trusted(h) {
			return h
		}
		host = h
	}
	return host
}

func parseProxy(p string) (netip.Prefix, error) {
	if pfx, err := netip.ParsePrefix(p); err == nil {
		return pfx.Masked(), nil
	}
	addr, err := netip.ParseAddr(p)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("trusted proxy %q: not an address or CIDR range", p)
	}
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}

func (c *Console) trusted(ip string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	for _, p := range c.proxies {
		if p.Contains(addr.Unmap()) {
			return true
		}
	}
	return false
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// authed resolves the session cookie to a caller, checks the CSRF token of
// every state change, and runs h; without a session it sends to the sign-in page.
func (c *Console) authed(h func(q *request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := language(w, r)
		w.Header().Set("Cache-Control", "no-store")
		token := sessionToken(r)
		var u *app.User
		err := domain.ErrUnauthenticated
		if token != "" {
			u, err = c.svc.Sessions.Authenticate(r.Context(), token)
		}
		if err != nil {
			if !errors.Is(err, domain.ErrUnauthenticated) {
				c.fail(w, r, lang, nil, err)
				return
			}
			clearSession(w, r, c.opt.SecureCookies)
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.errorPage(w, r, nil, http.StatusForbidden, "err.csrf")
			return
		}
		q := &request{w: w, r: r, user: u, token: token, lang: lang,
			caller: app.Caller{Actor: u.Actor(), IP: c.clientIP(r), RequestID: newRequestID()}}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !c.checkCSRF(q) {
			c.log.Warn("console: CSRF check failed", "path", r.URL.Path, "user_id", u.ID, "ip", q.caller.IP)
			c.errorPage(w, r, q, http.StatusForbidden, "err.csrf")
			return
		}
		h(q)
	})
}
