// Package audit is the tamper-evident trail: the canonical encoding of an
// entry, its hash chain per stream, checkpoints signed with a key kept outside
// the database, and the verification of all three. See docs/audit.md.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Outcomes of an audited attempt.
const (
	OutcomeOK      = "ok"
	OutcomeRefused = "refused"
)

// SystemStream is the stream of logins and administrative changes.
const SystemStream = "system"

// ProblemStream names the stream of one problem's entries.
func ProblemStream(id int64) string { return "problem/" + strconv.FormatInt(id, 10) }

// GenesisHash is the previous hash of the first entry of every stream.
var genesis = strings.Repeat("0", 64)

// GenesisHash returns the previous hash of a stream's first entry.
func GenesisHash() string { return genesis }

// Entry is one line of the audit trail.
type Entry struct {
	Seq        int64 // global sequence, assigned by the database; not hashed (see docs/audit.md)
	Stream     string
	StreamSeq  int64 // 1, 2, 3 ... within the stream
	At         time.Time
	ActorID    int64
	ActorName  string
	ActorRoles []string
	IP         string
	RequestID  string
	Action     string
	ObjectType string
	ObjectID   string
	FromState  string
	ToState    string
	Changes    string // canonical JSON of what changed
	Outcome    string
	Reason     string
	PrevHash   string
	Hash       string
}

// Normalize rounds the time to what both databases store (microseconds, UTC),
// so that the hash computed before insert matches the row read back.
func (e *Entry) Normalize() {
	e.At = e.At.UTC().Truncate(time.Microsecond)
	if e.Changes == "" {
		e.Changes = "{}"
	}
}

// ComputeHash returns the hash of the entry chained to its PrevHash:
// SHA-256 over the previous hash and a length-prefixed encoding of every field.
func (e *Entry) ComputeHash() string {
	h := sha256.New()
	var buf [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(buf[:], uint64(len(s)))
		h.Write(buf[:])
		h.Write([]byte(s))
	}
	field("rectify-audit-v1")
	field(e.PrevHash)
	field(e.Stream)
	field(strconv.FormatInt(e.StreamSeq, 10))
	field(e.At.UTC().Format("2006-01-02T15:04:05.000000Z"))
	field(strconv.FormatInt(e.ActorID, 10))
	field(e.ActorName)
	field(strings.Join(e.ActorRoles, ","))
	field(e.IP)
	field(e.RequestID)
	field(e.Action)
	field(e.ObjectType)
	field(e.ObjectID)
	field(e.FromState)
	field(e.ToState)
	field(e.Changes)
	field(e.Outcome)
	field(e.Reason)
	return hex.EncodeToString(h.Sum(nil))
}

// Chain links e after the stream head (seq, hash) and computes its hash.
func (e *Entry) Chain(headSeq int64, headHash string) {
	e.Normalize()
	e.StreamSeq = headSeq + 1
	e.PrevHash = headHash
	if headSeq == 0 {
		e.PrevHash = genesis
	}
	e.Hash = e.ComputeHash()
}

// Head is the latest entry of a stream as recorded beside the trail.
type Head struct {
	Stream  string
	Seq     int64  // stream sequence of the latest entry
	Hash    string // its hash
	EntryID int64  // its global sequence
	Pending bool   // changed since the last checkpoint, by the database's own account (not signed)
}
