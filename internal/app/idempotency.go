package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// DefaultIdempotencyTTL is how long a used Idempotency-Key and its response are kept.
const DefaultIdempotencyTTL = 24 * time.Hour

// Idempotency is a request's Idempotency-Key, as the HTTP layer hands it to a
// use case through the Caller. The use case claims the key as the first
// statement of its transaction (so that a concurrent duplicate waits for it or
// finds it) and stores the response with the effect, in the same transaction:
// a crash leaves both or neither.
type Idempotency struct {
	Key  string
	Hash string // hex SHA-256 of the request: method, path and body
	// Render turns the use case's result into the answer to store, a payload
	// only the face that rendered it reads (httpapi keeps the HTTP response).
	// It runs inside the transaction, after the effect. Nil: the use case
	// stores nothing.
	Render func(result any) ([]byte, error)

	replay   []byte // the first answer, when the key was used before for the same request
	replayed bool
	recorded bool // the answer was stored with the effect
}

// Replay returns the first answer's payload when the use case found the key
// used before for the same request, and did nothing again.
func (k *Idempotency) Replay() ([]byte, bool) {
	if k == nil || !k.replayed {
		return nil, false
	}
	return k.replay, true
}

// Recorded reports whether the use case stored its response with its effect.
func (k *Idempotency) Recorded() bool { return k != nil && k.recorded }

// ErrReplayed answers a use case whose Idempotency-Key was already used for
// the same request: nothing was done again, and the caller's Idempotency
// holds the first response (Replay). It matches domain.ErrConflict.
var ErrReplayed error = &domain.ConflictError{Reason: "this Idempotency-Key was used for the same request before; its first response stands"}

// errKeyTaken is the claim's refusal inside the transaction, resolved after
// it by KeyTaken.
var errKeyTaken = errors.New("idempotency key taken")

// ClaimKey claims the caller's Idempotency-Key; it is the first statement of
// an idempotent use case's transaction.
func (s *Core) ClaimKey(ctx context.Context, r Repos, c Caller, now time.Time) error {
	k := c.Idempotency
	if k == nil {
		return nil
	}
	ttl := s.cfg.IdempotencyTTL
	if ttl <= 0 {
		ttl = DefaultIdempotencyTTL
	}
	err := r.Idempotency.Claim(ctx, &IdempotencyRecord{UserID: c.Actor.UserID, Key: k.Key, RequestHash: s.requestMAC(k.Hash),
		CreatedAt: now, ExpiresAt: now.Add(ttl)})
	if errors.Is(err, domain.ErrConflict) {
		return errKeyTaken
	}
	return err
}

// KeepResult stores the response to result with the claimed key; it is
// the last statement of an idempotent use case's transaction.
func (s *Core) KeepResult(ctx context.Context, r Repos, c Caller, result any) error {
	k := c.Idempotency
	if k == nil || k.Render == nil {
		return nil
	}
	payload, err := k.Render(result)
	if err != nil {
		return fmt.Errorf("render the answer to keep for Idempotency-Key: %w", err)
	}
	if err := r.Idempotency.Complete(ctx, c.Actor.UserID, k.Key, payload); err != nil {
		return err
	}
	k.recorded = true
	return nil
}

// KeyTaken resolves a transaction that found its key claimed: the same request
// is a replay (ErrReplayed, the first response in the caller's Idempotency), a
// different one a conflict. Other errors pass through.
func (s *Core) KeyTaken(ctx context.Context, c Caller, err error) error {
	if !errors.Is(err, errKeyTaken) {
		return err
	}
	return s.lookUpKey(ctx, c)
}

func (s *Core) lookUpKey(ctx context.Context, c Caller) error {
	k := c.Idempotency
	rec, err := s.store.Read().Idempotency.Get(ctx, c.Actor.UserID, k.Key)
	if err != nil {
		return fmt.Errorf("look up Idempotency-Key: %w", err)
	}
	if !hmac.Equal([]byte(rec.RequestHash), []byte(s.requestMAC(k.Hash))) {
		return domain.Conflict("the Idempotency-Key %q was used for a different request in the last %s; use a new key for a new request",
			k.Key, s.idempotencyTTL())
	}
	k.replay, k.replayed = rec.Payload, true
	return ErrReplayed
}

// requestMAC is what is stored of a request's hash: keyed with a secret of
// the server, so that the stored value cannot be checked offline against
// guessed bodies (a password reset's body holds a password).
func (s *Core) requestMAC(hash string) string {
	secret, err := s.keys.Secret("idempotency-request")
	if err != nil {
		secret = nil // no signing key (some tests): a plain keyed-by-nothing MAC still compares
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(hash))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Core) idempotencyTTL() time.Duration {
	if s.cfg.IdempotencyTTL <= 0 {
		return DefaultIdempotencyTTL
	}
	return s.cfg.IdempotencyTTL
}

// IdempotentReplay looks the caller's Idempotency-Key up before any work: it
// answers (the first response, true) for a repeat of the same request, an
// error matching domain.ErrConflict for the same key with another request,
// and (_, false) for a key not used yet or expired.
func (s *Core) IdempotentReplay(ctx context.Context, c Caller) ([]byte, bool, error) {
	k := c.Idempotency
	if k == nil {
		return nil, false, nil
	}
	rec, err := s.store.Read().Idempotency.Get(ctx, c.Actor.UserID, k.Key)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	case !rec.ExpiresAt.After(s.Timestamp()):
		return nil, false, nil
	}
	if err := s.lookUpKey(ctx, c); !errors.Is(err, ErrReplayed) {
		return nil, false, err
	}
	resp, _ := k.Replay()
	return resp, true, nil
}

// RememberResponse stores a key and its response in a transaction of its own.
// It is the fallback for a route whose use case does not take part in
// idempotency: a later repeat is still replayed, but a crash between the
// effect and this call loses the key. A key claimed meanwhile is left alone.
func (s *Core) RememberResponse(ctx context.Context, c Caller, payload []byte) error {
	k := c.Idempotency
	if k == nil {
		return nil
	}
	err := s.Tx(ctx, func(ctx context.Context, r Repos, now time.Time) error {
		if err := s.ClaimKey(ctx, r, c, now); err != nil {
			return err
		}
		return r.Idempotency.Complete(ctx, c.Actor.UserID, k.Key, payload)
	})
	if errors.Is(err, errKeyTaken) {
		return nil
	}
	return err
}

// PurgeIdempotencyKeys deletes the keys older than the retention, in batches;
// it returns how many it deleted.
func (s *Core) PurgeIdempotencyKeys(ctx context.Context) (int64, error) {
	const batch = 1000
	var total int64
	now := s.Timestamp()
	for {
		var n int64
		err := s.Tx(ctx, func(ctx context.Context, r Repos, _ time.Time) error {
			var err error
			n, err = r.Idempotency.Purge(ctx, now, batch)
			return err
		})
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}
