package oidcauth_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/oidcauth"
	"github.com/rectify-team/rectify/internal/oidcauth/optest"
)

const callback = "http://rectify.test/cb"

func TestExchangeChecksTheToken(t *testing.T) {
	op := optest.Start(t, callback)
	op.Add(optest.Person{Username: "gina", Password: "pw", Name: "吉娜", Groups: []string{"owners", "staff"}, Unit: "中心/部门/一班"})
	p, err := oidcauth.New(oidcauth.Config{Issuer: op.Issuer, ClientID: optest.ClientID, ClientSecret: optest.ClientSecret,
		UnitClaim: "department"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := p.Check(ctx); err != nil {
		t.Fatalf("discovery: %v", err)
	}
	verifier := strings.Repeat("v", 43)
	flow := func(nonce string) string {
		u, err := p.AuthURL(ctx, callback, "state-1", nonce, verifier)
		if err != nil {
			t.Fatal(err)
		}
		return op.SignIn(t, u, "gina", "pw").Query().Get("code")
	}
	person, err := p.Exchange(ctx, callback, flow("nonce-1"), verifier, "nonce-1")
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if person.Username != "gina" || person.Name != "吉娜" || person.Subject != "gina" ||
		!slices.Equal(person.Groups, []string{"owners", "staff"}) || !slices.Equal(person.Unit, []string{"中心", "部门", "一班"}) {
		t.Fatalf("person %+v", person)
	}
	var refused *app.SignInRefusedError
	// Another sign-in's nonce.
	if _, err := p.Exchange(ctx, callback, flow("nonce-2"), verifier, "nonce-3"); !errors.As(err, &refused) || !strings.Contains(refused.Reason, "nonce") {
		t.Fatalf("wrong nonce: %v", err)
	}
	// The wrong PKCE verifier: the provider refuses the code.
	if _, err := p.Exchange(ctx, callback, flow("nonce-4"), strings.Repeat("w", 43), "nonce-4"); !errors.As(err, &refused) || !strings.Contains(refused.Reason, "invalid_grant") {
		t.Fatalf("wrong verifier: %v", err)
	}
}

func TestConfigAndUnreachableProvider(t *testing.T) {
	for name, c := range map[string]oidcauth.Config{
		"no issuer":    {ClientID: "x"},
		"ftp issuer":   {Issuer: "ftp://h", ClientID: "x"},
		"no client id": {Issuer: "https://h"},
	} {
		if _, err := oidcauth.New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	p, err := oidcauth.New(oidcauth.Config{Issuer: "http://127.0.0.1:1", ClientID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(context.Background()); !errors.Is(err, app.ErrDirectoryUnavailable) {
		t.Fatalf("check: %v", err)
	}
	if _, err := p.AuthURL(context.Background(), callback, "s", "n", "v"); !errors.Is(err, app.ErrDirectoryUnavailable) {
		t.Fatalf("auth URL: %v", err)
	}
}
