package web

import "github.com/rectify-team/rectify/internal/app/wire"

// ServicesOf takes each group the console calls from the wired use cases.
func ServicesOf(s *wire.Services) Services {
	return Services{
		Sessions: s.Access, Lifecycle: s.Lifecycle, Evidence: s.Evidence, Directory: s.Access, Inbox: s.Notify,
		Ledger: s.Ledger, Clock: s.Core, Account: s.Access, Import: s.Ledger, Rechecks: s.Lifecycle,
		Board: s.Board, AuditTrail: s.Trail, Admin: s.Access, OutboxAdmin: s.Notify, Notices: s.Board,
	}
}
