package app

// Event kinds.
const (
	EventAssigned            = "problem.assigned"             // the assignee
	EventUrged               = "problem.urged"                // the assignee
	EventSentBack            = "problem.sent_back"            // the assignee
	EventSubmitted           = "problem.submitted"            // the working group
	EventClosed              = "problem.closed"               // the assignee and who registered it
	EventDismissed           = "problem.dismissed"            // who registered it
	EventReopened            = "problem.reopened"             // the assignee and the unit's leaders
	EventExtensionRequested  = "extension.requested"          // the working group; leaders too when a leader decides
	EventExtensionDecided    = "extension.decided"            // the requester
	EventDeadlineApproaching = "problem.deadline_approaching" // the assignee
	EventOverdue             = "problem.overdue"              // the assignee and the working group
	EventEscalated           = "problem.escalated"            // the assignee, the unit's leaders and the working group
	EventRecheckDue          = "recheck.due"                  // the working group
	EventRelapsed            = "problem.relapsed"             // the assignee, the unit's leaders and the working group
)

// EventKinds lists every kind, for webhook filters and the API's documents.
func EventKinds() []string {
	return []string{EventAssigned, EventUrged, EventSentBack, EventSubmitted, EventClosed, EventDismissed,
		EventReopened, EventExtensionRequested, EventExtensionDecided, EventDeadlineApproaching, EventOverdue,
		EventEscalated, EventRecheckDue, EventRelapsed}
}

// Inbox is a page of the caller's notifications and their unread count.
type Inbox struct {
	Items  []*Notification
	Unread int64
}

// MarkReadResult is what marking notifications read answers.
type MarkReadResult struct {
	Marked int64
	Unread int64
}
