package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// GormProblems reads the problems of ids as the store did before it scanned
// them by hand: the rows by gorm's reflection, newest first, then their
// milestones in a second statement by problem, due date and id. For the
// tests that compare the two ways.
func GormProblems(ctx context.Context, db *DB, ids []int64) ([]*domain.Problem, error) {
	r := problemRepo{base{g: db.gorm, dialect: db.dialect}}
	var rows []problemRow
	if err := r.query(ctx).Where("p.id IN ?", ids).Order("p.id DESC").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]*domain.Problem, 0, len(rows))
	byID := map[int64]*domain.Problem{}
	for _, row := range rows {
		p, err := row.toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		byID[p.ID] = p
	}
	var ms []milestoneRow
	if err := db.gorm.WithContext(ctx).Table("milestones").Where("problem_id IN ?", ids).Order("problem_id, due, id").Find(&ms).Error; err != nil {
		return nil, err
	}
	for _, row := range ms {
		m, err := row.toDomain()
		if err != nil {
			return nil, err
		}
		p := byID[row.ProblemID]
		if p == nil {
			return nil, fmt.Errorf("milestone %d of problem %d, not read", row.ID, row.ProblemID)
		}
		p.Milestones = append(p.Milestones, m)
	}
	return out, nil
}

// A statement whose rows are read after gorm's callbacks return gets the
// store's timeout outside a transaction, unless the caller set a deadline;
// in a transaction the attempt's deadline holds.
func TestBoundedDeadline(t *testing.T) {
	ctx := context.Background()
	within := func(c context.Context, d time.Duration) bool {
		dl, ok := c.Deadline()
		left := time.Until(dl)
		return ok && left <= d && left > d-time.Second
	}
	c, cancel := base{timeout: 3 * time.Second}.bounded(ctx)
	if !within(c, 3*time.Second) {
		t.Error("outside a transaction: no deadline of the store's timeout")
	}
	cancel()
	c, cancel = base{}.bounded(ctx)
	if !within(c, DefaultQueryTimeout) {
		t.Error("without a configured timeout: no deadline of DefaultQueryTimeout")
	}
	cancel()
	mine, cancelMine := context.WithTimeout(ctx, time.Minute)
	defer cancelMine()
	if c, cancel = (base{timeout: time.Second}).bounded(mine); !within(c, time.Minute) {
		t.Error("the caller's deadline was replaced")
	}
	cancel()
	if c, cancel = (base{timeout: time.Second, tx: &txState{}}).bounded(ctx); c != ctx {
		t.Error("in a transaction the context was changed")
	}
	cancel()
}
