package app

// UnitInput creates or changes a unit.
type UnitInput struct {
	Name     string
	ParentID int64
}

// UnitPatch changes a unit; nil leaves a field as it is.
type UnitPatch struct {
	Name     *string
	ParentID *int64 // 0 makes it a root
}

// CategoryInput creates or changes a category.
type CategoryInput struct {
	Code     string
	Name     string
	ParentID int64
}

// CategoryPatch changes a category; nil leaves a field as it is.
type CategoryPatch struct {
	Code     *string
	Name     *string
	ParentID *int64
}

// UserInput creates an account.
type UserInput struct {
	Username string
	Name     string
	Password string
	Roles    []string
	UnitID   int64
	// AuthSource is how the user signs in: "" or local (with Password), ldap
	// or oidc (without one).
	AuthSource string
}

// UserPatch changes an account; nil leaves a field as it is.
type UserPatch struct {
	Name     *string
	Roles    []string // nil leaves the roles
	UnitID   *int64
	Disabled *bool
	// AuthSource switches how the user signs in. Leaving local forgets the
	// password; coming back to local needs a password reset.
	AuthSource *string
}
