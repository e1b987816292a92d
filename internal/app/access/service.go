// Package access is who may come in and who they are: sign-in with a
// password, through the LDAP/AD directory or an OpenID provider, sessions,
// and the organisation (units, categories, users) the admin keeps.
package access

import (
	"log/slog"
	"sync"
	"time"

	"github.com/rectify-team/rectify/internal/app"
)

// Service is the sign-in and organisation use cases.
type Service struct {
	core  *app.Core
	store app.Store
	cfg   app.Config
	clock func() time.Time
	log   *slog.Logger

	dummyOnce sync.Once
	dummy     []byte // bcrypt hash compared for unknown users

	dir     Directory // LDAP/AD sign-in (directory.go); nil: none
	dirSrc  app.IdentitySource
	oidc    OIDCProvider // OpenID Connect sign-in (oidc.go); nil: none
	oidcSrc app.OIDCSource
}

// New builds the access use cases on core, with a directory and an OpenID
// provider (either may be nil) and how each maps people.
func New(core *app.Core, dir Directory, dirSrc app.IdentitySource, oidc OIDCProvider, oidcSrc app.OIDCSource) *Service {
	return &Service{core: core, store: core.Store(), cfg: core.Config(), clock: core.Clock(), log: core.Log(),
		dir: dir, dirSrc: dirSrc, oidc: oidc, oidcSrc: oidcSrc}
}
