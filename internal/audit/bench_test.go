package audit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
)

// Hashing one entry: the CPU part of every append.
func BenchmarkChain(b *testing.B) {
	at := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	head := strings.Repeat("ab", 32)
	b.ReportAllocs()
	for b.Loop() {
		e := audit.Entry{Stream: "problem/123456", At: at, ActorID: 7, ActorName: "verifier", ActorRoles: []string{"verifier"},
			IP: "127.0.0.1", RequestID: "0123456789abcdef", Action: "assign", ObjectType: "problem", ObjectID: "123456",
			FromState: "registered", ToState: "assigned", Changes: `{"assignee_id":12,"deadline":"2026-04-01","measures":"整改措施"}`,
			Outcome: audit.OutcomeOK}
		e.Chain(3, head)
	}
}
