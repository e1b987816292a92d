package trail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app"
	"slices"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// checkpointBatch is the most heads one checkpoint signs; a full checkpoint
// is followed at once by another, so it does not mark what was pending.
const checkpointBatch = 5000

// maxFindings bounds the findings a verification reports.
const maxFindings = 100

// VerifyAudit recomputes every stream's hash chain and compares each with its
// recorded head; it compares the checkpoints in the database with the
// checkpoint log kept outside it, and the trail with what the signed
// checkpoints commit to. It names the first bad entry in trail order.
func (s *Service) VerifyAudit(ctx context.Context, c app.Caller) (*app.VerifyResult, error) {
	if err := requireAuditReader(c.Actor); err != nil {
		return nil, err
	}
	v := &trailCheck{s: s, r: s.store.Read().Audit, now: s.core.Timestamp(), streams: map[string][]signedHead{},
		seen: map[string]bool{}, lastRoot: audit.GenesisHash(), res: &app.VerifyResult{}}
	v.slack = max(s.cfg.TxWithin, 0) + s.cfg.AuditMargin
	if s.cfg.CheckpointEvery > 0 {
		v.staleAfter = s.cfg.CheckpointEvery + s.cfg.AuditMargin
	}
	if err := v.checkpoints(ctx); err != nil {
		return nil, err
	}
	if err := v.trail(ctx); err != nil {
		return nil, err
	}
	v.askWitness(ctx)
	if err := v.finish(ctx); err != nil {
		return nil, err
	}
	return v.res, nil
}

// signedHead is a stream head as one checkpoint signed it.
type signedHead struct {
	audit.Head
	Number int64
}

type signedCheckpoint struct {
	cp      *audit.Checkpoint
	at      time.Time
	maxID   int64 // the highest global sequence signed so far
	partial bool  // a full batch: pending heads may have waited for the next one
	cover   int64 // every entry up to this sequence had committed before it was signed
}

// flaggedCheckpoint is a finding about a checkpoint; it names the first entry
// that checkpoint newly committed to, once looked up.
type flaggedCheckpoint struct {
	at       []app.StreamPos // where each stream it moves resumes
	heads    []int64         // the head each of those streams moved to, named when at is missing
	fallback int64           // the lowest head it signs, named when it moves none
	reason   string
}

type pendingMark struct {
	pos   app.StreamPos
	entry int64
}

type trailCheck struct {
	s          *Service
	r          app.AuditRepo
	now        time.Time
	slack      time.Duration // clocks and transactions in flight
	staleAfter time.Duration // 0: not checked

	cps      []signedCheckpoint      // by number - 1
	streams  map[string][]signedHead // each stream's signed heads, oldest first
	seen     map[string]bool         // signed streams met in the trail
	flagged  []flaggedCheckpoint
	marks    []pendingMark // heads marked signed beyond what is signed, until a late checkpoint is read
	lastRoot string        // the root of the last checkpoint in cps
	totals   audit.Totals  // what the checkpoints in cps sign, added up
	res      *app.VerifyResult
}

func (v *trailCheck) find(seq int64, stream, format string, args ...any) {
	v.res.Findings = append(v.res.Findings, audit.Finding{Seq: seq, Stream: stream, Reason: fmt.Sprintf(format, args...)})
}

// sign adds a checkpoint known to be genuine to what the trail is compared with.
func (v *trailCheck) sign(cp *audit.Checkpoint) {
	t := v.totals
	for _, h := range cp.Heads {
		var prev int64
		if hs := v.streams[h.Stream]; len(hs) > 0 {
			prev = hs[len(hs)-1].Seq
		} else {
			t.Streams++
		}
		t.Entries += h.Seq - prev
		t.MaxEntryID = max(t.MaxEntryID, h.EntryID)
	}
	if cp.Totals != nil && *cp.Totals != t {
		v.flag(cp.Heads, "checkpoint %d signs %d entries in %d streams up to sequence %d, but the checkpoints up to it "+
			"add up to %d in %d up to %d: it was signed over tampered checkpoint rows", cp.Number, cp.Totals.Entries,
			cp.Totals.Streams, cp.Totals.MaxEntryID, t.Entries, t.Streams, t.MaxEntryID)
	}
	v.totals = t
	info := signedCheckpoint{cp: cp, at: cp.At, partial: len(cp.Heads) >= checkpointBatch}
	if n := len(v.cps); n > 0 {
		info.maxID = v.cps[n-1].maxID
	}
	for _, h := range cp.Heads {
		v.streams[h.Stream] = append(v.streams[h.Stream], signedHead{Head: h, Number: cp.Number})
		info.maxID = max(info.maxID, h.EntryID)
	}
	// Whatever had a sequence by a checkpoint signed a slack before this one
	// had committed by this one.
	for j := len(v.cps) - 1; j >= 0; j-- {
		if !v.cps[j].at.After(cp.At.Add(-v.slack)) {
			info.cover = v.cps[j].maxID
			break
		}
	}
	v.cps = append(v.cps, info)
	v.lastRoot = cp.Root
	v.res.Checkpoints++
}

// flag records a finding about a checkpoint whose heads are heads: it names
// the first entry those heads newly commit to beyond what is already signed.
func (v *trailCheck) flag(heads []audit.Head, format string, args ...any) {
	f := flaggedCheckpoint{reason: fmt.Sprintf(format, args...)}
	for _, h := range heads {
		var prev int64
		if hs := v.streams[h.Stream]; len(hs) > 0 {
			prev = hs[len(hs)-1].Seq
		}
		if h.Seq > prev {
			f.at = append(f.at, app.StreamPos{Stream: h.Stream, Seq: prev + 1})
			f.heads = append(f.heads, h.EntryID)
		}
		if f.fallback == 0 || h.EntryID < f.fallback {
			f.fallback = h.EntryID
		}
	}
	v.flagged = append(v.flagged, f)
}

// askWitness compares the newest checkpoint with the newest the witness
// co-signed: one it has and the trail lacks, or a different one under the
// same number, means the database and the checkpoint log were rewritten
// together.
func (v *trailCheck) askWitness(ctx context.Context) {
	w := v.s.witness
	if w == nil || len(v.cps) == 0 {
		return
	}
	newest := v.cps[len(v.cps)-1].cp
	head, err := w.Add(ctx, newest.Note)
	switch {
	case err != nil:
		v.find(0, "", "the witness at %s could not confirm checkpoint %d: %s", w.URL(), newest.Number, err)
	case head == nil:
	case head.Number > newest.Number:
		v.flagAfter(newest.Number, "the witness co-signed checkpoint %d, the trail's checkpoints end at %d: "+
			"newer checkpoints were removed from the database and the checkpoint log", head.Number, newest.Number)
	case head.Number > 0 && v.cps[head.Number-1].cp.Root != head.Root:
		v.flagAfter(head.Number-1, "checkpoint %d is not the one the witness co-signed: "+
			"the database and the checkpoint log were rewritten", head.Number)
	}
}

// flagAfter records a finding about what was signed after checkpoint n: it
// names the first entry checkpoint n+1 newly signed, or, when there is none,
// the first entry beyond checkpoint n.
func (v *trailCheck) flagAfter(n int64, format string, args ...any) {
	f := flaggedCheckpoint{reason: fmt.Sprintf(format, args...)}
	if int(n) < len(v.cps) {
		for _, h := range v.cps[n].cp.Heads {
			var prev int64
			for _, sh := range v.streams[h.Stream] {
				if sh.Number <= n {
					prev = sh.Seq
				}
			}
			if h.Seq > prev {
				f.at = append(f.at, app.StreamPos{Stream: h.Stream, Seq: prev + 1})
				f.heads = append(f.heads, h.EntryID)
			}
		}
	} else if n > 0 {
		f.fallback = v.cps[n-1].maxID + 1 // named only if the trail holds it
	}
	v.flagged = append(v.flagged, f)
}

// checkpoints merges the checkpoint log with the database's checkpoints by
// number. The log is authoritative where it reaches; beyond it, a checkpoint
// in the database counts when its signature and chain hold.
func (v *trailCheck) checkpoints(ctx context.Context) error {
	var (
		logged []*audit.Checkpoint
		fault  *audit.LogFault
		err    error
	)
	if v.s.cplog != nil {
		if logged, fault, err = v.s.cplog.Read(); err != nil {
			return err
		}
	}
	v.res.Logged = len(logged)
	rows := &checkpointRows{r: v.r}
	prevRoot := audit.GenesisHash()
	missing := int64(0) // the first of a run of checkpoints missing from the database
	for n := int64(1); ; n++ {
		row, err := rows.take(ctx, n)
		if err != nil {
			return err
		}
		if missing > 0 && (row != nil || n > int64(len(logged))) {
			if missing == n-1 {
				v.flagged[len(v.flagged)-1].reason = fmt.Sprintf("checkpoint %d is missing from the database, "+
					"though the checkpoint log holds it signed", missing)
			} else {
				v.flagged[len(v.flagged)-1].reason = fmt.Sprintf("checkpoints %d to %d are missing from the database, "+
					"though the checkpoint log holds them signed", missing, n-1)
			}
			missing = 0
		}
		if n <= int64(len(logged)) {
			cp := logged[n-1]
			switch {
			case row == nil && missing == 0:
				missing = n
				v.flag(cp.Heads, "")
			case row != nil && !sameCheckpoint(cp, row):
				v.flag(cp.Heads, "checkpoint %d in the database differs from the one signed in the checkpoint log", n)
			}
			v.sign(cp)
			prevRoot = cp.Root
			continue
		}
		if n == int64(len(logged))+1 && fault != nil {
			var heads []audit.Head
			if row != nil {
				heads = row.Heads
			}
			v.flag(heads, "the checkpoint log's line %d is bad: %s", fault.Line, fault.Reason)
		}
		if row == nil {
			break
		}
		if err := v.s.keys.VerifyCheckpoint(row); err != nil {
			v.flag(row.Heads, "%s", err)
			break
		}
		if row.PrevRoot != prevRoot {
			v.flag(row.Heads, "checkpoint %d does not follow checkpoint %d", n, n-1)
			break
		}
		if v.s.cplog != nil && v.staleAfter > 0 && row.At.Before(v.now.Add(-v.staleAfter)) {
			v.flag(row.Heads, "checkpoint %d, signed at %s, is not in the checkpoint log: the log was truncated or cannot be written",
				n, row.At.Format(time.RFC3339))
		}
		v.sign(row)
		prevRoot = row.Root
	}
	// Checkpoints the database holds after a gap cannot be chained.
	if row, err := rows.after(ctx, int64(len(v.cps))); err != nil {
		return err
	} else if row != nil {
		v.flag(row.Heads, "checkpoint %d is missing or broken, so checkpoint %d and later ones cannot be checked",
			len(v.cps)+1, row.Number)
	}
	return nil
}

func sameCheckpoint(a, b *audit.Checkpoint) bool {
	if a.Note != b.Note || a.Root != b.Root || a.PrevRoot != b.PrevRoot || !a.At.Equal(b.At) || len(a.Heads) != len(b.Heads) {
		return false
	}
	ha := slices.Clone(a.Heads)
	hb := slices.Clone(b.Heads)
	byStream := func(x, y audit.Head) int { return cmp.Compare(x.Stream, y.Stream) }
	slices.SortFunc(ha, byStream)
	slices.SortFunc(hb, byStream)
	for i := range ha {
		x, y := ha[i], hb[i]
		if x.Stream != y.Stream || x.Seq != y.Seq || x.EntryID != y.EntryID || x.Hash != y.Hash {
			return false
		}
	}
	return true
}

// checkpointRows reads the database's checkpoints in number order, a page at a time.
type checkpointRows struct {
	r    app.AuditRepo
	page []*audit.Checkpoint
	last int64 // the highest number read
	done bool
}

func (c *checkpointRows) fill(ctx context.Context) error {
	if len(c.page) > 0 || c.done {
		return nil
	}
	cps, err := c.r.Checkpoints(ctx, c.last, 100)
	if err != nil {
		return err
	}
	if len(cps) == 0 {
		c.done = true
		return nil
	}
	c.page, c.last = cps, cps[len(cps)-1].Number
	return nil
}

// take returns checkpoint n when the database holds it.
func (c *checkpointRows) take(ctx context.Context, n int64) (*audit.Checkpoint, error) {
	if err := c.fill(ctx); err != nil || len(c.page) == 0 || c.page[0].Number != n {
		return nil, err
	}
	cp := c.page[0]
	c.page = c.page[1:]
	return cp, nil
}

// after returns the first checkpoint numbered after n.
func (c *checkpointRows) after(ctx context.Context, n int64) (*audit.Checkpoint, error) {
	for {
		if err := c.fill(ctx); err != nil || len(c.page) == 0 {
			return nil, err
		}
		if c.page[0].Number > n {
			return c.page[0], nil
		}
		c.page = c.page[1:]
	}
}

// trail checks every stream: its hash chain and head, what the signed
// checkpoints commit to, and the entries they do not hold.
func (v *trailCheck) trail(ctx context.Context) error {
	const page = 500
	checkStreams := func(streams []string, heads map[string]*audit.Head) error {
		entries, err := v.r.StreamEntries(ctx, streams)
		if err != nil {
			return err
		}
		byStream := map[string][]*audit.Entry{}
		for _, e := range entries {
			byStream[e.Stream] = append(byStream[e.Stream], e)
		}
		for _, st := range streams {
			es := byStream[st]
			sv := audit.NewStreamVerifier(st)
			for _, e := range es {
				sv.Add(e)
			}
			f := sv.Finish(heads[st])
			if f != nil {
				v.res.Findings = append(v.res.Findings, *f)
			}
			v.res.Checked += sv.Checked()
			v.stream(st, es, heads[st], f)
		}
		return nil
	}
	after := ""
	for {
		hs, err := v.r.Heads(ctx, after, page)
		if err != nil {
			return err
		}
		if len(hs) == 0 {
			break
		}
		streams := make([]string, len(hs))
		heads := map[string]*audit.Head{}
		for i := range hs {
			streams[i] = hs[i].Stream
			heads[hs[i].Stream] = &hs[i]
		}
		if err := checkStreams(streams, heads); err != nil {
			return err
		}
		after = streams[len(streams)-1]
	}
	orphans, err := v.r.OrphanStreams(ctx)
	if err != nil {
		return err
	}
	if len(orphans) > 0 {
		return checkStreams(orphans, nil)
	}
	return nil
}

// stream compares one stream's entries (in stream order) with what the
// checkpoints signed of it, and looks at the entries no checkpoint holds.
// broken is what the stream's own chain showed, if anything.
func (v *trailCheck) stream(st string, es []*audit.Entry, head *audit.Head, broken *audit.Finding) {
	signed := v.streams[st]
	if len(signed) > 0 {
		v.seen[st] = true
	}
	bySeq := make(map[int64]*audit.Entry, len(es))
	for _, e := range es {
		bySeq[e.StreamSeq] = e
	}
	var prev int64 // the last signed position that still matches
	for _, sh := range signed {
		e := bySeq[sh.Seq]
		if e == nil {
			v.find(sh.EntryID, st, "missing: checkpoint %d signed the stream up to its entry %d, the trail holds fewer",
				sh.Number, sh.Seq)
			break
		}
		if e.Hash != sh.Hash {
			first := sh.EntryID
			if f := bySeq[prev+1]; f != nil {
				first = f.Seq
			}
			if broken != nil && first <= broken.Seq && broken.Seq <= e.Seq {
				break // the chain names the bad entry among them more precisely
			}
			v.find(first, st, "entries %d to %d of the stream no longer match what checkpoint %d signed: "+
				"one of them was altered, removed or inserted and the chain recomputed", prev+1, sh.Seq, sh.Number)
			break
		}
		if e.Seq != sh.EntryID {
			v.find(min(e.Seq, sh.EntryID), st, "checkpoint %d signed the stream's entry %d as sequence %d, the trail has %d",
				sh.Number, sh.Seq, sh.EntryID, e.Seq)
			break
		}
		prev = sh.Seq
	}
	var (
		next                  int
		outOfBand, stale, odd bool
		newest                = int64(len(v.cps))
	)
	for _, e := range es {
		for next < len(signed) && signed[next].Seq < e.StreamSeq {
			next++
		}
		covered := next < len(signed)
		before := newest // the checkpoint before the one that first held e
		if covered {
			before = signed[next].Number - 1
		}
		for before > 0 && v.cps[before-1].partial {
			before--
		}
		if before > 0 && !outOfBand {
			cp := v.cps[before-1]
			switch {
			case e.At.Before(cp.at.Add(-v.slack)):
				outOfBand = true
				v.find(e.Seq, st, "dated %s, before checkpoint %d (signed %s), which does not hold it: written out of band",
					e.At.Format(time.RFC3339), before, cp.at.Format(time.RFC3339))
			case e.Seq <= cp.cover:
				outOfBand = true
				v.find(e.Seq, st, "its sequence lies below what checkpoint %d covers, which does not hold it: written out of band",
					before)
			}
		}
		if covered {
			continue
		}
		if v.staleAfter > 0 && !stale && e.At.Before(v.now.Add(-v.staleAfter)) {
			stale = true
			v.find(e.Seq, st, "no checkpoint has signed it for longer than the checkpoint interval and margin (%s)", v.staleAfter)
		}
		if head != nil && !head.Pending && !odd {
			odd = true
			v.marks = append(v.marks, pendingMark{pos: app.StreamPos{Stream: st, Seq: e.StreamSeq}, entry: e.Seq})
		}
	}
}

// finish reports what the trail lacks, heads marked signed that no checkpoint
// holds (after reading checkpoints signed meanwhile), and the checkpoints'
// findings with the entries they name; then sorts the findings.
func (v *trailCheck) finish(ctx context.Context) error {
	for st, signed := range v.streams {
		if !v.seen[st] {
			last := signed[len(signed)-1]
			v.find(signed[0].EntryID, st, "the stream is gone: checkpoint %d signed %d entries of it", last.Number, last.Seq)
		}
	}
	if len(v.marks) > 0 {
		// A checkpoint committed during this verification marks heads signed.
		prevRoot := v.lastRoot
		late, err := v.r.Checkpoints(ctx, int64(len(v.cps)), 100)
		if err != nil {
			return err
		}
		for _, cp := range late {
			if v.s.keys.VerifyCheckpoint(cp) != nil || cp.PrevRoot != prevRoot {
				break
			}
			for _, h := range cp.Heads {
				v.streams[h.Stream] = append(v.streams[h.Stream], signedHead{Head: h, Number: cp.Number})
			}
			prevRoot = cp.Root
		}
		for _, m := range v.marks {
			if hs := v.streams[m.pos.Stream]; len(hs) == 0 || hs[len(hs)-1].Seq < m.pos.Seq {
				v.find(m.entry, m.pos.Stream, "its stream's head is marked signed, but no signed checkpoint holds it: "+
					"written out of band")
			}
		}
	}
	if len(v.flagged) > 0 {
		var at []app.StreamPos
		for _, f := range v.flagged {
			at = append(at, f.at...)
		}
		ids, err := v.r.EntryIDs(ctx, at)
		if err != nil {
			return err
		}
		for _, f := range v.flagged {
			var first int64
			for i, p := range f.at {
				id, ok := ids[p]
				if !ok {
					id = f.heads[i]
				}
				if first == 0 || id < first {
					first = id
				}
			}
			if first == 0 {
				first = f.fallback
			}
			v.find(first, "", "%s", f.reason)
		}
	}
	fs := v.res.Findings
	slices.SortStableFunc(fs, func(a, b audit.Finding) int {
		switch {
		case a.Seq == b.Seq:
			return 0
		case a.Seq == 0:
			return 1
		case b.Seq == 0:
			return -1
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	if len(fs) > maxFindings {
		fs = fs[:maxFindings]
	}
	v.res.Findings = fs
	if len(fs) == 0 {
		v.res.OK = true
		return nil
	}
	v.res.Reason = fs[0].String()
	if fs[0].Seq > 0 {
		first := fs[0].Seq
		v.res.FirstBad = &first
	}
	return nil
}

// Checkpoint signs the heads of every stream that changed since the last
// checkpoint, then copies every checkpoint the log lacks into the checkpoint
// log. It returns the last checkpoint it wrote; nil when nothing changed, or
// when another instance wrote the same checkpoint first.
func (s *Service) Checkpoint(ctx context.Context) (*audit.Checkpoint, error) {
	var last *audit.Checkpoint
	for {
		cp, full, err := s.checkpoint(ctx)
		if err != nil {
			return last, err
		}
		if cp != nil {
			last = cp
		}
		if cp == nil || !full {
			break
		}
	}
	if err := s.SyncCheckpointLog(ctx); err != nil {
		return last, err
	}
	return last, s.witnessCheckpoints(ctx)
}

// witnessCheckpoints sends the witness every checkpoint it lacks, in order.
func (s *Service) witnessCheckpoints(ctx context.Context) error {
	if s.witness == nil {
		return nil
	}
	r := s.store.Read().Audit
	latest, err := r.LatestCheckpoint(ctx)
	if err != nil || latest == nil {
		return err
	}
	head, err := s.witness.Add(ctx, latest.Note)
	if err != nil || head == nil {
		return err
	}
	if head.Number >= latest.Number {
		return fmt.Errorf("the witness holds checkpoint %d, the database's newest is %d: they disagree", head.Number, latest.Number)
	}
	for after := head.Number; after < latest.Number; {
		cps, err := r.Checkpoints(ctx, after, 100)
		if err != nil || len(cps) == 0 {
			return err
		}
		for _, cp := range cps {
			if h, err := s.witness.Add(ctx, cp.Note); err != nil {
				return err
			} else if h != nil {
				return fmt.Errorf("the witness refused checkpoint %d: it holds checkpoint %d", cp.Number, h.Number)
			}
			after = cp.Number
		}
	}
	return nil
}

func (s *Service) checkpoint(ctx context.Context) (*audit.Checkpoint, bool, error) {
	var out *audit.Checkpoint
	err := s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		out = nil
		heads, err := r.Audit.PendingHeads(ctx, checkpointBatch)
		if err != nil || len(heads) == 0 {
			return err
		}
		latest, err := r.Audit.LatestCheckpoint(ctx)
		if err != nil {
			return err
		}
		n, prev := int64(1), audit.GenesisHash()
		if latest != nil {
			n, prev = latest.Number+1, latest.Root
		}
		totals, err := s.signedTotals(ctx, r.Audit, latest, heads)
		if err != nil {
			return err
		}
		cp, err := s.keys.NewCheckpointWithTotals(n, now, prev, heads, totals)
		if err != nil {
			return err
		}
		if err := r.Audit.SaveCheckpoint(ctx, cp); err != nil {
			return err
		}
		out = cp
		return nil
	})
	if errors.Is(err, domain.ErrConflict) {
		return nil, false, nil
	}
	return out, out != nil && len(out.Heads) >= checkpointBatch, err
}

// signedTotals adds up the whole trail as it will be once heads are signed:
// from the totals latest signed (or, when it signed none, from every stream's
// signed head) and what heads move.
func (s *Service) signedTotals(ctx context.Context, r app.AuditRepo, latest *audit.Checkpoint, heads []audit.Head) (audit.Totals, error) {
	var t audit.Totals
	if latest != nil {
		signed, _, err := s.keys.OpenNote(latest.Note)
		if err != nil {
			return t, fmt.Errorf("the latest checkpoint: %w", err)
		}
		if signed.Totals != nil {
			t = *signed.Totals
		} else {
			all, err := r.SignedHeads(ctx, nil)
			if err != nil {
				return t, err
			}
			for _, h := range all {
				t.Entries, t.Streams, t.MaxEntryID = t.Entries+h.Seq, t.Streams+1, max(t.MaxEntryID, h.EntryID)
			}
		}
	}
	streams := make([]string, len(heads))
	for i, h := range heads {
		streams[i] = h.Stream
	}
	before, err := r.SignedHeads(ctx, streams)
	if err != nil {
		return t, err
	}
	for _, h := range heads {
		prev, ok := before[h.Stream]
		if !ok {
			t.Streams++
		}
		t.Entries += h.Seq - prev.Seq
		t.MaxEntryID = max(t.MaxEntryID, h.EntryID)
	}
	return t, nil
}

// SyncCheckpointLog appends to the checkpoint log every checkpoint of the
// database it lacks, once each one's signature and chain are checked. Every
// instance runs it after each checkpoint, so that a crash between the
// database's commit and the append is made good by the next one.
func (s *Service) SyncCheckpointLog(ctx context.Context) error {
	if s.cplog == nil {
		return nil
	}
	_, err := s.cplog.Extend(func(last *audit.Checkpoint) ([]*audit.Checkpoint, error) {
		after, prevRoot := int64(0), audit.GenesisHash()
		if last != nil {
			after, prevRoot = last.Number, last.Root
		}
		var out []*audit.Checkpoint
		for {
			cps, err := s.store.Read().Audit.Checkpoints(ctx, after, 100)
			if err != nil || len(cps) == 0 {
				return out, err
			}
			for _, cp := range cps {
				if cp.Number != after+1 {
					return out, fmt.Errorf("checkpoint %d is missing from the database", after+1)
				}
				if err := s.keys.VerifyCheckpoint(cp); err != nil {
					return out, err
				}
				if cp.PrevRoot != prevRoot {
					return out, fmt.Errorf("checkpoint %d in the database does not follow checkpoint %d of the log", cp.Number, after)
				}
				out = append(out, cp)
				after, prevRoot = cp.Number, cp.Root
			}
		}
	})
	if err != nil {
		return fmt.Errorf("checkpoint log: %w", err)
	}
	return nil
}
