package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// ledgerRepo serves the ledger's import: the records that make a re-upload
// create nothing twice, and problems inserted under a code they bring along.
type ledgerRepo struct{ base }

type importRow struct {
	ID         int64  `gorm:"primaryKey"`
	FileSHA256 string `gorm:"column:file_sha256"`
	Filename   string
	RowCount   int
	Created    int
	Skipped    int
	ImportedBy int64
	ImportedAt time.Time
}

func (r ledgerRepo) CreateImport(ctx context.Context, rec *app.ImportRecord) error {
	row := importRow{FileSHA256: rec.FileSHA256, Filename: rec.Filename, RowCount: rec.Rows, Created: rec.Created,
		Skipped: rec.Skipped, ImportedBy: rec.ImportedBy, ImportedAt: rec.ImportedAt}
	if err := r.db(ctx).Table("problem_imports").Create(&row).Error; err != nil {
		return fmt.Errorf("insert import: %w", err)
	}
	rec.ID = row.ID
	return nil
}

func (r ledgerRepo) FinishImport(ctx context.Context, rec *app.ImportRecord) error {
	err := r.db(ctx).Table("problem_imports").Where("id = ?", rec.ID).
		Updates(map[string]any{"created": rec.Created, "skipped": rec.Skipped}).Error
	if err != nil {
		return fmt.Errorf("update import %d: %w", rec.ID, err)
	}
	return nil
}

type importedRowRow struct {
	RowHash   string `gorm:"primaryKey"`
	ImportID  int64
	RowNo     int
	ProblemID int64
}

func (r ledgerRepo) AddRows(ctx context.Context, rows []app.ImportedRow) error {
	if len(rows) == 0 {
		return nil
	}
	out := make([]importedRowRow, len(rows))
	for i, row := range rows {
		out[i] = importedRowRow{RowHash: row.Hash, ImportID: row.ImportID, RowNo: row.Row, ProblemID: row.ProblemID}
	}
	if err := r.db(ctx).Table("problem_import_rows").CreateInBatches(out, chunk).Error; err != nil {
		if isDuplicate(err) {
			return domain.Conflict("the same ledger rows are being imported by another upload; try again")
		}
		return fmt.Errorf("insert imported rows: %w", err)
	}
	return nil
}

func (r ledgerRepo) ImportedRows(ctx context.Context, hashes []string) (map[string]int64, error) {
	out := map[string]int64{}
	for start := 0; start < len(hashes); start += chunk {
		var rows []importedRowRow
		if err := r.db(ctx).Table("problem_import_rows").Where("row_hash IN ?", hashes[start:min(start+chunk, len(hashes))]).
			Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("imported rows: %w", err)
		}
		for _, row := range rows {
			out[row.RowHash] = row.ProblemID
		}
	}
	return out, nil
}

func (r ledgerRepo) ProblemsByCode(ctx context.Context, codes []string) (map[string]*domain.Problem, error) {
	out := map[string]*domain.Problem{}
	pr := problemRepo(r)
	for start := 0; start < len(codes); start += chunk {
		var rows []problemRow
		if err := pr.query(ctx).Where("p.code IN ?", codes[start:min(start+chunk, len(codes))]).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("problems by code: %w", err)
		}
		for _, row := range rows {
			p, err := row.toDomain()
			if err != nil {
				return nil, err
			}
			out[p.Code] = p
		}
	}
	return out, nil
}

// ReserveCodes takes n numbers of a year's problem code counter, in the
// same row problemRepo.Create counts with, and returns the first of them.
func (r ledgerRepo) ReserveCodes(ctx context.Context, year int, n int64) (int64, error) {
	upsert := r.dia().upsertCounter(false)
	if err := r.db(ctx).Exec(upsert, year, n).Error; err != nil {
		return 0, fmt.Errorf("reserve problem codes: %w", err)
	}
	var last int64
	if err := r.db(ctx).Raw("SELECT last_seq FROM problem_counters WHERE year = ?", year).Scan(&last).Error; err != nil {
		return 0, fmt.Errorf("reserve problem codes: %w", err)
	}
	return last - n + 1, nil
}

// RaiseCounter moves a year's code counter to at least seq, so that codes
// brought in by an import are never given again.
func (r ledgerRepo) RaiseCounter(ctx context.Context, year int, seq int64) error {
	upsert := r.dia().upsertCounter(true)
	if err := r.db(ctx).Exec(upsert, year, seq).Error; err != nil {
		return fmt.Errorf("move problem code counter: %w", err)
	}
	return nil
}

// InsertProblems inserts many problems at a time and reads their ids back
// by code (nothing relies on consecutive AUTO_INCREMENT values).
func (r ledgerRepo) InsertProblems(ctx context.Context, ps []*domain.Problem) error {
	if len(ps) == 0 {
		return nil
	}
	rows := make([]problemRow, len(ps))
	codes := make([]string, len(ps))
	for i, p := range ps {
		rows[i] = toProblemRow(p)
		rows[i].ID = 0
		codes[i] = p.Code
	}
	if err := r.db(ctx).Table("problems").Omit("UnitPath").CreateInBatches(rows, r.insertBatch()).Error; err != nil {
		if isDuplicate(err) {
			return fmt.Errorf("insert problems: %w", domain.Conflict("a problem code is taken"))
		}
		return fmt.Errorf("insert problems: %w", err)
	}
	ids := map[string]int64{}
	for start := 0; start < len(codes); start += chunk {
		var got []struct {
			ID   int64
			Code string
		}
		if err := r.db(ctx).Table("problems").Select("id, code").Where("code IN ?", codes[start:min(start+chunk, len(codes))]).
			Scan(&got).Error; err != nil {
			return fmt.Errorf("inserted problems: %w", err)
		}
		for _, g := range got {
			ids[g.Code] = g.ID
		}
	}
	for _, p := range ps {
		if p.ID = ids[p.Code]; p.ID == 0 {
			return fmt.Errorf("inserted problem %s not found", p.Code)
		}
	}
	pids := make([]int64, len(ps))
	terms := make([][]string, len(ps))
	var lit []int64
	for i, p := range ps {
		pids[i], terms[i] = p.ID, textTerms(p.Title, p.Description, p.Code)
		if hasLight(p) {
			lit = append(lit, p.ID)
		}
	}
	if err := r.relight(ctx, lit); err != nil {
		return err
	}
	return r.insertTerms(ctx, pids, terms)
}

// insertBatch is how many rows one multi-row INSERT carries (dialect.go).
func (r ledgerRepo) insertBatch() int { return r.dia().problemBatch() }

// AppendNewStreams is Audit.Append for many entries of streams that have no
// entry yet: each is chained to the one before it in its stream (the first to
// the genesis hash), all are inserted many at a time, and a head is written
// for each stream. A stream that has a head already is a conflict.
func (r ledgerRepo) AppendNewStreams(ctx context.Context, entries []*audit.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	var streams []string
	last := map[string]*audit.Entry{}
	for _, e := range entries {
		prev := last[e.Stream]
		if prev == nil {
			streams = append(streams, e.Stream)
			e.Chain(0, "")
		} else {
			e.Chain(prev.StreamSeq, prev.Hash)
		}
		last[e.Stream] = e
	}
	for start := 0; start < len(streams); start += chunk {
		var n int64
		if err := r.db(ctx).Table("audit_streams").Where("stream IN ?", streams[start:min(start+chunk, len(streams))]).
			Count(&n).Error; err != nil {
			return fmt.Errorf("audit heads: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("audit heads: %w", domain.Conflict("a stream of these entries is not new"))
		}
	}
	rows := make([]auditRow, len(entries))
	for i, e := range entries {
		rows[i] = toAuditRow(e)
	}
	if err := r.db(ctx).Table("audit_entries").CreateInBatches(rows, r.insertBatch()).Error; err != nil {
		return fmt.Errorf("append audit entries: %w", err)
	}
	// Read the sequences back by (stream, stream_seq); the heads point at the last of each stream.
	seqs := map[string]int64{}
	for start := 0; start < len(streams); start += chunk {
		var got []struct {
			ID        int64
			Stream    string
			StreamSeq int64
		}
		if err := r.db(ctx).Table("audit_entries").Select("id, stream, stream_seq").
			Where("stream IN ?", streams[start:min(start+chunk, len(streams))]).Scan(&got).Error; err != nil {
			return fmt.Errorf("appended audit entries: %w", err)
		}
		for _, g := range got {
			seqs[g.Stream+"#"+strconv.FormatInt(g.StreamSeq, 10)] = g.ID
		}
	}
	heads := make([]streamRow, 0, len(streams))
	for _, e := range entries {
		e.Seq = seqs[e.Stream+"#"+strconv.FormatInt(e.StreamSeq, 10)]
	}
	for _, st := range streams {
		e := last[st]
		heads = append(heads, streamRow{Stream: st, Seq: e.StreamSeq, HeadHash: e.Hash, LastEntryID: e.Seq, Pending: true})
	}
	if err := r.db(ctx).Table("audit_streams").CreateInBatches(heads, r.insertBatch()).Error; err != nil {
		if isDuplicate(err) {
			return fmt.Errorf("audit heads: %w", domain.Conflict("a stream of these entries is not new"))
		}
		return fmt.Errorf("audit heads: %w", err)
	}
	return nil
}
