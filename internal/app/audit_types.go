package app

import (
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// Audit actions besides the lifecycle's, and the object types entries name.
const (
	ActionLogin             = "login"
	ActionLogout            = "logout"
	ActionBootstrap         = "bootstrap"
	ActionUnitCreate        = "unit_create"
	ActionUnitUpdate        = "unit_update"
	ActionUserCreate        = "user_create"
	ActionUserUpdate        = "user_update"
	ActionUserResetPassword = "user_reset_password"
	ActionPasswordChange    = "password_change" // a user's change of their own password
	ActionCategoryCreate    = "category_create"
	ActionCategoryUpdate    = "category_update"
)

// AuditActions lists every action an entry may Record.
func AuditActions() []string {
	var out []string
	for _, a := range domain.Actions() {
		out = append(out, string(a))
	}
	out = append(out, ActionLogin, ActionLogout, ActionBootstrap, ActionUnitCreate, ActionUnitUpdate,
		ActionUserCreate, ActionUserUpdate, ActionUserResetPassword, ActionPasswordChange, ActionCategoryCreate, ActionCategoryUpdate,
		ActionAttachmentUpload, ActionRecheck, EscalationApproaching, EscalationOverdue, EscalationEscalated,
		ActionOutboxRetry)
	out = append(out, DirectoryAuditActions()...) // directory_types.go
	return append(out, BoardAuditActions()...)    // evaluation_types.go
}

// AuditObjectTypes lists the kinds of object entries name.
func AuditObjectTypes() []string {
	return append([]string{"problem", "user", "unit", "category", ObjectAttachment, "outbox"}, BoardAuditObjectTypes()...)
}

// AuditOutcomes lists the outcomes entries Record.
func AuditOutcomes() []string { return []string{audit.OutcomeOK, audit.OutcomeRefused} }
