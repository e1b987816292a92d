package audit

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Keys sign and verify checkpoints. The signing key lives outside the
// database, so an attacker with only database access cannot forge a checkpoint.
type Keys struct {
	signer   note.Signer
	verifier note.Verifier
	vkey     string
}

// VerifierKey returns the public key in note format, for publication.
func (k *Keys) VerifierKey() string { return k.vkey }

// LoadOrCreateKeys reads the key file (signer key and verifier key, one per
// line) or, when it does not exist, creates one with a new Ed25519 key, mode 0600.
func LoadOrCreateKeys(path, name string) (*Keys, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		skey, vkey, gerr := note.GenerateKey(rand.Reader, name)
		if gerr != nil {
			return nil, fmt.Errorf("generate audit key: %w", gerr)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create audit key dir: %w", err)
		}
		data = []byte(skey + "\n" + vkey + "\n")
		// O_EXCL: when several instances start at once, one key wins and the others read it.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, err = f.Write(data)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, fmt.Errorf("write audit key %s: %w", path, err)
			}
		} else if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("read audit key %s: %w", path, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read audit key %s: %w", path, err)
	}
	return ParseKeys(string(data))
}

// ParseKeys parses "signer key\nverifier key\n".
func ParseKeys(text string) (*Keys, error) {
	lines := strings.Fields(text)
	if len(lines) != 2 {
		return nil, errors.New("audit key file must hold the signer key and the verifier key, one per line")
	}
	s, err := note.NewSigner(lines[0])
	if err != nil {
		return nil, fmt.Errorf("audit signer key: %w", err)
	}
	v, err := note.NewVerifier(lines[1])
	if err != nil {
		return nil, fmt.Errorf("audit verifier key: %w", err)
	}
	if s.Name() != v.Name() || s.KeyHash() != v.KeyHash() {
		return nil, errors.New("audit signer and verifier keys do not belong together")
	}
	return &Keys{signer: s, verifier: v, vkey: lines[1]}, nil
}

// Checkpoint commits to the heads of every stream that changed since the
// previous checkpoint, and through PrevRoot to all checkpoints before it.
type Checkpoint struct {
	Number   int64
	At       time.Time
	PrevRoot string
	Root     string
	Heads    []Head // sorted by stream
	Note     string // the signed note text
	Totals   *Totals
}

// Totals describe the whole signed trail as of a checkpoint, so that its note
// alone (kept by a witness, say) says how much it commits to. Notes of the
// first format carry none.
type Totals struct {
	Entries    int64 // entries signed: the sum of every signed stream's length
	Streams    int64 // streams signed
	MaxEntryID int64 // the highest global sequence signed
}

const (
	checkpointHeader   = "rectify-audit-checkpoint/v1" // also the root's, in both formats
	checkpointHeaderV2 = "rectify-audit-checkpoint/v2"
)

// Root computes a checkpoint's root from the previous root and its heads.
func Root(prevRoot string, heads []Head) string {
	sorted := slices.Clone(heads)
	slices.SortFunc(sorted, func(a, b Head) int { return strings.Compare(a.Stream, b.Stream) })
	h := sha256.New()
	// a hash's Write never fails
	_, _ = fmt.Fprintf(h, "%s\n%s\n", checkpointHeader, prevRoot)
	for _, hd := range sorted {
		_, _ = fmt.Fprintf(h, "%q %d %d %s\n", hd.Stream, hd.Seq, hd.EntryID, hd.Hash)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// NewCheckpoint builds and signs checkpoint number n over heads, in the first
// format (no totals).
func (k *Keys) NewCheckpoint(n int64, at time.Time, prevRoot string, heads []Head) (*Checkpoint, error) {
	return k.sign(n, at, prevRoot, heads, nil)
}

// NewCheckpointWithTotals builds and signs checkpoint number n over heads,
// signing the totals of the whole trail as well.
func (k *Keys) NewCheckpointWithTotals(n int64, at time.Time, prevRoot string, heads []Head, t Totals) (*Checkpoint, error) {
	return k.sign(n, at, prevRoot, heads, &t)
}

func (k *Keys) sign(n int64, at time.Time, prevRoot string, heads []Head, t *Totals) (*Checkpoint, error) {
	at = at.UTC().Truncate(time.Second)
	cp := &Checkpoint{Number: n, At: at, PrevRoot: prevRoot, Heads: heads, Totals: t}
	cp.Root = Root(prevRoot, heads)
	text := fmt.Sprintf("%s\n%d\n%s\n%s\n%s\n%d\n", checkpointHeader, n, at.Format(time.RFC3339), prevRoot, cp.Root, len(heads))
	if t != nil {
		text = fmt.Sprintf("%s\n%d\n%s\n%s\n%s\n%d\n%d\n%d\n%d\n", checkpointHeaderV2, n, at.Format(time.RFC3339), prevRoot,
			cp.Root, len(heads), t.Entries, t.Streams, t.MaxEntryID)
	}
	signed, err := note.Sign(&note.Note{Text: text}, k.signer)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	cp.Note = string(signed)
	return cp, nil
}

// VerifyCheckpoint checks the note's signature and that it matches the
// checkpoint's number, roots and heads.
func (k *Keys) VerifyCheckpoint(cp *Checkpoint) error {
	signed, err := k.OpenCheckpoint(cp.Note, cp.Heads)
	if err != nil {
		return fmt.Errorf("checkpoint %d: %w", cp.Number, err)
	}
	cp.Totals = signed.Totals
	switch {
	case signed.Number != cp.Number:
		return fmt.Errorf("checkpoint %d: signed number is %d", cp.Number, signed.Number)
	case signed.At.Format(time.RFC3339) != cp.At.UTC().Format(time.RFC3339):
		return fmt.Errorf("checkpoint %d: signed time does not match", cp.Number)
	case signed.PrevRoot != cp.PrevRoot:
		return fmt.Errorf("checkpoint %d: previous root does not match", cp.Number)
	case signed.Root != cp.Root:
		return fmt.Errorf("checkpoint %d: root does not match", cp.Number)
	}
	return nil
}

// OpenCheckpoint checks a signed note and the heads recorded beside it, and
// returns the checkpoint the note signs: what a copy kept outside the database
// (the checkpoint log, a witness) is read with.
func (k *Keys) OpenCheckpoint(signedNote string, heads []Head) (*Checkpoint, error) {
	cp, count, err := k.OpenNote(signedNote)
	if err != nil {
		return nil, err
	}
	cp.Heads = heads
	switch {
	case count != len(heads):
		return nil, fmt.Errorf("signed for %d heads, %d recorded", count, len(heads))
	case Root(cp.PrevRoot, heads) != cp.Root:
		return nil, errors.New("recorded heads do not match the signed root")
	}
	return cp, nil
}

// OpenNote checks a checkpoint's signed note and returns what it signs, without
// heads, and how many heads it signs.
func (k *Keys) OpenNote(signedNote string) (*Checkpoint, int, error) {
	n, err := note.Open([]byte(signedNote), note.VerifierList(k.verifier))
	if err != nil {
		return nil, 0, fmt.Errorf("signature: %w", err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	malformed := errors.New("malformed note")
	v1 := len(lines) == 6 && lines[0] == checkpointHeader
	v2 := len(lines) == 9 && lines[0] == checkpointHeaderV2
	if !v1 && !v2 {
		return nil, 0, malformed
	}
	ints := make([]int64, 0, 5)
	for _, i := range []int{1, 5, 6, 7, 8} {
		if i >= len(lines) {
			break
		}
		v, err := strconv.ParseInt(lines[i], 10, 64)
		if err != nil || v < 0 {
			return nil, 0, malformed
		}
		ints = append(ints, v)
	}
	at, err := time.Parse(time.RFC3339, lines[2])
	if err != nil {
		return nil, 0, malformed
	}
	cp := &Checkpoint{Number: ints[0], At: at.UTC(), PrevRoot: lines[3], Root: lines[4], Note: signedNote}
	if len(ints) == 5 {
		cp.Totals = &Totals{Entries: ints[2], Streams: ints[3], MaxEntryID: ints[4]}
	}
	return cp, int(ints[1]), nil
}

// WitnessHead is the newest checkpoint a witness has co-signed (package
// witness asks witnesses over HTTP).
type WitnessHead struct {
	Number int64
	Root   string
}
