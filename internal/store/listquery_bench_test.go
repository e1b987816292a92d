package store

import (
	"context"
	"path/filepath"
	"testing"

	"gorm.io/gorm"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// Building the SQL of a filtered list page (scope, filters, warnings, order,
// limit) without running it: gorm's dry run.
func BenchmarkBuildListQuery(b *testing.B) {
	db, err := Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	for _, dialect := range []string{DialectSQLite, DialectMySQL} {
		repo := problemRepo{base{g: db.gorm.Session(&gorm.Session{DryRun: true}), dialect: dialect}}
		overdue := true
		today, _ := domain.ParseDate("2026-03-02")
		q := app.ProblemQuery{Scope: app.Scope{UserID: 12, UnitPath: "/1/4/"},
			Statuses: []domain.Status{domain.StatusAssigned, domain.StatusRectifying}, CategoryPath: "/1/5/",
			Severities: []domain.Severity{domain.SeveritySerious}, UnitPath: "/1/4/9/",
			Warnings: []domain.WarningLevel{domain.WarningRed, domain.WarningYellow}, Overdue: &overdue, Text: "学习",
			Today: today, YellowDays: 3, BeforeID: 900000, Limit: 51}
		b.Run(dialect, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := repo.List(context.Background(), q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
