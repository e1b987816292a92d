package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/rectify-team/rectify/internal/domain"
)

// LoadProblems adds problems as they are given, states and times included,
// for the load tool's data sets: rows that stand for history, so without
// audit entries (an action on one later starts its trail). Each gets the
// next code of its found date's year, as a registration that day would, and
// the year's counter moves past them. Rows go batch to a statement, in one
// transaction; call it with a few thousand problems at a time.
func (db *DB) LoadProblems(ctx context.Context, ps []*domain.Problem, batch int) error {
	if len(ps) == 0 {
		return nil
	}
	return db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		last := map[int]int64{}
		rows := make([]problemRow, len(ps))
		for i, p := range ps {
			year := p.FoundAt.Year()
			if _, ok := last[year]; !ok {
				var seq []int64
				if err := tx.Raw("SELECT last_seq FROM problem_counters WHERE year = ?", year).Scan(&seq).Error; err != nil {
					return fmt.Errorf("load problems: counter %d: %w", year, err)
				}
				last[year] = 0
				if len(seq) > 0 {
					last[year] = seq[0]
				}
			}
			last[year]++
			p.Code = fmt.Sprintf("WT-%d-%06d", year, last[year])
			rows[i] = toProblemRow(p)
		}
		if err := tx.Table("problems").Omit("UnitPath").CreateInBatches(&rows, batch).Error; err != nil {
			return fmt.Errorf("load problems: %w", err)
		}
		for i := range ps {
			ps[i].ID = rows[i].ID
		}
		raise := "INSERT INTO problem_counters (year, last_seq) VALUES (?, ?) ON CONFLICT(year) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)"
		if db.dialect == DialectMySQL {
			raise = "INSERT INTO problem_counters (year, last_seq) VALUES (?, ?) ON DUPLICATE KEY UPDATE last_seq = GREATEST(last_seq, VALUES(last_seq))"
		}
		for year, seq := range last {
			if err := tx.Exec(raise, year, seq).Error; err != nil {
				return fmt.Errorf("load problems: counter %d: %w", year, err)
			}
		}
		return nil
	})
}
