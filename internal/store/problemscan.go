package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/rectify-team/rectify/internal/domain"
)

// A problem is read with its unit's path and its milestones in one
// statement: the problem joined with its milestones, a row per milestone (a
// row with NULL milestone columns when it has none), scanned by hand rather
// than by gorm's reflection. problemColumns and problemRow.dests list the
// same columns in the same order.
//
// The statements have no ORDER BY: scanProblems puts the problems newest
// first and each one's milestones by due date. MariaDB sorts joined rows
// with TEXT columns through a temporary table: on a million problems the
// rows of a page of 51 took 1.1 ms to read with the ORDER BY, 0.8 ms
// without; sorting them here costs microseconds.
const (
	problemColumns = "p.id, p.code, p.title, p.description, p.category_id, p.severity, p.source, p.unit_id, p.found_at, " +
		"p.status, p.version, p.assignee_id, p.deadline, p.measures, p.percent, p.rework_count, p.reopen_count, " +
		"p.extension_count, p.closed_on_time, p.submitted_by, p.created_by, p.created_at, p.updated_at, p.assigned_at, " +
		"p.submitted_at, p.closed_at, u.path AS unit_path, " +
		"m.id AS milestone_id, m.due AS milestone_due, m.title AS milestone_title, m.done AS milestone_done, " +
		"m.done_at AS milestone_done_at, m.done_by AS milestone_done_by"
	problemJoins = "JOIN units u ON u.id = p.unit_id LEFT JOIN milestones m ON m.problem_id = p.id"
	// problemGetSQL reads one problem by id.
	problemGetSQL = "SELECT " + problemColumns + " FROM problems p " + problemJoins + " WHERE p.id = ?"
	// problemsSQL reads the problems of a list of ids.
	problemsSQL = "SELECT " + problemColumns + " FROM problems p " + problemJoins + " WHERE p.id IN ?"
)

// dests are the scan destinations of the problem's part of problemColumns.
func (r *problemRow) dests() []any {
	return []any{&r.ID, &r.Code, &r.Title, &r.Description, &r.CategoryID, &r.Severity, &r.Source, &r.UnitID, &r.FoundAt,
		&r.Status, &r.Version, &r.AssigneeID, &r.Deadline, &r.Measures, &r.Percent, &r.ReworkCount, &r.ReopenCount,
		&r.ExtensionCount, &r.ClosedOnTime, &r.SubmittedBy, &r.CreatedBy, &r.CreatedAt, &r.UpdatedAt, &r.AssignedAt,
		&r.SubmittedAt, &r.ClosedAt, &r.UnitPath}
}

// problemHeadSQL is problemGetSQL with the head of the problem's audit
// stream (NULLs when it has none) in two more columns, for a transaction
// that may append to that stream (auditRepo.Append).
func problemHeadSQL(b base) string {
	return "SELECT " + problemColumns + ", h.seq, h.head_hash FROM problems p " + problemJoins +
		" LEFT JOIN audit_streams h ON h.stream = " + b.concat("'problem/'", "p.id") + " WHERE p.id = ?"
}

// problems runs query, a statement of problemColumns, and returns its
// problems as scanProblems orders them. A fixed query (its text never
// varies) is prepared once for the pool.
func (b base) problems(ctx context.Context, fixed bool, query string, args ...any) ([]*domain.Problem, error) {
	return b.problemsAnd(ctx, fixed, nil, query, args...)
}

// problemsAnd is problems for a query with columns after problemColumns,
// scanned into extra (of the last row read).
func (b base) problemsAnd(ctx context.Context, fixed bool, extra []any, query string, args ...any) ([]*domain.Problem, error) {
	ctx, cancel := b.bounded(ctx)
	defer cancel()
	var (
		rows *sql.Rows
		err  error
	)
	if fixed {
		rows, err = b.queryFixed(ctx, query, args...)
	} else {
		rows, err = b.db(ctx).Raw(query, args...).Rows()
	}
	if err != nil {
		return nil, markUnavailable(err)
	}
	ps, err := scanProblems(rows, extra...)
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, markUnavailable(err)
	}
	return ps, nil
}

// bounded returns the context of a statement whose rows are read after
// gorm's callbacks have returned (Rows), so that they give it no deadline:
// outside a transaction, when ctx has none, one of the store's timeout, as
// the callbacks give every other statement. In a transaction the attempt's
// deadline holds.
func (b base) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if b.tx != nil {
		return ctx, func() {}
	}
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	timeout := b.timeout
	if timeout <= 0 {
		timeout = DefaultQueryTimeout
	}
	return context.WithTimeout(ctx, timeout)
}

// scanProblems reads rows of problemColumns, in any order, into their
// problems, newest (largest id) first, each with its milestones by due date
// and then id: the order the list and the domain rely on. Columns after
// problemColumns are scanned into extra.
func scanProblems(rows *sql.Rows, extra ...any) ([]*domain.Problem, error) {
	out := []*domain.Problem{}
	byID := map[int64]*domain.Problem{}
	var (
		row    problemRow
		mID    sql.NullInt64
		mDue   sql.NullString
		mTitle sql.NullString
		mDone  sql.NullBool
		mAt    sql.NullTime
		mBy    sql.NullInt64
	)
	dests := append(append(row.dests(), &mID, &mDue, &mTitle, &mDone, &mAt, &mBy), extra...)
	for rows.Next() {
		if err := rows.Scan(dests...); err != nil {
			return nil, fmt.Errorf("read problems: %w", err)
		}
		p := byID[row.ID]
		if p == nil {
			var err error
			if p, err = row.toDomain(); err != nil {
				return nil, err
			}
			byID[p.ID] = p
			out = append(out, p)
		}
		if !mID.Valid {
			continue
		}
		m := milestoneRow{ID: mID.Int64, ProblemID: row.ID, Due: mDue.String, Title: mTitle.String, Done: mDone.Bool}
		if mAt.Valid {
			m.DoneAt = &mAt.Time
		}
		if mBy.Valid {
			m.DoneBy = &mBy.Int64
		}
		ms, err := m.toDomain()
		if err != nil {
			return nil, err
		}
		p.Milestones = append(p.Milestones, ms)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read problems: %w", err)
	}
	slices.SortFunc(out, func(a, b *domain.Problem) int { return cmp.Compare(b.ID, a.ID) })
	for _, p := range out {
		slices.SortFunc(p.Milestones, func(a, b domain.Milestone) int {
			switch {
			case a.Due.Before(b.Due):
				return -1
			case b.Due.Before(a.Due):
				return 1
			}
			return cmp.Compare(a.ID, b.ID)
		})
	}
	return out, nil
}
