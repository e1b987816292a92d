package store

import "github.com/rectify-team/rectify/internal/app"

// PretendHead makes the transaction of r take stream's head to be seq and
// hash (seq 0: no head), as if it had read them before another transaction
// appended: for the tests of Append's way back to the head read under lock.
func PretendHead(r app.Repos, stream string, seq int64, hash string) {
	tx := r.Audit.(auditRepo).tx
	if tx.heads == nil {
		tx.heads = map[string]streamHead{}
	}
	tx.heads[stream] = streamHead{seq: seq, hash: hash, exists: seq > 0}
}
