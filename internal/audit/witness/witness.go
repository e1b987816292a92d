// Package witness is the client of an audit witness, over HTTP, and a
// witness server that the client is tested against. It sits apart from audit
// so that the use cases, which sign and verify through audit, know nothing of
// HTTP.
package witness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/rectify-team/rectify/internal/audit"
)

// A witness keeps, outside the application's hosts, the newest checkpoint it
// has seen, and co-signs each one that extends it (the idea of C2SP's
// tlog-witness, in a simpler protocol of Rectify's own): POST the signed note
// to its URL; 200 answers the note co-signed, 409 answers the witness's newest
// checkpoint as "number\nroot\n" when the note does not extend it.

// Client sends checkpoints to one witness and checks its co-signatures.
type Client struct {
	url      string
	verifier note.Verifier
	client   *http.Client
}

// NewClient returns a client of the witness at url whose co-signatures verify
// with verifierKey (a note verifier key).
func NewClient(url, verifierKey string) (*Client, error) {
	v, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return nil, fmt.Errorf("audit witness key: %w", err)
	}
	return &Client{url: url, verifier: v, client: &http.Client{Timeout: 10 * time.Second}}, nil
}

// URL returns where the witness answers.
func (w *Client) URL() string { return w.url }

// Add sends a signed checkpoint note. It returns nil, nil when the witness
// co-signed it (or had already), and the witness's newest checkpoint when the
// note does not extend it.
func (w *Client) Add(ctx context.Context, signedNote string) (*audit.WitnessHead, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, strings.NewReader(signedNote))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	res, err := w.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("audit witness: %w", err)
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("audit witness: %w", err)
	}
	switch res.StatusCode {
	case http.StatusOK:
		n, err := note.Open(body, note.VerifierList(w.verifier))
		if err != nil {
			return nil, fmt.Errorf("audit witness: its co-signature: %w", err)
		}
		if n.Text != noteText([]byte(signedNote)) {
			return nil, errors.New("audit witness co-signed another note")
		}
		return nil, nil
	case http.StatusConflict:
		head, err := parseWitnessHead(body)
		if err != nil {
			return nil, fmt.Errorf("audit witness: %w", err)
		}
		return head, nil
	}
	return nil, fmt.Errorf("audit witness answered %s", res.Status)
}

func parseWitnessHead(body []byte) (*audit.WitnessHead, error) {
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if len(lines) != 2 {
		return nil, errors.New("malformed newest checkpoint")
	}
	n, err := strconv.ParseInt(lines[0], 10, 64)
	if err != nil || n < 0 {
		return nil, errors.New("malformed newest checkpoint")
	}
	return &audit.WitnessHead{Number: n, Root: lines[1]}, nil
}

// Server is a witness: it accepts the checkpoints of one log, signed
// by keys, each extending the one before, and co-signs them with its own
// signer. It keeps its state in memory; it is the reference the client is
// tested against.
type Server struct {
	log    *audit.Keys // verifies the log's checkpoints
	signer note.Signer
	mu     sync.Mutex
	roots  []string // by number - 1
}

// NewServer returns a witness for the checkpoints logKeys sign, co-signing with signerKey.
func NewServer(logKeys *audit.Keys, signerKey string) (*Server, error) {
	s, err := note.NewSigner(signerKey)
	if err != nil {
		return nil, err
	}
	return &Server{log: logKeys, signer: s}, nil
}

// Len returns how many checkpoints the witness has co-signed.
func (ws *Server) Len() int {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return len(ws.roots)
}

func (ws *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST a signed checkpoint", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	cp, _, err := ws.log.OpenNote(string(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	n := int64(len(ws.roots))
	known := cp.Number >= 1 && cp.Number <= n && ws.roots[cp.Number-1] == cp.Root
	prev := audit.GenesisHash()
	if n > 0 {
		prev = ws.roots[n-1]
	}
	switch {
	case known:
	case cp.Number == n+1 && cp.PrevRoot == prev:
		ws.roots = append(ws.roots, cp.Root)
	default:
		w.WriteHeader(http.StatusConflict)
		// the status is the answer; a client gone meanwhile is not ours to report
		_, _ = fmt.Fprintf(w, "%d\n%s\n", n, prev)
		return
	}
	cosigned, err := note.Sign(&note.Note{Text: noteText(body)}, ws.signer)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(cosigned)
}

// noteText is a signed note's text: everything before the blank line.
func noteText(signed []byte) string {
	i := bytes.LastIndex(signed, []byte("\n\n"))
	if i < 0 {
		return ""
	}
	return string(signed[:i+1])
}
