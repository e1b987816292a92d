// Package demo loads demo data drawn from the plan in shared/seed.
package demo

import (
	"context"
	"io"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
)

// Load fills an empty database with demo data. TODO(helper): implement.
func Load(ctx context.Context, store app.Store, keys *audit.Keys, cfg app.Config, out io.Writer) error {
	return nil
}
