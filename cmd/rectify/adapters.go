package main

import (
	"github.com/rectify-team/rectify/internal/config"
	"github.com/rectify-team/rectify/internal/ldapauth"
	"github.com/rectify-team/rectify/internal/oidcauth"
	"github.com/rectify-team/rectify/internal/webhook"
)

// adapterChecks lets config report the adapters' objections to their
// settings with its own, at start and all at once.
func adapterChecks() config.Checks {
	return config.Checks{
		Webhooks: func(raw string) error {
			_, err := webhook.ParseTargets(raw)
			return err
		},
		LDAP: func(c config.LDAP) error {
			_, err := ldapauth.New(ldapConfig(c))
			return err
		},
		OIDC: func(c config.OIDC) error {
			_, err := oidcauth.New(oidcConfig(c))
			return err
		},
	}
}

func ldapConfig(c config.LDAP) ldapauth.Config {
	return ldapauth.Config{URL: c.URL, StartTLS: c.StartTLS, AllowPlain: c.AllowPlain, CAFile: c.CAFile,
		BindDN: c.BindDN, BindPassword: c.BindPassword, BaseDN: c.BaseDN, UserFilter: c.UserFilter, NameAttr: c.NameAttr,
		GroupAttr: c.GroupAttr, GroupBaseDN: c.GroupBaseDN, GroupFilter: c.GroupFilter, UnitAttr: c.UnitAttr,
		UnitFromOU: c.UnitFromOU, DisabledFilter: c.DisabledFilter, Timeout: c.Timeout}
}

func oidcConfig(c config.OIDC) oidcauth.Config {
	return oidcauth.Config{Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: c.Scopes,
		UsernameClaim: c.UsernameClaim, NameClaim: c.NameClaim, GroupsClaim: c.GroupsClaim, UnitClaim: c.UnitClaim}
}

func webhookTargets(ws []config.Webhook) []webhook.Target {
	ts := make([]webhook.Target, 0, len(ws))
	for _, w := range ws {
		ts = append(ts, webhook.Target{Name: w.Name, Kind: webhook.Kind(w.Kind), URL: w.URL, Secret: w.Secret, Events: w.Events})
	}
	return ts
}
