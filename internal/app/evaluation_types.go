package app

import (
	"time"

	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

// Audit actions and object types of the board, evaluation, notices and ledger.
const (
	ActionContributionAward = "contribution_award"
	ActionEvaluationPublish = "evaluation_publish"
	ActionNoticeCreate      = "notice_create"
	ActionNoticeUpdate      = "notice_update"
	ActionNoticePublish     = "notice_publish"
	ActionProblemImport     = "problem_import"
	ObjectContribution      = "contribution"
	ObjectEvaluation        = "evaluation"
	ObjectNotice            = "notice"
	ObjectImport            = "import"
)

// BoardAuditActions lists the audit actions this part of Rectify writes.
func BoardAuditActions() []string {
	return []string{ActionContributionAward, ActionEvaluationPublish, ActionNoticeCreate, ActionNoticeUpdate,
		ActionNoticePublish, ActionProblemImport}
}

// BoardAuditObjectTypes lists the object types this part of Rectify names.
func BoardAuditObjectTypes() []string {
	return []string{ObjectContribution, ObjectEvaluation, ObjectNotice, ObjectImport}
}

// EvaluationLevel says whom the evaluation ranks.
type EvaluationLevel string

// Evaluation levels.
const (
	LevelPerson EvaluationLevel = "person" // each assignee
	LevelUnit   EvaluationLevel = "unit"   // each responsible unit
)

// EvaluationItem is one person's or unit's line of a month's evaluation.
type EvaluationItem struct {
	ID            int64    `json:"id"`
	Name          string   `json:"name"`
	UnitID        int64    `json:"unit_id,omitempty"`
	Closed        int      `json:"closed"`
	Workload      float64  `json:"workload"`
	FirstPass     int      `json:"first_pass"`
	Accuracy      *float64 `json:"accuracy"`
	OnTime        int      `json:"on_time"`
	Accepts       int      `json:"accepts"`
	PromptAccepts int      `json:"prompt_accepts"`
	Timeliness    *float64 `json:"timeliness"`
	Contribution  float64  `json:"contribution"`
	Score         float64  `json:"score"`
	Rank          int      `json:"rank"`
}

// Improvement is a 进步之星: a rise in score against the previous month.
type Improvement struct {
	EvaluationItem
	PreviousScore float64 `json:"previous_score"`
	Rise          float64 `json:"rise"`
}

// Evaluation is one month's evaluation at one level.
type Evaluation struct {
	Month        string           `json:"month"`
	Level        EvaluationLevel  `json:"level"`
	Items        []EvaluationItem `json:"items"`
	ModelWorkers []EvaluationItem `json:"model_workers"` // 标兵: everyone ranked first with a score above 0
	MostImproved []Improvement    `json:"most_improved"` // 进步之星: the largest rise, above 0
	Weights      stats.Weights    `json:"weights"`
	Formula      string           `json:"formula"`
	ComputedAt   time.Time        `json:"computed_at"`
	Published    bool             `json:"published"`
	PublishedAt  *time.Time       `json:"published_at,omitempty"`
	PublishedBy  int64            `json:"published_by,omitempty"`
}

// ParseLevel reads person or unit.
func ParseLevel(v string) (EvaluationLevel, error) {
	switch EvaluationLevel(v) {
	case "", LevelPerson:
		return LevelPerson, nil
	case LevelUnit:
		return LevelUnit, nil
	}
	return "", domain.Invalid("level", "must be person or unit")
}
