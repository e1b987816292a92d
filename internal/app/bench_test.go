package app_test

import (
	"context"
	"testing"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/domain"
)

// The token check every authenticated request makes, on the real store
// (SQLite, or MariaDB with RECTIFY_TEST_MYSQL_DSN).
func BenchmarkAuthenticate(b *testing.B) {
	env := apptest.New(b)
	token := env.Login(b, "owner1")
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := env.Svc.Access.Authenticate(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := env.Svc.Access.Authenticate(ctx, token); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// One whole action (load, check, apply, save, audit, commit) on the store.
func BenchmarkAcceptAction(b *testing.B) {
	env := apptest.New(b)
	ctx := context.Background()
	ids := make([]int64, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		if len(ids) == 0 {
			b.StopTimer()
			for range cap(ids) {
				ids = append(ids, env.Drive(b, "assigned").ID)
			}
			b.StartTimer()
		}
		id := ids[len(ids)-1]
		ids = ids[:len(ids)-1]
		if _, err := env.Svc.Lifecycle.Accept(ctx, env.Caller("owner1"), id, 0, "签收"); err != nil {
			b.Fatal(err)
		}
	}
}

// A registration through the service, on the real store.
func BenchmarkRegister(b *testing.B) {
	env := apptest.New(b)
	ctx := context.Background()
	in := app.ProblemInput{Title: "例会迟到现象较多", Description: "部分同志例会迟到", CategoryID: 5,
		Severity: domain.SeverityGeneral, Source: domain.SourceInspection, UnitID: env.Units["一班"].ID}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := env.Svc.Lifecycle.Register(ctx, env.Caller("inspector"), in); err != nil {
			b.Fatal(err)
		}
	}
}
