package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
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
			if err := db.Tx(ctx, func(r app.Repos) error { return r.Audit.Append(ctx, benchEntry("problem/1", at)) }); err != nil {
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
				if err := db.Tx(ctx, func(r app.Repos) error { return r.Audit.Append(ctx, benchEntry(stream, at)) }); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
