package config

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// SignIn is the configuration of the ways in besides local accounts: an
// LDAP/AD directory and an OpenID Connect provider, each off unless its
// URL is set.
type SignIn struct {
	LDAP         *LDAP  // nil: no directory
	LDAPName     string // shown on the sign-in page
	LDAPMapping  Mapping
	SyncInterval time.Duration // how often directory users are checked; 0: only at sign-in

	OIDC         *OIDC // nil: no provider
	OIDCName     string
	OIDCMapping  Mapping
	RedirectURLs []string // the callbacks registered with the provider; the first is the API's
}

// LDAP is where the directory is and how to read a person from it; the
// ldapauth package checks and uses it (cmd/rectify converts).
type LDAP struct {
	URL, CAFile, BindDN, BindPassword, BaseDN, UserFilter, NameAttr string
	StartTLS, AllowPlain, UnitFromOU                                bool
	GroupAttr, GroupBaseDN, GroupFilter, UnitAttr, DisabledFilter   string
	Timeout                                                         time.Duration
}

// OIDC is the OpenID provider and the claims read from its ID tokens; the
// oidcauth package checks and uses it.
type OIDC struct {
	Issuer, ClientID, ClientSecret                   string
	Scopes                                           []string // besides openid
	UsernameClaim, NameClaim, GroupsClaim, UnitClaim string
}

// Mapping is a directory's groups → roles and unit values → units.
type Mapping struct {
	GroupRoles    map[string][]domain.Role // keys lower-case
	UnitByValue   map[string]int64
	DefaultUnitID int64
}

type signInFlags struct {
	ldapURL, ldapCA, ldapBindDN, ldapBase, ldapUserFilter, ldapNameAttr, ldapGroupAttr, ldapGroupBase, ldapGroupFilter string
	ldapUnitAttr, ldapDisabled, ldapName, ldapRoles, ldapUnits                                                         string
	ldapStartTLS, ldapPlain, ldapUnitOU                                                                                bool
	ldapDefaultUnit                                                                                                    int64
	ldapTimeout                                                                                                        time.Duration

	oidcIssuer, oidcClientID, oidcRedirect, oidcScopes, oidcUserClaim, oidcNameClaim, oidcGroupsClaim, oidcUnitClaim string
	oidcName, oidcRoles, oidcUnits                                                                                   string
	oidcDefaultUnit                                                                                                  int64
}

func registerSignIn(fs *flag.FlagSet, c *Config, getenv func(string) string, errs *[]error) *signInFlags {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	envBool := func(k string) bool {
		v := getenv(k)
		if v == "" {
			return false
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("%s %q: want true or false", k, v))
		}
		return b
	}
	envInt := func(k string) int64 {
		v := getenv(k)
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			*errs = append(*errs, fmt.Errorf("%s %q: want a unit id", k, v))
		}
		return n
	}
	envDur := func(k string, def time.Duration) time.Duration {
		v := getenv(k)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("%s %q: want a duration such as 15m", k, v))
		}
		return d
	}
	f := &signInFlags{}
	fs.StringVar(&f.ldapURL, "ldap-url", env("RECTIFY_LDAP_URL", ""), "LDAP/AD server, ldaps://host:636 or ldap://host:389; empty: no directory sign-in (RECTIFY_LDAP_URL)")
	fs.BoolVar(&f.ldapStartTLS, "ldap-start-tls", envBool("RECTIFY_LDAP_START_TLS"), "upgrade ldap:// with StartTLS (RECTIFY_LDAP_START_TLS)")
	fs.BoolVar(&f.ldapPlain, "ldap-allow-plain", envBool("RECTIFY_LDAP_ALLOW_PLAIN"), "allow ldap:// without TLS: passwords in clear (RECTIFY_LDAP_ALLOW_PLAIN)")
	fs.StringVar(&f.ldapCA, "ldap-ca-file", env("RECTIFY_LDAP_CA_FILE", ""), "PEM CA bundle for the directory's certificate; default the system's (RECTIFY_LDAP_CA_FILE)")
	fs.StringVar(&f.ldapBindDN, "ldap-bind-dn", env("RECTIFY_LDAP_BIND_DN", ""), "service account that searches; its password is RECTIFY_LDAP_BIND_PASSWORD (RECTIFY_LDAP_BIND_DN)")
	fs.StringVar(&f.ldapBase, "ldap-base-dn", env("RECTIFY_LDAP_BASE_DN", ""), "where people are searched (RECTIFY_LDAP_BASE_DN)")
	fs.StringVar(&f.ldapUserFilter, "ldap-user-filter", env("RECTIFY_LDAP_USER_FILTER", "(uid={username})"), "finds a person; AD: (sAMAccountName={username}) (RECTIFY_LDAP_USER_FILTER)")
	fs.StringVar(&f.ldapNameAttr, "ldap-name-attr", env("RECTIFY_LDAP_NAME_ATTR", "cn"), "display name attribute (RECTIFY_LDAP_NAME_ATTR)")
	fs.StringVar(&f.ldapGroupAttr, "ldap-group-attr", env("RECTIFY_LDAP_GROUP_ATTR", ""), "groups on the person's entry, e.g. memberOf; empty: search groups (RECTIFY_LDAP_GROUP_ATTR)")
	fs.StringVar(&f.ldapGroupBase, "ldap-group-base-dn", env("RECTIFY_LDAP_GROUP_BASE_DN", ""), "where groups are searched; default the base DN (RECTIFY_LDAP_GROUP_BASE_DN)")
	fs.StringVar(&f.ldapGroupFilter, "ldap-group-filter", env("RECTIFY_LDAP_GROUP_FILTER", "(member={dn})"), "finds a person's groups (RECTIFY_LDAP_GROUP_FILTER)")
	fs.StringVar(&f.ldapUnitAttr, "ldap-unit-attr", env("RECTIFY_LDAP_UNIT_ATTR", ""), "attribute naming the person's unit, e.g. department (RECTIFY_LDAP_UNIT_ATTR)")
	fs.BoolVar(&f.ldapUnitOU, "ldap-unit-from-ou", envBool("RECTIFY_LDAP_UNIT_FROM_OU"), "the unit is the OU path of the person's DN (RECTIFY_LDAP_UNIT_FROM_OU)")
	fs.StringVar(&f.ldapDisabled, "ldap-disabled-filter", env("RECTIFY_LDAP_DISABLED_FILTER", ""), "matches entries that may not sign in; AD: (userAccountControl:1.2.840.113556.1.4.803:=2) (RECTIFY_LDAP_DISABLED_FILTER)")
	fs.StringVar(&f.ldapRoles, "ldap-group-roles", env("RECTIFY_LDAP_GROUP_ROLES", ""), `groups to roles, JSON: {"cn=qa,ou=groups,dc=x":["inspector"],"verifiers":["verifier"]} (RECTIFY_LDAP_GROUP_ROLES)`)
	fs.StringVar(&f.ldapUnits, "ldap-unit-map", env("RECTIFY_LDAP_UNIT_MAP", ""), `unit values to unit ids, JSON: {"QA":4}; others match units by name (RECTIFY_LDAP_UNIT_MAP)`)
	fs.Int64Var(&f.ldapDefaultUnit, "ldap-default-unit", envInt("RECTIFY_LDAP_DEFAULT_UNIT"), "unit id of new users whose unit matches none; 0: the root (RECTIFY_LDAP_DEFAULT_UNIT)")
	fs.StringVar(&f.ldapName, "ldap-display-name", env("RECTIFY_LDAP_DISPLAY_NAME", "LDAP"), "the directory's name on the sign-in page (RECTIFY_LDAP_DISPLAY_NAME)")
	fs.DurationVar(&f.ldapTimeout, "ldap-timeout", envDur("RECTIFY_LDAP_TIMEOUT", 10*time.Second), "per directory connection and request (RECTIFY_LDAP_TIMEOUT)")
	fs.DurationVar(&c.SignIn.SyncInterval, "ldap-sync-interval", envDur("RECTIFY_LDAP_SYNC_INTERVAL", 15*time.Minute),
		"how often directory users are checked (removed or disabled ones lose their sessions); 0: only at sign-in (RECTIFY_LDAP_SYNC_INTERVAL)")

	fs.StringVar(&f.oidcIssuer, "oidc-issuer", env("RECTIFY_OIDC_ISSUER", ""), "OpenID provider's issuer URL; empty: no OpenID Connect sign-in (RECTIFY_OIDC_ISSUER)")
	fs.StringVar(&f.oidcClientID, "oidc-client-id", env("RECTIFY_OIDC_CLIENT_ID", ""), "client ID; the secret is RECTIFY_OIDC_CLIENT_SECRET (RECTIFY_OIDC_CLIENT_ID)")
	fs.StringVar(&f.oidcRedirect, "oidc-redirect-url", env("RECTIFY_OIDC_REDIRECT_URL", ""),
		"callback(s) registered with the provider, comma-separated; the first is https://HOST/api/v1/auth/oidc/callback (RECTIFY_OIDC_REDIRECT_URL)")
	fs.StringVar(&f.oidcScopes, "oidc-scopes", env("RECTIFY_OIDC_SCOPES", "profile,email"), "scopes besides openid (RECTIFY_OIDC_SCOPES)")
	fs.StringVar(&f.oidcUserClaim, "oidc-username-claim", env("RECTIFY_OIDC_USERNAME_CLAIM", "preferred_username"), "ID token claim with the username (RECTIFY_OIDC_USERNAME_CLAIM)")
	fs.StringVar(&f.oidcNameClaim, "oidc-name-claim", env("RECTIFY_OIDC_NAME_CLAIM", "name"), "ID token claim with the display name (RECTIFY_OIDC_NAME_CLAIM)")
	fs.StringVar(&f.oidcGroupsClaim, "oidc-groups-claim", env("RECTIFY_OIDC_GROUPS_CLAIM", "groups"), "ID token claim with the groups (RECTIFY_OIDC_GROUPS_CLAIM)")
	fs.StringVar(&f.oidcUnitClaim, "oidc-unit-claim", env("RECTIFY_OIDC_UNIT_CLAIM", ""), `ID token claim with the unit ("a/b" or an array is a path) (RECTIFY_OIDC_UNIT_CLAIM)`)
	fs.StringVar(&f.oidcRoles, "oidc-group-roles", env("RECTIFY_OIDC_GROUP_ROLES", ""), "groups to roles, JSON like RECTIFY_LDAP_GROUP_ROLES (RECTIFY_OIDC_GROUP_ROLES)")
	fs.StringVar(&f.oidcUnits, "oidc-unit-map", env("RECTIFY_OIDC_UNIT_MAP", ""), "unit values to unit ids, JSON (RECTIFY_OIDC_UNIT_MAP)")
	fs.Int64Var(&f.oidcDefaultUnit, "oidc-default-unit", envInt("RECTIFY_OIDC_DEFAULT_UNIT"), "unit id of new users whose unit matches none; 0: the root (RECTIFY_OIDC_DEFAULT_UNIT)")
	fs.StringVar(&f.oidcName, "oidc-display-name", env("RECTIFY_OIDC_DISPLAY_NAME", "OpenID Connect"), "the provider's name on the sign-in page (RECTIFY_OIDC_DISPLAY_NAME)")
	return f
}

// validateSignIn builds the LDAP and OIDC configurations once the flags are parsed.
func validateSignIn(c *Config, f *signInFlags, getenv func(string) string, checks Checks) []error {
	var errs []error
	if c.SignIn.SyncInterval < 0 || (c.SignIn.SyncInterval > 0 && c.SignIn.SyncInterval < time.Minute) {
		errs = append(errs, fmt.Errorf("RECTIFY_LDAP_SYNC_INTERVAL %s: 0 (off) or at least 1m", c.SignIn.SyncInterval))
	}
	if f.ldapURL != "" {
		lc := LDAP{URL: f.ldapURL, StartTLS: f.ldapStartTLS, AllowPlain: f.ldapPlain, CAFile: f.ldapCA,
			BindDN: f.ldapBindDN, BindPassword: getenv("RECTIFY_LDAP_BIND_PASSWORD"), BaseDN: f.ldapBase,
			UserFilter: f.ldapUserFilter, NameAttr: f.ldapNameAttr, GroupAttr: f.ldapGroupAttr, GroupBaseDN: f.ldapGroupBase,
			GroupFilter: f.ldapGroupFilter, UnitAttr: f.ldapUnitAttr, UnitFromOU: f.ldapUnitOU, DisabledFilter: f.ldapDisabled,
			Timeout: f.ldapTimeout}
		if checks.LDAP != nil {
			if err := checks.LDAP(lc); err != nil {
				errs = append(errs, fmt.Errorf("RECTIFY_LDAP_*: %w", err))
			}
		}
		if f.ldapBindDN != "" && lc.BindPassword == "" {
			errs = append(errs, fmt.Errorf("RECTIFY_LDAP_BIND_PASSWORD: required with RECTIFY_LDAP_BIND_DN"))
		}
		if f.ldapTimeout < time.Second || f.ldapTimeout > time.Minute {
			errs = append(errs, fmt.Errorf("RECTIFY_LDAP_TIMEOUT %s: between 1s and 1m", f.ldapTimeout))
		}
		m, err := parseMapping("RECTIFY_LDAP", f.ldapRoles, f.ldapUnits, f.ldapDefaultUnit)
		if err != nil {
			errs = append(errs, err)
		}
		c.SignIn.LDAP, c.SignIn.LDAPMapping, c.SignIn.LDAPName = &lc, m, f.ldapName
	}
	if f.oidcIssuer != "" {
		oc := OIDC{Issuer: f.oidcIssuer, ClientID: f.oidcClientID, ClientSecret: getenv("RECTIFY_OIDC_CLIENT_SECRET"),
			UsernameClaim: f.oidcUserClaim, NameClaim: f.oidcNameClaim, GroupsClaim: f.oidcGroupsClaim, UnitClaim: f.oidcUnitClaim,
			Scopes: []string{}}
		for _, s := range strings.Split(f.oidcScopes, ",") {
			if s = strings.TrimSpace(s); s != "" && s != "openid" {
				oc.Scopes = append(oc.Scopes, s)
			}
		}
		if checks.OIDC != nil {
			if err := checks.OIDC(oc); err != nil {
				errs = append(errs, fmt.Errorf("RECTIFY_OIDC_*: %w", err))
			}
		}
		for _, r := range strings.Split(f.oidcRedirect, ",") {
			if r = strings.TrimSpace(r); r == "" {
				continue
			}
			if u, err := url.Parse(r); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				errs = append(errs, fmt.Errorf("RECTIFY_OIDC_REDIRECT_URL %q: want an absolute URL such as https://rectify.example/api/v1/auth/oidc/callback", r))
			}
			c.SignIn.RedirectURLs = append(c.SignIn.RedirectURLs, r)
		}
		if len(c.SignIn.RedirectURLs) == 0 {
			errs = append(errs, fmt.Errorf("RECTIFY_OIDC_REDIRECT_URL: required with RECTIFY_OIDC_ISSUER (https://HOST/api/v1/auth/oidc/callback)"))
		}
		m, err := parseMapping("RECTIFY_OIDC", f.oidcRoles, f.oidcUnits, f.oidcDefaultUnit)
		if err != nil {
			errs = append(errs, err)
		}
		c.SignIn.OIDC, c.SignIn.OIDCMapping, c.SignIn.OIDCName = &oc, m, f.oidcName
	}
	return errs
}

// parseMapping reads PREFIX_GROUP_ROLES (required: without it nobody could
// sign in) and PREFIX_UNIT_MAP.
func parseMapping(prefix, roles, units string, defaultUnit int64) (Mapping, error) {
	m := Mapping{GroupRoles: map[string][]domain.Role{}, UnitByValue: map[string]int64{}, DefaultUnitID: defaultUnit}
	if strings.TrimSpace(roles) == "" {
		return m, fmt.Errorf(`%s_GROUP_ROLES: required, e.g. {"verifiers":["verifier"],"cn=qa,ou=groups,dc=example,dc=org":["inspector"]}`, prefix)
	}
	var raw map[string][]string
	if err := json.Unmarshal([]byte(roles), &raw); err != nil {
		return m, fmt.Errorf("%s_GROUP_ROLES: want a JSON object of group → array of roles: %w", prefix, err)
	}
	for g, names := range raw {
		rs, err := domain.ParseRoles(names)
		if err != nil {
			return m, fmt.Errorf("%s_GROUP_ROLES %q: %w", prefix, g, err)
		}
		key := strings.ToLower(strings.TrimSpace(g))
		m.GroupRoles[key] = append(m.GroupRoles[key], rs...)
	}
	if strings.TrimSpace(units) != "" {
		if err := json.Unmarshal([]byte(units), &m.UnitByValue); err != nil {
			return m, fmt.Errorf("%s_UNIT_MAP: want a JSON object of value → unit id: %w", prefix, err)
		}
		for v, id := range m.UnitByValue {
			if id <= 0 {
				return m, fmt.Errorf("%s_UNIT_MAP %q: %d is not a unit id", prefix, v, id)
			}
		}
	}
	return m, nil
}
