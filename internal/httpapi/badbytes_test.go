package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Bad bytes never give a 500: every multipart endpoint answers a malformed,
// truncated or odd body with a 400 in the one error shape.
func TestMalformedMultipartIsA400(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const b = "XyZbOuNdArY"
	ct := "multipart/form-data; boundary=" + b
	head := func(disposition string) string {
		return "--" + b + "\r\nContent-Disposition: " + disposition + "\r\nContent-Type: application/octet-stream\r\n\r\n"
	}
	file := string(samplePNG)
	bodies := []struct {
		name, ctype, body string
	}{
		{"malformed part header", ct, "--" + b + "\r\nContent-Disposition form-data; name=\"file\"\r\n\r\n" + file + "\r\n--" + b + "--\r\n"},
		{"header line of NUL", ct, "--" + b + "\r\n\x00\x00\x00\r\n\r\n" + file + "\r\n--" + b + "--\r\n"},
		{"NUL in the file name", ct, head(`form-data; name="file"; filename="a`+"\x00"+`.png"`) + file + "\r\n--" + b + "--\r\n"},
		{"NUL in the field name", ct, head(`form-data; name="fi`+"\x00"+`le"; filename="a.png"`) + file + "\r\n--" + b + "--\r\n"},
		{"truncated in the file", ct, head(`form-data; name="file"; filename="a.png"`) + file[:len(file)/2]},
		{"truncated in the header", ct, "--" + b + "\r\nContent-Disposition: form-da"},
		{"truncated after the boundary", ct, "--" + b},
		{"no closing boundary", ct, head(`form-data; name="file"; filename="a.png"`) + file + "\r\n"},
		{"bad disposition", ct, head(`form-data; name=; filename*=UTF-8''%ZZ`) + file + "\r\n--" + b + "--\r\n"},
		{"bad percent-encoding", ct, head(`form-data; name="file"; filename*=UTF-8''a%ZZ.png`) + file + "\r\n--" + b + "--\r\n"},
		{"encoded NUL in the file name", ct, head(`form-data; name="file"; filename*=UTF-8''a%00.png`) + file + "\r\n--" + b + "--\r\n"},
		{"only a preamble", ct, "hello, no boundary here"},
		{"empty", ct, ""},
		{"no boundary parameter", "multipart/form-data", head(`form-data; name="file"; filename="a.png"`) + file + "\r\n--" + b + "--\r\n"},
		{"bad content type", "multipart/form-data; boundary=\"unterminated", "x"},
		{"not multipart", "application/octet-stream", file},
	}
	for _, path := range []string{"/api/v1/attachments", "/api/v1/problems/import"} {
		for _, tc := range bodies {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				// Sent past the document's request check: these bodies are not
				// what it describes, and that is the point.
				hr := httptest.NewRequest("POST", path, strings.NewReader(tc.body))
				hr.Header.Set("Content-Type", tc.ctype)
				hr.Header.Set("Authorization", "Bearer "+s.token(t, "verifier"))
				rec := httptest.NewRecorder()
				s.handler.ServeHTTP(rec, hr)
				if rec.Code != http.StatusBadRequest {
					t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
				}
				var e apiError
				if err := json.NewDecoder(bytes.NewReader(rec.Body.Bytes())).Decode(&e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
					t.Fatalf("not the one error shape: %s", rec.Body)
				}
			})
		}
	}
}
