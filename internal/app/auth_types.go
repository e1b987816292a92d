package app

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// Login results are the same for an unknown user, a wrong password and a
// disabled account, so that the answer does not tell which usernames exist.
var ErrBadCredentials = fmt.Errorf("wrong username or password: %w", domain.ErrUnauthenticated)

// LoginResult is what a successful login returns. Token is shown once.
type LoginResult struct {
	Token     string
	ExpiresAt time.Time
	User      *User
}

// NormalizeUsername lower-cases and trims a username.
func NormalizeUsername(u string) string { return strings.ToLower(strings.TrimSpace(u)) }

// GeneratePassword returns a random password for the first admin.
func GeneratePassword() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
