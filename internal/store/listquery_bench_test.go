package store

import (
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// Planning and building the SQL of a filtered list page (an owner's scope,
// every filter, a created-date month, the cursor) without running it: the
// subtrees are given as the store reads them.
func BenchmarkBuildListQuery(b *testing.B) {
	overdue := true
	today, _ := domain.ParseDate("2026-03-02")
	from := time.Date(2026, 2, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	q := app.ProblemQuery{Scope: app.Scope{UserID: 12, UnitPath: "/1/4/"},
		Statuses: []domain.Status{domain.StatusAssigned, domain.StatusRectifying}, CategoryPath: "/1/5/",
		Severities: []domain.Severity{domain.SeveritySerious}, UnitPath: "/1/4/9/",
		Warnings: []domain.WarningLevel{domain.WarningRed, domain.WarningYellow}, Overdue: &overdue, Text: "学习",
		CreatedFrom: from, CreatedTo: from.AddDate(0, 1, 0), Today: today, YellowDays: 3, BeforeID: 900000, Limit: 51}
	trees := listTrees{units: []int64{9, 10, 11}, scopeUnits: []int64{4, 9, 10, 11, 12}, categories: []int64{5},
		unitCount: 30, categoryCount: 10}
	for _, dialect := range []string{DialectSQLite, DialectMySQL} {
		b.Run(dialect, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if stmt, _ := planList(q, trees, dialect).build(dialect); stmt == "" {
					b.Fatal("no statement")
				}
			}
		})
	}
}
