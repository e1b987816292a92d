package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

func benchEntry(stream string, at time.Time) *audit.Entry {
	return &audit.Entry{Stream: stream, At: at, ActorID: 1, ActorName: "verifier", ActorRoles: []string{"verifier"},
		IP: "127.0.0.1", RequestID: "bench", Action: "urge", ObjectType: "problem", ObjectID: stream,
		FromState: "rectifying", ToState: "rectifying", Changes: `{"note":"督办"}`, Outcome: audit.OutcomeOK}
}

// Appending one audit entry in its own transaction: lock the stream head,
// chain, insert, move the head, commit. "parallel" appends to distinct
// streams from every goroutine: they must not wait for each other.
func BenchmarkAuditAppend(b *testing.B) {
	db := storetest.Open(b)
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	b.Run("one-stream", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := db.Tx(ctx, func(ctx context.Context, r app.Repos) error { return r.Audit.Append(ctx, benchEntry("problem/1", at)) }); err != nil {
				b.Fatal(err)
			}
		}
	})
	var n atomic.Int64
	b.Run("parallel-streams", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			stream := fmt.Sprintf("problem/%d", 1000+n.Add(1))
			for pb.Next() {
				if err := db.Tx(ctx, func(ctx context.Context, r app.Repos) error { return r.Audit.Append(ctx, benchEntry(stream, at)) }); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// benchProblems registers n problems in one unit, the i-th with i%4
// milestones (0 to 3), and returns their ids.
func benchProblems(b *testing.B, db *store.DB, n int) []int64 {
	b.Helper()
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	var ids []int64
	err := db.Tx(ctx, func(ctx context.Context, r app.Repos) error {
		unit := &app.Unit{Name: "中心", CreatedAt: at, UpdatedAt: at}
		if err := r.Units.Create(ctx, unit); err != nil {
			return err
		}
		user := &app.User{Username: "insp", Name: "insp", PasswordHash: "x", Roles: []domain.Role{domain.RoleInspector},
			UnitID: unit.ID, CreatedAt: at, UpdatedAt: at}
		if err := r.Users.Create(ctx, user); err != nil {
			return err
		}
		for i := range n {
			p := &domain.Problem{Title: fmt.Sprintf("问题 %d", i), Description: "宿舍卫生检查发现的问题，需要整改", CategoryID: 5,
				Severity: domain.SeverityGeneral, Source: domain.SourceInspection, UnitID: unit.ID, FoundAt: domain.NewDate(2026, 3, 1),
				Status: domain.StatusRectifying, Version: 1, AssigneeID: user.ID, Deadline: domain.NewDate(2026, 4, 1),
				Measures: "整改措施", CreatedBy: user.ID, CreatedAt: at, UpdatedAt: at, AssignedAt: &at}
			p.Code = fmt.Sprintf("WT-%d-%06d", at.Year(), i+1)
			if err := r.Problems.Create(ctx, p); err != nil {
				return err
			}
			var ms []domain.Milestone
			for k := range i % 4 {
				ms = append(ms, domain.Milestone{Due: domain.NewDate(2026, 3, 10+k), Title: "节点"})
			}
			if err := r.Milestones.Save(ctx, p.ID, ms, at); err != nil {
				return err
			}
			ids = append(ids, p.ID)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return ids
}

// Reading one problem by id, with its unit's path and its three milestones,
// outside a transaction and inside one (as every action does).
func BenchmarkProblemGet(b *testing.B) {
	db := storetest.Open(b)
	ctx := context.Background()
	id := benchProblems(b, db, 4)[3]
	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p, err := db.Read().Problems.Get(ctx, id)
			if err != nil || len(p.Milestones) != 3 {
				b.Fatal(p, err)
			}
		}
	})
	b.Run("in-tx", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			err := db.Tx(ctx, func(ctx context.Context, r app.Repos) error {
				_, err := r.Problems.Get(ctx, id)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// One page of 50 problems (a quarter of them with no milestone, the rest
// with one to three), unfiltered and by status and unit.
func BenchmarkProblemListPage(b *testing.B) {
	db := storetest.Open(b)
	ctx := context.Background()
	benchProblems(b, db, 200)
	page := func(b *testing.B, q app.ProblemQuery) {
		b.ReportAllocs()
		for b.Loop() {
			ps, err := db.Read().Problems.List(ctx, q)
			if err != nil || len(ps) != 50 {
				b.Fatal(len(ps), err)
			}
		}
	}
	b.Run("all", func(b *testing.B) { page(b, app.ProblemQuery{Scope: app.Scope{All: true}, Limit: 50}) })
	b.Run("status-unit", func(b *testing.B) {
		page(b, app.ProblemQuery{Scope: app.Scope{All: true}, Limit: 50, Statuses: []domain.Status{domain.StatusRectifying}, UnitPath: "/"})
	})
}
