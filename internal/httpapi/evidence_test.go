package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Evidence (issue 3): uploads decided by content, size limits, visibility,
// attachment_ids on progress and submit, the submit policy.

var (
	samplePDF = []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
	sampleELF = append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"), bytes.Repeat([]byte{0}, 200)...)
	samplePE  = func() []byte {
		b := make([]byte, 512)
		copy(b, "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff")
		b[0x3c] = 0x80
		copy(b[0x80:], "PE\x00\x00\x4c\x01")
		return b
	}()
	samplePNG = func() []byte {
		img := image.NewRGBA(image.Rect(0, 0, 4, 4))
		img.Set(1, 1, color.RGBA{R: 255, A: 255})
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			panic(err)
		}
		return buf.Bytes()
	}()
)

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "blob", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// part is one multipart part.
type part struct {
	field, filename, contentType string
	content                      []byte
}

func multipartBody(t testing.TB, parts ...part) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := fmt.Sprintf(`form-data; name="%s"`, p.field)
		if p.filename != "" {
			cd += fmt.Sprintf(`; filename="%s"`, p.filename)
		}
		h.Set("Content-Disposition", cd)
		ct := p.contentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = pw.Write(p.content)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

// uploadReq builds an upload of one file.
func uploadReq(t testing.TB, as, name string, content []byte, header map[string]string) req {
	t.Helper()
	body, ct := multipartBody(t, part{field: "file", filename: name, content: content})
	h := map[string]string{"Content-Type": ct}
	for k, v := range header {
		h[k] = v
	}
	return req{method: "POST", path: "/api/v1/attachments", as: as, body: body, header: h}
}

type attachment struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256"`
	UploadedBy  int64  `json:"uploaded_by"`
	ProblemID   int64  `json:"problem_id"`
	Action      string `json:"action"`
}

// upload uploads a file and expects 201.
func (s *apiServer) upload(t testing.TB, as, name string, content []byte) attachment {
	t.Helper()
	var a attachment
	s.must(t, http.StatusCreated, uploadReq(t, as, name, content, nil)).decode(t, &a)
	return a
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// storedObjects lists the contents kept on disk and the staging files left.
func (s *apiServer) storedObjects(t testing.TB) (objects, staging []string) {
	t.Helper()
	root := s.env.Blobs.Dir()
	_ = filepath.WalkDir(filepath.Join(root, "objects"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			objects = append(objects, filepath.Base(path))
		}
		return nil
	})
	entries, _ := os.ReadDir(filepath.Join(root, "tmp"))
	for _, e := range entries {
		staging = append(staging, e.Name())
	}
	return objects, staging
}

func (s *apiServer) countRows(t testing.TB, table string) int {
	t.Helper()
	var n int
	if err := s.env.DB.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUploadDecidesTypeByContent(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	docx := testdata(t, "docx.docx")
	accepted := []struct {
		name    string
		content []byte
		ctype   string
	}{
		{"整改报告.pdf", samplePDF, "application/pdf"},
		{"现场照片.png", samplePNG, "image/png"},
		{"photo.jpg", samplePNG, "image/png"}, // the name lies; the content decides
		{"说明.txt", []byte("整改情况说明：已完成。\n"), "text/plain; charset=utf-8"},
		{"台账.docx", docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"旧版.doc", testdata(t, "doc.doc"), "application/msword"},
		{"表格.xls", testdata(t, "xls.xls"), "application/vnd.ms-excel"},
	}
	for _, tt := range accepted {
		t.Run("accepts "+tt.name, func(t *testing.T) {
			a := s.upload(t, "owner1", tt.name, tt.content)
			if a.ID == 0 || a.Name != tt.name || a.Size != int64(len(tt.content)) || a.ContentType != tt.ctype ||
				a.SHA256 != sum(tt.content) || a.UploadedBy != s.id("owner1") {
				t.Fatalf("uploaded %+v, want type %s, sha256 %s", a, tt.ctype, sum(tt.content))
			}
		})
	}
	before := s.countRows(t, "attachments")
	objects, _ := s.storedObjects(t)
	refused := []struct {
		name    string
		content []byte
	}{
		{"整改报告.pdf", sampleELF},               // a Linux executable renamed
		{"evidence.pdf", samplePE},            // a Windows executable renamed
		{"setup.doc", testdata(t, "msi.msi")}, // an installer: OLE, but not an Office document
		{"page.txt", []byte("<html><body><script>alert(1)</script></body></html>")},
		{"logo.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)},
		{"run.txt", []byte("#!/bin/sh\nrm -rf /\n")},
		{"empty.pdf", nil},
	}
	for _, tt := range refused {
		t.Run(fmt.Sprintf("refuses %s (%d bytes)", tt.name, len(tt.content)), func(t *testing.T) {
			status, code := http.StatusUnsupportedMediaType, "unsupported_media_type"
			if len(tt.content) == 0 {
				status, code = http.StatusBadRequest, "invalid_input"
			}
			r := s.must(t, status, uploadReq(t, "owner1", tt.name, tt.content, nil))
			if r.apiError(t).Error.Code != code || !r.hasField(t, "file") {
				t.Fatalf("refusal: %s", r.body)
			}
			if len(tt.content) > 0 && !strings.Contains(string(r.body), "not accepted as evidence") {
				t.Fatalf("the refusal does not say why: %s", r.body)
			}
		})
	}
	after, staging := s.storedObjects(t)
	if got := s.countRows(t, "attachments"); got != before || len(after) != len(objects) || len(staging) != 0 {
		t.Fatalf("refused uploads left something: %d rows (before %d), objects %v (before %v), staging %v", got, before, after, objects, staging)
	}
	// Refusals are audited on the system stream.
	var refusals int
	if err := s.env.DB.SQL().QueryRow("SELECT COUNT(*) FROM audit_entries WHERE action = 'attachment_upload' AND outcome = 'refused'").Scan(&refusals); err != nil {
		t.Fatal(err)
	}
	if refusals != len(refused) {
		t.Fatalf("%d refused uploads audited, want %d", refusals, len(refused))
	}

	// Malformed uploads.
	body, ct := multipartBody(t, part{field: "note", content: []byte("x")}, part{field: "file", filename: "a.pdf", content: samplePDF})
	s.run(t, []row{
		{name: "unknown field", req: req{method: "POST", path: "/api/v1/attachments", as: "owner1", body: body,
			header: map[string]string{"Content-Type": ct}}, status: http.StatusBadRequest, code: "invalid_request",
			check: func(t *testing.T, r res) {
				if !r.hasField(t, "note") {
					t.Fatalf("%s", r.body)
				}
			}},
		{name: "no file", req: func() req {
			b, ct := multipartBody(t)
			return req{method: "POST", path: "/api/v1/attachments", as: "owner1", body: b, header: map[string]string{"Content-Type": ct}}
		}(), status: http.StatusBadRequest, code: "invalid_request"},
		{name: "not multipart", req: req{method: "POST", path: "/api/v1/attachments", as: "owner1", body: `{"file":"x"}`},
			status: http.StatusBadRequest, code: "invalid_request"},
		{name: "no token", req: uploadReq(t, "", "a.pdf", samplePDF, nil), status: http.StatusUnauthorized},
	})
}

func TestUploadSizeLimit(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	s := newServerWith(t, setup{maxUploadBytes: limit})
	ok := append([]byte("合格的整改说明。\n"), bytes.Repeat([]byte("x"), limit-len("合格的整改说明。\n"))...)
	a := s.upload(t, "owner1", "刚好.txt", ok)
	if a.Size != limit {
		t.Fatalf("size %d", a.Size)
	}
	objects, _ := s.storedObjects(t)
	rows := s.countRows(t, "attachments")

	big := append(bytes.Repeat([]byte("a"), limit), 'b') // one byte over
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			r := uploadReq(t, "owner1", "big.txt", big, nil)
			r.chunked = chunked
			res := s.must(t, http.StatusRequestEntityTooLarge, r)
			if res.apiError(t).Error.Code != "too_large" {
				t.Fatalf("%s", res.body)
			}
		})
	}
	// Far too large: refused from Content-Length before reading.
	huge := uploadReq(t, "owner1", "huge.txt", bytes.Repeat([]byte("a"), 4*limit), nil)
	s.must(t, http.StatusRequestEntityTooLarge, huge)

	after, staging := s.storedObjects(t)
	if len(after) != len(objects) || len(staging) != 0 || s.countRows(t, "attachments") != rows {
		t.Fatalf("an oversize upload left something: objects %v, staging %v", after, staging)
	}
}

func TestUploadStoresContentOnce(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	a := s.upload(t, "owner1", "照片一.png", samplePNG)
	b := s.upload(t, "owner2", "photo-2.png", samplePNG)
	if a.ID == b.ID || a.SHA256 != b.SHA256 || a.SHA256 != sum(samplePNG) {
		t.Fatalf("two uploads of one content: %+v %+v", a, b)
	}
	objects, staging := s.storedObjects(t)
	if !slices.Equal(objects, []string{sum(samplePNG)}) || len(staging) != 0 {
		t.Fatalf("stored %v (staging %v), want the content once under its hash", objects, staging)
	}
}

func TestDownloadVisibility(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.register(t, "证据可见性", "一班", nil).ID
	s.assign(t, id, "owner1", "")
	s.act(t, "owner1", id, "accept", nil)
	name := "整改前后对比 (1).pdf"
	a := s.upload(t, "owner1", name, samplePDF)
	get := func(as string) req { return req{method: "GET", path: pathf("/api/v1/attachments/%d", a.ID), as: as} }

	r := s.must(t, http.StatusOK, get("owner1"))
	if !bytes.Equal(r.body, samplePDF) || r.header.Get("Content-Type") != "application/pdf" ||
		r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("X-Content-SHA256") != sum(samplePDF) {
		t.Fatalf("download: %v", r.header)
	}
	cd := r.header.Get("Content-Disposition")
	if !strings.HasPrefix(cd, `attachment; filename="`) || !strings.Contains(cd, "filename*=UTF-8''%E6%95%B4%E6%94%B9") ||
		strings.ContainsAny(strings.TrimPrefix(cd, "attachment"), "\r\n") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	// Not attached yet: only the uploader.
	for _, who := range []string{"owner2", "verifier", "leader", "inspector", "admin", "ownerdept"} {
		s.must(t, http.StatusNotFound, get(who))
	}
	s.must(t, http.StatusNotFound, req{method: "GET", path: "/api/v1/attachments/99999", as: "owner1"})

	// Attached to a problem: whoever sees the problem, and nobody else.
	s.act(t, "owner1", id, "progress", map[string]any{"note": "附整改前后对比", "attachment_ids": []int64{a.ID}})
	for _, who := range []string{"owner1", "verifier", "leader", "inspector", "ownerdept"} {
		s.must(t, http.StatusOK, get(who))
	}
	for _, who := range []string{"owner2", "admin"} {
		s.must(t, http.StatusNotFound, get(who))
	}
	// Raster images are shown inline.
	img := s.upload(t, "owner1", "photo.png", samplePNG)
	r = s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/attachments/%d", img.ID), as: "owner1"})
	if r.header.Get("Content-Disposition") != `inline; filename="photo.png"` || r.header.Get("Content-Type") != "image/png" {
		t.Fatalf("image headers %v", r.header)
	}
}

func TestAttachmentIDsOnActions(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.register(t, "证据使用", "一班", map[string]any{"severity": "serious"})
	s.assign(t, id.ID, "owner1", "")
	s.act(t, "owner1", id.ID, "accept", nil)
	mine := s.upload(t, "owner1", "方案.pdf", samplePDF)
	theirs := s.upload(t, "owner2", "别人的.txt", []byte("二班的材料\n"))
	progress := pathf("/api/v1/problems/%d/progress", id.ID)
	submit := pathf("/api/v1/problems/%d/submit", id.ID)
	s.run(t, []row{
		{name: "unknown id", req: req{method: "POST", path: progress, as: "owner1", body: map[string]any{"note": "n", "attachment_ids": []int64{99999}}},
			status: http.StatusBadRequest, code: "invalid_input", check: fieldIs("attachment_ids")},
		{name: "someone else's upload", req: req{method: "POST", path: progress, as: "owner1", body: map[string]any{"note": "n", "attachment_ids": []int64{theirs.ID}}},
			status: http.StatusBadRequest, code: "invalid_input", check: fieldIs("attachment_ids")},
		{name: "submit without evidence (serious)", req: req{method: "POST", path: submit, as: "owner1", body: map[string]any{"note": "已整改"}},
			status: http.StatusBadRequest, code: "invalid_input", check: func(t *testing.T, r res) {
				if !r.hasField(t, "attachment_ids") || !strings.Contains(string(r.body), "at least one attachment") {
					t.Fatalf("%s", r.body)
				}
			}},
		{name: "submit with an empty list", req: req{method: "POST", path: submit, as: "owner1", body: map[string]any{"note": "已整改", "attachment_ids": []int64{}}},
			status: http.StatusBadRequest, code: "invalid_input", check: fieldIs("attachment_ids")},
		{name: "not an array", req: req{method: "POST", path: submit, as: "owner1", body: map[string]any{"note": "已整改", "attachment_ids": "1"}},
			status: http.StatusBadRequest, code: "invalid_request", check: fieldIs("attachment_ids")},
	})
	p := s.act(t, "owner1", id.ID, "progress", map[string]any{"note": "方案已定", "attachment_ids": []int64{mine.ID, mine.ID}})
	if p.Status != "rectifying" {
		t.Fatalf("%+v", p)
	}
	// Reusing an attachment the caller sees, and one of its own: submit passes the policy.
	more := s.upload(t, "owner1", "完成照片.png", samplePNG)
	p = s.act(t, "owner1", id.ID, "submit", map[string]any{"note": "已整改", "attachment_ids": []int64{mine.ID, more.ID}})
	if p.Status != "submitted" {
		t.Fatalf("%+v", p)
	}
	// The hashes are in the audit entries of the actions that used them.
	var hist list[auditEntry]
	s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d/history", id.ID), as: "verifier"}).decode(t, &hist)
	found := map[string][]string{}
	for _, e := range hist.Items {
		var ch struct {
			Attachments []struct {
				ID     int64  `json:"id"`
				SHA256 string `json:"sha256"`
				Name   string `json:"name"`
			} `json:"attachments"`
		}
		_ = json.Unmarshal(e.Changes, &ch)
		for _, a := range ch.Attachments {
			found[e.Action+"/"+e.Outcome] = append(found[e.Action+"/"+e.Outcome], a.SHA256)
		}
	}
	if !slices.Equal(found["progress/ok"], []string{mine.SHA256}) || !slices.Equal(found["submit/ok"], []string{mine.SHA256, more.SHA256}) {
		t.Fatalf("attachments in the trail: %v", found)
	}
	// The problem lists them: each once, with the action that brought it.
	var atts list[attachment]
	s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d/attachments", id.ID), as: "leader"}).decode(t, &atts)
	if len(atts.Items) != 2 || atts.Items[0].ID != mine.ID || atts.Items[0].Action != "progress" || atts.Items[1].ID != more.ID ||
		atts.Items[1].Action != "submit" || atts.Items[1].ProblemID != id.ID || atts.Items[1].SHA256 != sum(samplePNG) {
		t.Fatalf("attachments: %+v", atts.Items)
	}
	s.must(t, http.StatusNotFound, req{method: "GET", path: pathf("/api/v1/problems/%d/attachments", id.ID), as: "owner2"})
	// owner2 cannot bring owner1's evidence to its own problem (it does not see it).
	other := s.register(t, "二班问题", "二班", nil)
	s.assign(t, other.ID, "owner2", "")
	s.act(t, "owner2", other.ID, "accept", nil)
	r := s.must(t, http.StatusBadRequest, req{method: "POST", path: pathf("/api/v1/problems/%d/progress", other.ID), as: "owner2",
		body: map[string]any{"note": "n", "attachment_ids": []int64{mine.ID}}})
	if !r.hasField(t, "attachment_ids") {
		t.Fatalf("%s", r.body)
	}
	// A general problem needs no evidence.
	s.act(t, "owner2", other.ID, "submit", map[string]any{"note": "已整改"})
}

func fieldIs(field string) func(t *testing.T, r res) {
	return func(t *testing.T, r res) {
		t.Helper()
		if !r.hasField(t, field) {
			t.Fatalf("no field error for %s: %s", field, r.body)
		}
	}
}
