package app

// Contribution limits.
const (
	MinContributionPoints = 1
	MaxContributionPoints = 100
)

// ContributionInput awards special-contribution points (专项贡献分) to a person
// or to a unit for a month.
type ContributionInput struct {
	UserID int64
	UnitID int64
	Points int
	Reason string
	Month  string // YYYY-MM; "" for the current month
}
