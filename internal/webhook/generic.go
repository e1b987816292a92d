package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Errors of VerifyGeneric, for errors.Is.
var (
	// ErrBadSignature means the signature or its timestamp is missing,
	// malformed or does not match the body.
	ErrBadSignature = errors.New("webhook: bad signature")
	// ErrStaleTimestamp means the signature is genuine but its timestamp is
	// further from now than the tolerance: a replay, or a clock far off.
	ErrStaleTimestamp = errors.New("webhook: timestamp outside tolerance")
)

// genericPayload is the generic webhook's body.
type genericPayload struct {
	ID         string          `json:"id"`
	Kind       string          `json:"kind"`
	OccurredAt string          `json:"occurred_at"` // RFC 3339, UTC
	Title      string          `json:"title"`
	Text       string          `json:"text"`
	Data       json.RawMessage `json:"data"` // a JSON object, {} when there is none
}

// genericRequest builds the generic webhook's body and its signed headers.
func genericRequest(u *url.URL, secret string, m Message, now time.Time) (request, error) {
	data := bytes.TrimSpace(m.Data)
	switch {
	case len(data) == 0 || string(data) == "null":
		data = []byte("{}")
	case data[0] != '{' || !json.Valid(data):
		return request{}, errors.New("message data is not a JSON object")
	}
	body, err := encodeJSON(genericPayload{
		ID:         m.EventID,
		Kind:       m.Kind,
		OccurredAt: m.OccurredAt.UTC().Format(time.RFC3339),
		Title:      m.Title,
		Text:       m.Text,
		Data:       data,
	})
	if err != nil {
		return request{}, fmt.Errorf("encode message: %w", err)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	h := http.Header{}
	h.Set(headerEvent, m.Kind)
	h.Set(headerTimestamp, ts)
	h.Set(headerSignature, "sha256="+hex.EncodeToString(genericMAC(secret, ts, body)))
	return request{url: u, body: body, header: h}, nil
}

// genericMAC is HMAC-SHA256(key=secret, timestamp+"."+body).
func genericMAC(secret, timestamp string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return mac.Sum(nil)
}

// VerifyGeneric checks a generic webhook request as its receiver gets it:
// header and the raw, unparsed body. It returns nil when X-Rectify-Signature
// is the HMAC of X-Rectify-Timestamp and body under secret (compared in
// constant time) and that timestamp is within tolerance of now, either side.
// Otherwise it returns an error wrapping ErrBadSignature or ErrStaleTimestamp.
func VerifyGeneric(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if secret == "" {
		return fmt.Errorf("%w: no secret to verify with", ErrBadSignature)
	}
	ts := header.Get(headerTimestamp)
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: missing or malformed %s", ErrBadSignature, headerTimestamp)
	}
	hexSig, ok := strings.CutPrefix(header.Get(headerSignature), "sha256=")
	if !ok {
		return fmt.Errorf("%w: missing or malformed %s", ErrBadSignature, headerSignature)
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil {
		return fmt.Errorf("%w: malformed %s", ErrBadSignature, headerSignature)
	}
	if !hmac.Equal(sig, genericMAC(secret, ts, body)) {
		return fmt.Errorf("%w: signature does not match", ErrBadSignature)
	}
	// Checked after the signature, so that only a genuine request hears its timestamp is stale.
	if d := now.Sub(time.Unix(unix, 0)).Abs(); d > tolerance {
		return fmt.Errorf("%w: %s off", ErrStaleTimestamp, d.Truncate(time.Second))
	}
	return nil
}
