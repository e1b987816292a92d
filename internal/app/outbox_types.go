package app

// DispatchReport is what one dispatch did.
type DispatchReport struct {
	Claimed   int
	Delivered int
	Failed    int
}

// ActionOutboxRetry is the audit action of an admin's retry of a message.
const ActionOutboxRetry = "outbox_retry"
