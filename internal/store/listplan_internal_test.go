package store

import (
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// A filter that an index can answer whole walks that index, a branch per
// status where it must, rather than the table in id order on a guessed
// share: after a campaign registers thousands of problems of one source, a
// walk in id order reads all of them to find a page of another.
func TestListPlanPrefersWalksBoundedByTheirIndex(t *testing.T) {
	trees := listTrees{unitCount: 30, categoryCount: 10, lights: true}
	for _, tc := range []struct {
		name     string
		q        app.ProblemQuery
		index    string
		branches int
	}{
		{"a source", app.ProblemQuery{Sources: []domain.Source{domain.SourceInspection}}, "idx_problems_status_source", len(domain.Statuses())},
		{"a status", app.ProblemQuery{Statuses: []domain.Status{domain.StatusAssigned}}, "idx_problems_status", 1},
		{"green", app.ProblemQuery{Warnings: []domain.WarningLevel{domain.WarningGreen}}, "idx_problems_light", 4},
		{"a status and a severity", app.ProblemQuery{Statuses: []domain.Status{domain.StatusClosed},
			Severities: []domain.Severity{domain.SeverityCritical}}, "idx_problems_status_severity", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Scope, q.Limit, q.Today, q.YellowDays = app.Scope{All: true}, 51, domain.NewDate(2026, time.December, 2), 3
			p := planList(q, trees, "mysql")
			if len(p.sides) != 1 || p.sides[0].index.name != tc.index || len(p.branches) != tc.branches {
				t.Fatalf("walks %s in %d branches, want %s in %d", p.sides[0].index.name, len(p.branches), tc.index, tc.branches)
			}
		})
	}
}
