package httpapi

import (
	"bytes"
	"errors"
	"github.com/rectify-team/rectify/internal/app/wire"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/rectify-team/rectify/internal/app"
)

// The parsers that face users must never panic, and must answer bad input
// only with a client error (400 or 413), never with anything that would
// become a 500. Seeds live in testdata/fuzz/.

func isClientError(err error) bool {
	var bad *badRequest
	var tooBig *http.MaxBytesError
	return errors.As(err, &bad) || errors.As(err, &tooBig)
}

func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{"", *encodeCursor("p", 1), *encodeCursor("a", 99), "cDox", "!!", "cDotMQ", "cDo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := decodeCursor("p", s)
		switch {
		case err != nil:
			if !isClientError(err) {
				t.Fatalf("decodeCursor(%q): %v is not a client error", s, err)
			}
		case s == "":
			if n != 0 {
				t.Fatalf("empty cursor gave %d", n)
			}
		default:
			if n <= 0 {
				t.Fatalf("decodeCursor(%q) = %d, want a positive position", s, n)
			}
			if back, err := decodeCursor("p", *encodeCursor("p", n)); err != nil || back != n {
				t.Fatalf("round trip of %d: %d, %v", n, back, err)
			}
		}
	})
}

func testContext(method, target string, body []byte) *gin.Context {
	gin.SetMode(gin.ReleaseMode)
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(method, target, bytes.NewReader(body))
	return c
}

func FuzzProblemFilter(f *testing.F) {
	for _, s := range []string{"", "status=registered,closed&severity=critical", "warning=red&overdue=true",
		"q=%E5%AD%A6%E4%B9%A0&limit=200", "deadline_from=2026-01-01&deadline_to=2026-12-31",
		"created_from=2026-03-01T00:00:00Z&created_to=2026-03-02", "unit_id=1&category_id=2&assignee_id=3",
		"limit=0", "status=open", "foo=bar", "cursor=%%%", "overdue=maybe"} {
		f.Add(s)
	}
	a := &api{svc: ServicesOf(wire.New(nil, nil, app.DefaultConfig()))}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		if _, err := url.ParseQuery(rawQuery); err != nil {
			return // net/http would not route such a URL to us unchanged
		}
		c := testContext("GET", "/api/v1/problems", nil)
		c.Request.URL.RawQuery = rawQuery
		f, err := a.parseProblemFilter(c)
		if err != nil {
			if !isClientError(err) {
				t.Fatalf("parseProblemFilter(%q): %v is not a client error", rawQuery, err)
			}
			return
		}
		if f.Limit < 1 || f.Limit > 200 {
			t.Fatalf("limit %d accepted", f.Limit)
		}
	})
}

func FuzzDecodeProblemBody(f *testing.F) {
	for _, s := range []string{`{"title":"学习意识仍需加强","category_id":5,"severity":"general","source":"inspection","unit_id":1}`,
		`{}`, `[]`, `null`, `{"title":1}`, `{"title":"a"}{"title":"b"}`, `{"nope":true}`, `{"category_id":1e99}`, `{"title":"\ud800"}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c := testContext("POST", "/api/v1/problems", body)
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 1<<12)
		var req problemRequest
		if err := decode(c, &req); err != nil && !isClientError(err) {
			t.Fatalf("decode(%q): %v is not a client error", body, err)
		}
	})
}

func FuzzIfMatch(f *testing.F) {
	for _, s := range []string{"", "*", `"3"`, `W/"3"`, "3", `"abc"`, `"-1"`, `""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		c := testContext("POST", "/x", nil)
		c.Request.Header.Set("If-Match", h)
		n, err := ifMatch(c)
		if err == nil && n < 0 {
			t.Fatalf("ifMatch(%q) = %d", h, n)
		}
	})
}
