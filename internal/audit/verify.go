package audit

import "fmt"

// Finding is one inconsistency found by verification.
type Finding struct {
	Seq    int64 // global sequence of the first bad entry (or of the missing one); 0 when none can be named
	Stream string
	Reason string
}

func (f Finding) String() string {
	switch {
	case f.Seq == 0:
		return f.Reason
	case f.Stream == "":
		return fmt.Sprintf("entry %d: %s", f.Seq, f.Reason)
	}
	return fmt.Sprintf("entry %d (%s): %s", f.Seq, f.Stream, f.Reason)
}

// StreamVerifier checks one stream's entries in stream order against its chain
// and its recorded head. Feed entries with Add, then call Finish. Every entry
// is compared with the one before it, so that the finding with the lowest
// global sequence is reported even when a later break is met first.
//
// Time is not checked for order: it is part of each hash, and entries of
// concurrent transactions may commit in another order than their start times.
type StreamVerifier struct {
	stream   string
	prevSeq  int64
	prevHash string
	prevID   int64
	firstID  int64
	bad      *Finding
	checked  int
}

// NewStreamVerifier starts verifying stream.
func NewStreamVerifier(stream string) *StreamVerifier {
	return &StreamVerifier{stream: stream, prevHash: genesis}
}

// fail records a finding, keeping the one with the lowest global sequence.
func (v *StreamVerifier) fail(seq int64, format string, args ...any) {
	if v.bad == nil || seq < v.bad.Seq {
		v.bad = &Finding{Seq: seq, Stream: v.stream, Reason: fmt.Sprintf(format, args...)}
	}
}

// Add checks the next entry of the stream.
func (v *StreamVerifier) Add(e *Entry) {
	v.checked++
	if v.checked == 1 {
		v.firstID = e.Seq
	}
	switch {
	case e.Stream != v.stream:
		v.fail(e.Seq, "belongs to stream %q, not %q", e.Stream, v.stream)
	case e.StreamSeq != v.prevSeq+1:
		v.fail(e.Seq, "stream sequence %d follows %d: an entry is missing, inserted or moved", e.StreamSeq, v.prevSeq)
	case e.PrevHash != v.prevHash:
		v.fail(e.Seq, "previous hash does not match the entry before it")
	case e.ComputeHash() != e.Hash:
		v.fail(e.Seq, "content does not match its hash: the entry was altered")
	case e.Seq <= v.prevID:
		v.fail(e.Seq, "global sequence %d is not after %d: entries were reordered", e.Seq, v.prevID)
	}
	v.prevSeq, v.prevHash, v.prevID = e.StreamSeq, e.Hash, e.Seq
}

// Finish compares the end of the chain with the recorded head (nil when the
// stream has no head row) and returns the earliest finding, if any.
func (v *StreamVerifier) Finish(h *Head) *Finding {
	switch {
	case h == nil:
		v.fail(v.firstID, "stream has entries but no head: its head was deleted or its entries inserted out of band")
	case h.Seq > v.prevSeq:
		v.fail(h.EntryID, "the stream ends at %d but its head is %d: newest entries were deleted", v.prevSeq, h.Seq)
	case h.Seq < v.prevSeq:
		v.fail(v.prevID, "the stream runs to %d beyond its head %d: entries were appended out of band", v.prevSeq, h.Seq)
	case h.Hash != v.prevHash:
		v.fail(h.EntryID, "the newest entry does not match the stream head")
	}
	return v.bad
}

// Checked returns how many entries were fed.
func (v *StreamVerifier) Checked() int { return v.checked }

// Earliest returns the finding with the lowest global sequence, so that
// verification names the first bad entry in trail order.
func Earliest(a, b *Finding) *Finding {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case b.Seq < a.Seq:
		return b
	}
	return a
}
