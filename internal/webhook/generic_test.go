package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/webhook"
)

type genericBody struct {
	ID         string          `json:"id"`
	Kind       string          `json:"kind"`
	OccurredAt string          `json:"occurred_at"`
	Title      string          `json:"title"`
	Text       string          `json:"text"`
	Data       json.RawMessage `json:"data"`
}

func TestGenericBodyAndHeaders(t *testing.T) {
	srv, got := receiver(t, http.StatusOK, "")
	m := message()
	if err := webhook.New(srv.Client(), clock).Send(context.Background(), genericTarget(srv.URL), m); err != nil {
		t.Fatal(err)
	}
	r := one(t, got)
	if r.method != http.MethodPost || r.path != "/hooks/rectify" || r.raw != "" {
		t.Fatalf("%s %s?%s", r.method, r.path, r.raw)
	}
	var b genericBody
	decodeStrict(t, r.body, &b)
	if b.ID != m.EventID || b.Kind != m.Kind || b.Title != m.Title || b.Text != m.Text {
		t.Fatalf("body %+v", b)
	}
	if b.OccurredAt != "2026-03-02T01:30:15Z" {
		t.Fatalf("occurred_at %q, want RFC 3339 in UTC", b.OccurredAt)
	}
	var data, wantData map[string]any
	if err := json.Unmarshal(b.Data, &data); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(m.Data, &wantData)
	if len(data) != 2 || data["problem"] != wantData["problem"] || data["due"] != wantData["due"] {
		t.Fatalf("data %s", b.Data)
	}

	ts := strconv.FormatInt(fixedNow.Unix(), 10)
	for k, want := range map[string]string{
		"Content-Type":        "application/json",
		"User-Agent":          "rectify-webhook/1",
		"X-Rectify-Event-Id":  "evt-000042",
		"X-Rectify-Event":     "problem.assigned",
		"X-Rectify-Timestamp": ts,
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s %q, want %q", k, got, want)
		}
	}
	// Computed here from the documented formula, then checked the receiver's way.
	mac := hmac.New(sha256.New, []byte(hmacKey))
	mac.Write([]byte(ts + "." + string(r.body)))
	if got, want := r.header.Get("X-Rectify-Signature"), "sha256="+hex.EncodeToString(mac.Sum(nil)); got != want {
		t.Errorf("X-Rectify-Signature %q, want %q", got, want)
	}
	if err := webhook.VerifyGeneric(hmacKey, r.header, r.body, fixedNow.Add(90*time.Second), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
}

func TestGenericWithoutDataSendsEmptyObject(t *testing.T) {
	for _, data := range []string{"", "null", "  "} {
		srv, got := receiver(t, http.StatusOK, "")
		m := message()
		m.Data = json.RawMessage(data)
		if err := webhook.New(srv.Client(), clock).Send(context.Background(), genericTarget(srv.URL), m); err != nil {
			t.Fatal(err)
		}
		var b genericBody
		decodeStrict(t, one(t, got).body, &b)
		if string(b.Data) != "{}" {
			t.Errorf("data %q sent as %s, want {}", data, b.Data)
		}
	}
}

func TestGenericAnySuccessStatusIsSuccess(t *testing.T) {
	for _, tc := range []struct {
		status int
		reply  string
	}{
		{http.StatusOK, `{"ok":true}`},
		{http.StatusAccepted, "queued"},
		{http.StatusNoContent, ""},
		{299, "<html>not JSON, and it need not be</html>"},
	} {
		srv, _ := receiver(t, tc.status, tc.reply)
		if err := webhook.New(srv.Client(), clock).Send(context.Background(), genericTarget(srv.URL), message()); err != nil {
			t.Errorf("status %d: %v", tc.status, err)
		}
	}
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound, http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		srv, _ := receiver(t, status, "")
		err := webhook.New(srv.Client(), clock).Send(context.Background(), genericTarget(srv.URL), message())
		if we := asError(t, err); we.Status != status || we.Code != 0 {
			t.Errorf("status %d: error %+v", status, we)
		}
	}
}

func TestVerifyGeneric(t *testing.T) {
	srv, got := receiver(t, http.StatusOK, "")
	if err := webhook.New(srv.Client(), clock).Send(context.Background(), genericTarget(srv.URL), message()); err != nil {
		t.Fatal(err)
	}
	r := one(t, got)
	with := func(key, value string) http.Header {
		h := r.header.Clone()
		if value == "" {
			h.Del(key)
		} else {
			h.Set(key, value)
		}
		return h
	}
	tampered := append([]byte(nil), r.body...)
	tampered[len(tampered)-2] = ' ' // inside "data"
	const tolerance = 5 * time.Minute
	sig := r.header.Get("X-Rectify-Signature")

	for _, tc := range []struct {
		name   string
		secret string
		header http.Header
		body   []byte
		now    time.Time
		want   error // nil: accepted
	}{
		{"genuine", hmacKey, r.header, r.body, fixedNow, nil},
		{"genuine, at the edge of the tolerance", hmacKey, r.header, r.body, fixedNow.Add(tolerance), nil},
		{"genuine, receiver's clock behind", hmacKey, r.header, r.body, fixedNow.Add(-tolerance), nil},
		{"tampered body", hmacKey, r.header, tampered, fixedNow, webhook.ErrBadSignature},
		{"empty body", hmacKey, r.header, nil, fixedNow, webhook.ErrBadSignature},
		{"wrong secret", hmacKey + "x", r.header, r.body, fixedNow, webhook.ErrBadSignature},
		{"no secret", "", r.header, r.body, fixedNow, webhook.ErrBadSignature},
		{"stale", hmacKey, r.header, r.body, fixedNow.Add(tolerance + time.Second), webhook.ErrStaleTimestamp},
		{"from the future", hmacKey, r.header, r.body, fixedNow.Add(-tolerance - time.Second), webhook.ErrStaleTimestamp},
		{"timestamp changed to look fresh", hmacKey, with("X-Rectify-Timestamp", strconv.FormatInt(fixedNow.Unix()+3600, 10)), r.body, fixedNow.Add(time.Hour), webhook.ErrBadSignature},
		{"no timestamp", hmacKey, with("X-Rectify-Timestamp", ""), r.body, fixedNow, webhook.ErrBadSignature},
		{"timestamp not a number", hmacKey, with("X-Rectify-Timestamp", "yesterday"), r.body, fixedNow, webhook.ErrBadSignature},
		{"no signature", hmacKey, with("X-Rectify-Signature", ""), r.body, fixedNow, webhook.ErrBadSignature},
		{"signature without sha256=", hmacKey, with("X-Rectify-Signature", sig[len("sha256="):]), r.body, fixedNow, webhook.ErrBadSignature},
		{"signature not hex", hmacKey, with("X-Rectify-Signature", "sha256=zz"), r.body, fixedNow, webhook.ErrBadSignature},
		{"signature truncated", hmacKey, with("X-Rectify-Signature", sig[:len(sig)-2]), r.body, fixedNow, webhook.ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := webhook.VerifyGeneric(tc.secret, tc.header, tc.body, tc.now, tolerance)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("VerifyGeneric: %v, want %v", err, tc.want)
			}
		})
	}
}
