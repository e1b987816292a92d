package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/app"
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
	pr := problemRepo{r.base}
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

// CreateWithCode inserts p under its own code, WT-YYYY-NNNNNN, and raises
// that year's counter to at least NNNNNN so that later codes never collide.
func (r ledgerRepo) CreateWithCode(ctx context.Context, p *domain.Problem) error {
	year, seq, ok := parseCode(p.Code)
	if !ok {
		return domain.Invalid("code", "%q is not a problem code of the form WT-YYYY-NNNNNN", p.Code)
	}
	row := toProblemRow(p)
	if err := r.db(ctx).Table("problems").Omit("UnitPath").Create(&row).Error; err != nil {
		if isDuplicate(err) {
			return domain.Conflict("problem code %s is taken", p.Code)
		}
		return fmt.Errorf("insert problem: %w", err)
	}
	p.ID = row.ID
	upsert := "INSERT INTO problem_counters (year, last_seq) VALUES (?, ?) ON CONFLICT (year) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)"
	if r.dialect == DialectMySQL {
		upsert = "INSERT INTO problem_counters (year, last_seq) VALUES (?, ?) ON DUPLICATE KEY UPDATE last_seq = GREATEST(last_seq, VALUES(last_seq))"
	}
	if err := r.db(ctx).Exec(upsert, year, seq).Error; err != nil {
		return fmt.Errorf("move problem code counter: %w", err)
	}
	return nil
}

// parseCode splits WT-YYYY-NNNNNN into its year and number.
func parseCode(code string) (int, int64, bool) {
	parts := strings.Split(code, "-")
	if len(parts) != 3 || parts[0] != "WT" || len(parts[1]) != 4 || len(parts[2]) < 6 || len(parts[2]) > 12 {
		return 0, 0, false
	}
	year, err1 := strconv.Atoi(parts[1])
	seq, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || year < 1900 || seq < 1 {
		return 0, 0, false
	}
	return year, seq, true
}
