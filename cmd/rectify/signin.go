package main

import (
	"context"
	"github.com/rectify-team/rectify/internal/app/wire"
	"log/slog"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/config"
	"github.com/rectify-team/rectify/internal/ldapauth"
	"github.com/rectify-team/rectify/internal/oidcauth"
)

// signInOptions builds the configured ways in besides local accounts. A
// directory or provider that does not answer at start is a warning, not a
// failure: local accounts work meanwhile and sign-ins retry it.
func signInOptions(ctx context.Context, cfg *config.Config, log *slog.Logger) ([]wire.Option, error) {
	var opts []wire.Option
	check, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if lc := cfg.SignIn.LDAP; lc != nil {
		dir, err := ldapauth.New(ldapConfig(*lc))
		if err != nil {
			return nil, err
		}
		if err := dir.Check(check); err != nil {
			log.Warn("the LDAP directory does not answer at start; directory sign-ins fail until it does", "url", lc.URL, "err", err)
		}
		opts = append(opts, wire.WithDirectory(dir, app.IdentitySource{DisplayName: cfg.SignIn.LDAPName,
			Mapping: appMapping(cfg.SignIn.LDAPMapping)}))
	}
	if oc := cfg.SignIn.OIDC; oc != nil {
		prov, err := oidcauth.New(oidcConfig(*oc))
		if err != nil {
			return nil, err
		}
		if err := prov.Check(check); err != nil {
			log.Warn("the OpenID provider does not answer at start; OpenID Connect sign-ins fail until it does", "issuer", oc.Issuer, "err", err)
		}
		opts = append(opts, wire.WithOIDC(prov, app.OIDCSource{RedirectURLs: cfg.SignIn.RedirectURLs,
			IdentitySource: app.IdentitySource{DisplayName: cfg.SignIn.OIDCName, Mapping: appMapping(cfg.SignIn.OIDCMapping)}}))
	}
	return opts, nil
}

func appMapping(m config.Mapping) app.DirectoryMapping {
	return app.DirectoryMapping{GroupRoles: m.GroupRoles, UnitByValue: m.UnitByValue, DefaultUnitID: m.DefaultUnitID}
}

// directorySyncLoop checks directory users every interval: those removed or
// disabled in the directory are disabled here and their sessions end. Every
// instance runs it; the one holding the lease does the work.
func directorySyncLoop(ctx context.Context, svc *wire.Services, holder string, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rep, err := svc.Access.SyncDirectory(ctx, holder, every)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("directory sync failed", "err", err)
		case rep.Updated > 0 || rep.Disabled > 0:
			log.Info("directory sync", "checked", rep.Checked, "updated", rep.Updated, "disabled", rep.Disabled)
		}
	}
}
