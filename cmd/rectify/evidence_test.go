package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
)

// upload sends one file to the running binary as multipart field "file".
func (s *server) upload(token, name string, content []byte, wantStatus int) map[string]any {
	s.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, err := w.CreateFormFile("file", name)
	if err != nil {
		s.t.Fatal(err)
	}
	_, _ = fw.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest("POST", s.base+"/api/v1/attachments", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != wantStatus {
		s.t.Fatalf("upload %s: status %d, want %d: %s", name, res.StatusCode, wantStatus, raw)
	}
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return out
}

// checkStoredUnderDataDir checks that the binary kept the content under
// RECTIFY_DATA_DIR/attachments, content-addressed, and serves it back.
func (s *server) checkStoredUnderDataDir(dataDir, token string, att map[string]any, content []byte) {
	s.t.Helper()
	sum := sha256.Sum256(content)
	hexSum := hex.EncodeToString(sum[:])
	if att["sha256"] != hexSum {
		s.t.Fatalf("sha256 %v, want %s", att["sha256"], hexSum)
	}
	path := filepath.Join(dataDir, "attachments", "objects", hexSum[:2], hexSum[2:4], hexSum)
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, content) {
		s.t.Fatalf("content not at %s: %v", path, err)
	}
	req, _ := http.NewRequest("GET", s.base+"/api/v1/attachments/"+jsonID(att["id"]), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	got, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !bytes.Equal(got, content) || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		s.t.Fatalf("download: %d %v", res.StatusCode, res.Header)
	}
}

func jsonID(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
