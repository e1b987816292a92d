package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
)

func TestContentDisposition(t *testing.T) {
	tests := []struct{ name, want string }{
		{"report.pdf", `attachment; filename="report.pdf"`},
		{"整改报告.pdf", `attachment; filename="____.pdf"; filename*=UTF-8''%E6%95%B4%E6%94%B9%E6%8A%A5%E5%91%8A.pdf`},
		{`a"b\c;d%e.txt`, `attachment; filename="a_b_c_d_e.txt"; filename*=UTF-8''a%22b%5Cc%3Bd%25e.txt`},
		{"x\r\nSet-Cookie: y.txt", `attachment; filename="x__Set-Cookie: y.txt"; filename*=UTF-8''x%0D%0ASet-Cookie%3A%20y.txt`},
	}
	for _, tt := range tests {
		got := contentDisposition("attachment", tt.name)
		if got != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.name, got, tt.want)
		}
		if strings.ContainsAny(got, "\r\n") {
			t.Errorf("%q: a line break in the header", tt.name)
		}
		// A standard parser reads the real name back.
		_, params, err := mime.ParseMediaType(got)
		if err != nil || params["filename"] != tt.name && !strings.ContainsAny(tt.name, "\r\n") {
			t.Errorf("%q: parsed %v, %v", tt.name, params, err)
		}
	}
}

func TestFileLimit(t *testing.T) {
	read := func(n, limit int) (int, error) {
		b, err := io.ReadAll(&fileLimit{r: strings.NewReader(strings.Repeat("x", n)), left: int64(limit), limit: int64(limit)})
		return len(b), err
	}
	if n, err := read(100, 100); n != 100 || err != nil {
		t.Fatalf("at the limit: %d %v", n, err)
	}
	var tooBig *http.MaxBytesError
	if _, err := read(101, 100); !errors.As(err, &tooBig) || tooBig.Limit != 100 {
		t.Fatalf("over the limit: %v", err)
	}
}
