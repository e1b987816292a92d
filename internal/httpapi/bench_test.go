package httpapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// Encoding one problem as a response: the converter (warning level, the
// viewer's available actions) and the JSON encoding.
func BenchmarkToProblemJSON(b *testing.B) {
	now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	today := domain.DateOf(now, time.UTC)
	assigned := now.Add(time.Hour)
	p := &domain.Problem{ID: 123456, Code: "WT-2026-123456", Title: "学习意识不强，理论学习流于形式",
		Description: "部分同志参加集中学习不够主动，学习笔记内容单薄。", CategoryID: 5, Severity: domain.SeveritySerious,
		Source: domain.SourceInspection, UnitID: 9, UnitPath: "/1/4/9/", FoundAt: today, Status: domain.StatusRectifying,
		Version: 3, AssigneeID: 12, Deadline: today.AddDays(15), Measures: "制定学习计划，每周集中学习一次", Percent: 40,
		CreatedBy: 2, CreatedAt: now, UpdatedAt: assigned, AssignedAt: &assigned}
	owner := domain.Actor{UserID: 12, Username: "owner", Roles: []domain.Role{domain.RoleOwner}, UnitID: 9, UnitPath: "/1/4/9/"}
	b.Run("convert", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = toProblemJSON(p, owner, today, 3)
		}
	})
	b.Run("convert+encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(toProblemJSON(p, owner, today, 3)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
