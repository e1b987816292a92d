// Package optest runs an OpenID provider for tests: zitadel/oidc's provider
// (pkg/op) on its example in-memory storage, over httptest, with a login
// step a test drives, and switches that make it misbehave the ways a real
// provider or a man in the middle can (an expired ID token, a bad signature,
// a token issued to another application).
package optest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2"
	"golang.org/x/text/language"
)

// The provider's clients: Rectify, and another application whose ID tokens
// a man in the middle may try to pass off as Rectify's.
const (
	ClientID          = "rectify"
	ClientSecret      = "rectify-client-secret"
	OtherClientID     = "other-app"
	OtherClientSecret = "other-app-secret"
	otherRedirect     = "http://other.test/callback"
)

// Person is someone the provider knows, with the claims it asserts.
type Person struct {
	Username string
	Password string
	Name     string
	Groups   []string
	Unit     string // the "department" claim
}

// Provider is a running OpenID provider.
type Provider struct {
	Issuer string
	server *httptest.Server

	mu       sync.Mutex
	people   map[string]Person // by subject (= username here)
	lifetime time.Duration     // the ID token's lifetime
	tamper   bool              // flip a byte of the ID token's signature in the token response
	swap     string            // an ID token put in place of the one issued
}

// Start runs a provider that sends codes to redirectURIs.
func Start(t testing.TB, redirectURIs ...string) *Provider {
	t.Helper()
	p := &Provider{people: map[string]Person{}, lifetime: time.Hour}
	mux := http.NewServeMux()
	p.server = httptest.NewServer(mux)
	t.Cleanup(p.server.Close)
	p.Issuer = p.server.URL

	clients := map[string]*storage.Client{ClientID: storage.WebClient(ClientID, ClientSecret, redirectURIs...),
		OtherClientID: storage.WebClient(OtherClientID, OtherClientSecret, otherRedirect)}
	st := &store{Storage: storage.NewStorageWithClients(users{p}, clients), p: p}
	key := sha256.Sum256([]byte("optest"))
	provider, err := op.NewProvider(&op.Config{CryptoKey: key, CodeMethodS256: true, AuthMethodPost: true,
		SupportedUILocales: []language.Tag{language.English}}, st, op.StaticIssuer(p.Issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatalf("op.NewProvider: %v", err)
	}
	callback := op.AuthCallbackURL(provider)
	interceptor := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	// The login page: the test posts the person's username and password.
	mux.HandleFunc("POST /login/username", interceptor.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.FormValue("id")
		if err := st.CheckUsernamePassword(r.FormValue("username"), r.FormValue("password"), id); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
	}))
	mux.Handle("/", p.tamperTokens(provider))
	return p
}

// Add makes a person known (or changes what the provider says about them).
func (p *Provider) Add(person Person) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.people[person.Username] = person
}

// Remove forgets a person.
func (p *Provider) Remove(username string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.people, username)
}

// Misbehaviour is what goes wrong with the ID tokens the provider issues.
type Misbehaviour struct {
	Lifetime time.Duration // 0: an hour; negative: expired on issue
	Tamper   bool          // a byte of the signature flipped on the way
	Swap     string        // another ID token put in place of the one issued (see IDTokenFor)
}

// Misbehave sets what goes wrong from now on; the zero value, nothing.
func (p *Provider) Misbehave(m Misbehaviour) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m.Lifetime == 0 {
		m.Lifetime = time.Hour
	}
	p.lifetime, p.tamper, p.swap = m.Lifetime, m.Tamper, m.Swap
}

// IDTokenFor signs a person in to the other application and returns the ID
// token the provider issued to it: genuinely signed, for another audience.
func (p *Provider) IDTokenFor(t testing.TB, username, password string) string {
	t.Helper()
	cfg := &oauth2.Config{ClientID: OtherClientID, ClientSecret: OtherClientSecret, RedirectURL: otherRedirect,
		Endpoint: oauth2.Endpoint{AuthURL: p.Issuer + "/authorize", TokenURL: p.Issuer + "/oauth/token"}, Scopes: []string{"openid"}}
	back := p.SignIn(t, cfg.AuthCodeURL("other-state"), username, password)
	tok, err := cfg.Exchange(context.Background(), back.Query().Get("code"))
	if err != nil {
		t.Fatalf("the other application's token: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("no ID token for the other application")
	}
	return raw
}

// SignIn plays the browser at the provider: it opens authURL, signs in as
// username with password, and returns the URL the provider sends the browser
// back to (the client's callback with code and state).
func (p *Provider) SignIn(t testing.TB, authURL, username, password string) *url.URL {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	loc := p.follow(t, c, http.MethodGet, authURL, nil) // → the login page with the auth request's id
	id := loc.Query().Get("authRequestID")
	if id == "" {
		t.Fatalf("the provider did not ask for a login: %s", loc)
	}
	form := url.Values{"id": {id}, "username": {username}, "password": {password}}
	loc = p.follow(t, c, http.MethodPost, p.Issuer+"/login/username", form) // → the provider's callback
	base, _ := url.Parse(p.Issuer)
	return p.follow(t, c, http.MethodGet, base.ResolveReference(loc).String(), nil) // → the client's redirect URI
}

func (p *Provider) follow(t testing.TB, c *http.Client, method, target string, form url.Values) *url.URL {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusFound && res.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s %s: %d %s", method, target, res.StatusCode, b)
	}
	loc, err := res.Location()
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// tamperTokens changes token responses while told to: it flips a byte of
// the ID token's signature, or puts another ID token in its place, as a man
// in the middle or a broken key would.
func (p *Provider) tamperTokens(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		tamper, swap := p.tamper, p.swap
		p.mu.Unlock()
		if (!tamper && swap == "") || r.URL.Path != "/oauth/token" {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err == nil {
			if _, ok := body["id_token"].(string); ok && swap != "" {
				body["id_token"] = swap
			}
			if tok, ok := body["id_token"].(string); ok && tamper {
				parts := strings.Split(tok, ".")
				sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
				sig[len(sig)/2] ^= 0xff
				parts[2] = base64.RawURLEncoding.EncodeToString(sig)
				body["id_token"] = strings.Join(parts, ".")
			}
		}
		b, _ := json.Marshal(body)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(b)
	})
}

// users is the example storage's user store over the provider's people.
type users struct{ p *Provider }

func (u users) GetUserByID(id string) *storage.User { return u.GetUserByUsername(id) }

func (u users) GetUserByUsername(username string) *storage.User {
	u.p.mu.Lock()
	defer u.p.mu.Unlock()
	person, ok := u.p.people[username]
	if !ok {
		return nil
	}
	return &storage.User{ID: person.Username, Username: person.Username, Password: person.Password, FirstName: person.Name}
}

func (u users) ExampleClientID() string { return storage.ServiceUserID }

// store is the example storage, asserting the person's claims in the ID
// token (as a provider's claim mappers do) and applying the misbehaviour.
type store struct {
	*storage.Storage
	p *Provider
}

func (s *store) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, req, scopes); err != nil {
		return err
	}
	s.p.mu.Lock()
	person := s.p.people[req.GetSubject()]
	s.p.mu.Unlock()
	info.PreferredUsername, info.Name = person.Username, person.Name
	info.AppendClaims("groups", person.Groups)
	if person.Unit != "" {
		info.AppendClaims("department", person.Unit)
	}
	return nil
}

func (s *store) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	return lifetimeClient{Client: c, lifetime: s.p.lifetime}, nil
}

type lifetimeClient struct {
	op.Client
	lifetime time.Duration
}

func (c lifetimeClient) IDTokenLifetime() time.Duration { return c.lifetime }
