package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
)

type auditRow struct {
	ID         int64 `gorm:"primaryKey"`
	Stream     string
	StreamSeq  int64
	At         time.Time
	ActorID    int64
	ActorName  string
	ActorRoles string
	IP         string `gorm:"column:ip"`
	RequestID  string
	Action     string
	ObjectType string
	ObjectID   string
	FromState  string
	ToState    string
	Changes    string
	Outcome    string
	Reason     string
	PrevHash   string
	Hash       string
}

func toAuditRow(e *audit.Entry) auditRow {
	return auditRow{Stream: e.Stream, StreamSeq: e.StreamSeq, At: e.At, ActorID: e.ActorID, ActorName: e.ActorName,
		ActorRoles: strings.Join(e.ActorRoles, ","), IP: e.IP, RequestID: e.RequestID, Action: e.Action,
		ObjectType: e.ObjectType, ObjectID: e.ObjectID, FromState: e.FromState, ToState: e.ToState,
		Changes: e.Changes, Outcome: e.Outcome, Reason: e.Reason, PrevHash: e.PrevHash, Hash: e.Hash}
}

func (r auditRow) toEntry() *audit.Entry {
	var roles []string
	if r.ActorRoles != "" {
		roles = strings.Split(r.ActorRoles, ",")
	}
	return &audit.Entry{Seq: r.ID, Stream: r.Stream, StreamSeq: r.StreamSeq, At: r.At.UTC(), ActorID: r.ActorID,
		ActorName: r.ActorName, ActorRoles: roles, IP: r.IP, RequestID: r.RequestID, Action: r.Action,
		ObjectType: r.ObjectType, ObjectID: r.ObjectID, FromState: r.FromState, ToState: r.ToState,
		Changes: r.Changes, Outcome: r.Outcome, Reason: r.Reason, PrevHash: r.PrevHash, Hash: r.Hash}
}

type streamRow struct {
	Stream      string `gorm:"primaryKey"`
	Seq         int64
	HeadHash    string
	LastEntryID int64
	Pending     bool
}

type auditRepo struct{ base }

// streamHead is a stream's head as a transaction read it: the last entry's
// stream sequence and hash, or none (seq 0) when the stream had no entry.
type streamHead struct {
	seq    int64
	hash   string
	exists bool
}

// readHead records the head of stream as read in this transaction; a
// NULL seq means the stream has no head row.
func (t *txState) readHead(stream string, seq sql.NullInt64, hash sql.NullString) {
	if t.heads == nil {
		t.heads = map[string]streamHead{}
	}
	t.heads[stream] = streamHead{seq: seq.Int64, hash: hash.String, exists: seq.Valid}
}

// Append chains e after its stream's head, inserts the entry and moves the
// head, all in the caller's transaction. Only entries of the same stream
// wait for each other.
//
// When the transaction has read the head already (the problem's, with the
// problem: problemRepo.Get and Create), the entry is chained to it without
// a locking read, and the head is moved only if it is still the one read:
// UPDATE ... WHERE seq = the one read (INSERT for a stream that had none;
// the primary key refuses a second). Otherwise another transaction
// appended meanwhile, which the unique (stream, stream_seq) of the entries
// usually shows first: the entry is not inserted, or deleted again, and
// appended after the head read under lock. Either way the head only moves
// from the entry it was chained to.
func (r auditRepo) Append(ctx context.Context, e *audit.Entry) error {
	if r.tx != nil {
		if h, ok := r.tx.heads[e.Stream]; ok {
			done, err := r.appendAfter(ctx, e, h)
			if err != nil || done {
				return err
			}
		}
	}
	return r.appendLocked(ctx, e)
}

// appendAfter appends e after h, a head read without a lock; false when
// the head has moved since, with nothing appended.
func (r auditRepo) appendAfter(ctx context.Context, e *audit.Entry, h streamHead) (bool, error) {
	e.Chain(h.seq, h.hash)
	if err := r.insertEntry(ctx, e); isDuplicate(err) {
		delete(r.tx.heads, e.Stream) // (stream, stream_seq) is taken: another entry came first
		return false, nil
	} else if err != nil {
		return false, err
	}
	var (
		moved bool
		err   error
	)
	if h.exists {
		var n int64
		n, err = r.exec(ctx, "UPDATE audit_streams SET seq = ?, head_hash = ?, last_entry_id = ?, pending = ? WHERE stream = ? AND seq = ?",
			e.StreamSeq, e.Hash, e.Seq, true, e.Stream, h.seq)
		moved = err == nil && n == 1
	} else {
		_, err = r.exec(ctx, "INSERT INTO audit_streams (stream, seq, head_hash, last_entry_id, pending) VALUES (?, ?, ?, ?, ?)",
			e.Stream, e.StreamSeq, e.Hash, e.Seq, true)
		if moved = err == nil; isDuplicate(err) {
			err = nil
		}
	}
	if err != nil {
		return false, fmt.Errorf("audit head %s: %w", e.Stream, err)
	}
	if !moved {
		delete(r.tx.heads, e.Stream)
		if err := r.db(ctx).Exec("DELETE FROM audit_entries WHERE id = ?", e.Seq).Error; err != nil {
			return false, fmt.Errorf("audit head %s: %w", e.Stream, err)
		}
		return false, nil
	}
	r.tx.heads[e.Stream] = streamHead{seq: e.StreamSeq, hash: e.Hash, exists: true}
	return true, nil
}

const insertEntrySQL = "INSERT INTO audit_entries (stream, stream_seq, at, actor_id, actor_name, actor_roles, ip, request_id, " +
	"action, object_type, object_id, from_state, to_state, changes, outcome, reason, prev_hash, hash) " +
	"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

// insertEntry inserts e, chained, and sets e.Seq.
func (r auditRepo) insertEntry(ctx context.Context, e *audit.Entry) error {
	w := toAuditRow(e)
	id, err := r.insertID(ctx, insertEntrySQL, w.Stream, w.StreamSeq, w.At, w.ActorID, w.ActorName, w.ActorRoles, w.IP,
		w.RequestID, w.Action, w.ObjectType, w.ObjectID, w.FromState, w.ToState, w.Changes, w.Outcome, w.Reason, w.PrevHash, w.Hash)
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	e.Seq = id
	return nil
}

// appendLocked appends e after its stream's head read under lock.
func (r auditRepo) appendLocked(ctx context.Context, e *audit.Entry) error {
	var heads []streamRow
	if err := r.db(ctx).Raw("SELECT stream, seq, head_hash, last_entry_id, pending FROM audit_streams WHERE stream = ?"+r.forUpdate(),
		e.Stream).Scan(&heads).Error; err != nil {
		return fmt.Errorf("audit head %s: %w", e.Stream, err)
	}
	var head streamRow
	if len(heads) == 1 {
		head = heads[0]
	}
	e.Chain(head.Seq, head.HeadHash)
	if err := r.insertEntry(ctx, e); err != nil {
		return err
	}
	next := streamRow{Stream: e.Stream, Seq: e.StreamSeq, HeadHash: e.Hash, LastEntryID: e.Seq, Pending: true}
	if len(heads) == 0 {
		if err := r.db(ctx).Table("audit_streams").Create(&next).Error; err != nil {
			return fmt.Errorf("audit head %s: %w", e.Stream, err)
		}
	} else {
		res := r.db(ctx).Table("audit_streams").Where("stream = ? AND seq = ?", e.Stream, head.Seq).Updates(map[string]any{
			"seq": next.Seq, "head_hash": next.HeadHash, "last_entry_id": next.LastEntryID, "pending": true})
		if res.Error != nil {
			return fmt.Errorf("audit head %s: %w", e.Stream, res.Error)
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("audit head %s moved meanwhile: %w", e.Stream, errConflict)
		}
	}
	if r.tx != nil && r.tx.heads != nil {
		r.tx.heads[e.Stream] = streamHead{seq: e.StreamSeq, hash: e.Hash, exists: true}
	}
	return nil
}

func (r auditRepo) List(ctx context.Context, q app.AuditQuery) ([]*audit.Entry, error) {
	tx := r.db(ctx).Table("audit_entries")
	if q.ActorID > 0 {
		tx = tx.Where("actor_id = ?", q.ActorID)
	}
	if q.ObjectType != "" {
		tx = tx.Where("object_type = ?", q.ObjectType)
	}
	if q.ObjectID != "" {
		tx = tx.Where("object_id = ?", q.ObjectID)
	}
	if q.Action != "" {
		tx = tx.Where("action = ?", q.Action)
	}
	if q.Outcome != "" {
		tx = tx.Where("outcome = ?", q.Outcome)
	}
	if q.Stream != "" {
		tx = tx.Where("stream = ?", q.Stream)
	}
	if !q.From.IsZero() {
		tx = tx.Where("at >= ?", q.From.UTC())
	}
	if !q.To.IsZero() {
		tx = tx.Where("at < ?", q.To.UTC())
	}
	order := "id DESC"
	if q.Ascending {
		order = "id"
		if q.AfterSeq > 0 {
			tx = tx.Where("id > ?", q.AfterSeq)
		}
	} else if q.BeforeSeq > 0 {
		tx = tx.Where("id < ?", q.BeforeSeq)
	}
	var rows []auditRow
	if err := tx.Order(order).Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return toEntries(rows), nil
}

func toEntries(rows []auditRow) []*audit.Entry {
	out := make([]*audit.Entry, len(rows))
	for i, row := range rows {
		out[i] = row.toEntry()
	}
	return out
}

func toHeads(rows []streamRow) []audit.Head {
	out := make([]audit.Head, len(rows))
	for i, s := range rows {
		out[i] = audit.Head{Stream: s.Stream, Seq: s.Seq, Hash: s.HeadHash, EntryID: s.LastEntryID, Pending: s.Pending}
	}
	return out
}

func (r auditRepo) Heads(ctx context.Context, afterStream string, limit int) ([]audit.Head, error) {
	var rows []streamRow
	if err := r.db(ctx).Table("audit_streams").Where("stream > ?", afterStream).Order("stream").Limit(limit).
		Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("audit heads: %w", err)
	}
	return toHeads(rows), nil
}

func (r auditRepo) StreamEntries(ctx context.Context, streams []string) ([]*audit.Entry, error) {
	var rows []auditRow
	if err := r.db(ctx).Table("audit_entries").Where("stream IN ?", streams).Order("stream, stream_seq, id").
		Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	return toEntries(rows), nil
}

func (r auditRepo) OrphanStreams(ctx context.Context) ([]string, error) {
	var out []string
	err := r.db(ctx).Raw("SELECT DISTINCT e.stream FROM audit_entries e LEFT JOIN audit_streams s ON s.stream = e.stream " +
		"WHERE s.stream IS NULL ORDER BY e.stream").Scan(&out).Error
	return out, err
}

func (r auditRepo) EntriesByID(ctx context.Context, ids []int64) ([]*audit.Entry, error) {
	var rows []auditRow
	if err := r.db(ctx).Table("audit_entries").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	return toEntries(rows), nil
}

func (r auditRepo) EntryIDs(ctx context.Context, at []app.StreamPos) (map[app.StreamPos]int64, error) {
	out := map[app.StreamPos]int64{}
	for start := 0; start < len(at); start += 200 {
		part := at[start:min(start+200, len(at))]
		where := make([]string, len(part))
		args := make([]any, 0, 2*len(part))
		for i, p := range part {
			where[i] = "(stream = ? AND stream_seq = ?)"
			args = append(args, p.Stream, p.Seq)
		}
		var rows []auditRow
		if err := r.db(ctx).Table("audit_entries").Select("id, stream, stream_seq").Where(strings.Join(where, " OR "), args...).
			Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("audit entries by position: %w", err)
		}
		for _, row := range rows {
			out[app.StreamPos{Stream: row.Stream, Seq: row.StreamSeq}] = row.ID
		}
	}
	return out, nil
}

type checkpointRow struct {
	ID       int64 `gorm:"primaryKey;autoIncrement:false"`
	At       time.Time
	PrevRoot string
	Root     string
	Note     string
}

type checkpointHeadRow struct {
	CheckpointID int64 `gorm:"primaryKey;autoIncrement:false"`
	Stream       string
	StreamSeq    int64
	EntryID      int64
	Hash         string
}

func (r auditRepo) Checkpoints(ctx context.Context, afterNumber int64, limit int) ([]*audit.Checkpoint, error) {
	var rows []checkpointRow
	if err := r.db(ctx).Table("audit_checkpoints").Where("id > ?", afterNumber).Order("id").Limit(limit).
		Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(rows))
	byID := map[int64]*audit.Checkpoint{}
	out := make([]*audit.Checkpoint, len(rows))
	for i, row := range rows {
		ids[i] = row.ID
		out[i] = &audit.Checkpoint{Number: row.ID, At: row.At.UTC(), PrevRoot: row.PrevRoot, Root: row.Root, Note: row.Note}
		byID[row.ID] = out[i]
	}
	var heads []checkpointHeadRow
	if err := r.db(ctx).Table("audit_checkpoint_heads").Where("checkpoint_id IN ?", ids).Order("checkpoint_id, stream").
		Find(&heads).Error; err != nil {
		return nil, fmt.Errorf("audit checkpoint heads: %w", err)
	}
	for _, h := range heads {
		cp := byID[h.CheckpointID]
		cp.Heads = append(cp.Heads, audit.Head{Stream: h.Stream, Seq: h.StreamSeq, Hash: h.Hash, EntryID: h.EntryID})
	}
	return out, nil
}

func (r auditRepo) PendingHeads(ctx context.Context, limit int) ([]audit.Head, error) {
	var rows []streamRow
	if err := r.db(ctx).Raw("SELECT stream, seq, head_hash, last_entry_id, pending FROM audit_streams WHERE pending = ? "+
		"ORDER BY stream LIMIT ?"+r.forUpdate(), true, limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("pending audit heads: %w", err)
	}
	return toHeads(rows), nil
}

func (r auditRepo) SignedHeads(ctx context.Context, streams []string) (map[string]audit.Head, error) {
	out := map[string]audit.Head{}
	read := func(part []string) error {
		tx := r.db(ctx).Table("audit_checkpoint_heads").Select("stream, MAX(stream_seq) AS stream_seq, MAX(entry_id) AS entry_id")
		if part != nil {
			tx = tx.Where("stream IN ?", part)
		}
		var rows []checkpointHeadRow
		if err := tx.Group("stream").Find(&rows).Error; err != nil {
			return fmt.Errorf("signed audit heads: %w", err)
		}
		for _, h := range rows {
			out[h.Stream] = audit.Head{Stream: h.Stream, Seq: h.StreamSeq, EntryID: h.EntryID}
		}
		return nil
	}
	if streams == nil {
		return out, read(nil)
	}
	for start := 0; start < len(streams); start += 500 {
		if err := read(streams[start:min(start+500, len(streams))]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r auditRepo) LatestCheckpoint(ctx context.Context) (*audit.Checkpoint, error) {
	var rows []checkpointRow
	if err := r.db(ctx).Table("audit_checkpoints").Order("id DESC").Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("latest checkpoint: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	row := rows[0]
	return &audit.Checkpoint{Number: row.ID, At: row.At.UTC(), PrevRoot: row.PrevRoot, Root: row.Root, Note: row.Note}, nil
}

func (r auditRepo) SaveCheckpoint(ctx context.Context, cp *audit.Checkpoint) error {
	row := checkpointRow{ID: cp.Number, At: cp.At, PrevRoot: cp.PrevRoot, Root: cp.Root, Note: cp.Note}
	if err := r.db(ctx).Table("audit_checkpoints").Create(&row).Error; err != nil {
		if isDuplicate(err) {
			return fmt.Errorf("checkpoint %d exists: %w", cp.Number, errConflict)
		}
		return fmt.Errorf("insert checkpoint: %w", err)
	}
	heads := make([]checkpointHeadRow, len(cp.Heads))
	for i, h := range cp.Heads {
		heads[i] = checkpointHeadRow{CheckpointID: cp.Number, Stream: h.Stream, StreamSeq: h.Seq, EntryID: h.EntryID, Hash: h.Hash}
	}
	if len(heads) > 0 {
		if err := r.db(ctx).Table("audit_checkpoint_heads").CreateInBatches(heads, 500).Error; err != nil {
			return fmt.Errorf("insert checkpoint heads: %w", err)
		}
	}
	return r.clearPending(ctx, cp.Heads)
}

// clearPendingBatch is how many heads one statement clears: one round trip
// for many streams, where a statement each kept the rows that PendingHeads
// locked for the length of as many round trips.
const clearPendingBatch = 200

// clearPending marks the streams' heads signed, each only while it is
// still at the signed position.
func (r auditRepo) clearPending(ctx context.Context, heads []audit.Head) error {
	for start := 0; start < len(heads); start += clearPendingBatch {
		part := heads[start:min(start+clearPendingBatch, len(heads))]
		var q strings.Builder
		q.WriteString("UPDATE audit_streams SET pending = ? WHERE ")
		args := make([]any, 0, 1+2*len(part))
		args = append(args, false)
		for i, h := range part {
			if i > 0 {
				q.WriteString(" OR ")
			}
			q.WriteString("(stream = ? AND seq = ?)")
			args = append(args, h.Stream, h.Seq)
		}
		if _, err := r.exec(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("clear pending heads: %w", err)
		}
	}
	return nil
}
