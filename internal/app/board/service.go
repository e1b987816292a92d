// Package board answers how the rectification goes: the board's overview
// and trend over an in-memory index of every problem, the monthly
// evaluation and its publication, contributions, discipline reports and
// notices.
package board

import (
	"github.com/rectify-team/rectify/internal/app"
)

// Service is the board's use cases.
type Service struct {
	core  *app.Core
	store app.Store
	cfg   app.Config
	board boardIndex // the board's in-memory view of every problem (boardindex.go)
}

// New builds the board's use cases on core.
func New(core *app.Core) *Service {
	s := &Service{core: core, store: core.Store(), cfg: core.Config()}
	s.board.margin, s.board.clock = refreshMargin(s.cfg.TxWithin), core.Clock()
	return s
}
