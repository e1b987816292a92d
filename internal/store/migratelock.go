package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"
)

// The migrations' lock: one row of schema_lock, taken with a conditional
// UPDATE and given up after. It works alike on SQLite, MySQL, MariaDB and a
// Galera cluster, where GET_LOCK is local to one node and table locks are not
// replicated. Instances started together wait for each other instead of
// racing to create goose's version table and the first tables.
const (
	migrateLockTTL  = time.Minute // a holder that died frees it after this
	migrateLockPoll = 250 * time.Millisecond
	migrateLockWait = 10 * time.Minute // longest wait for another instance's migrations
)

var errLockHeld = errors.New("the migration lock is held by another instance")

// withMigrateLock runs fn holding the migration lock, renewing it meanwhile.
func (db *DB) withMigrateLock(ctx context.Context, fn func(context.Context) error) error {
	owner := lockOwner()
	if err := db.ensureLockRow(ctx); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	wait, cancel := context.WithTimeout(ctx, migrateLockWait)
	defer cancel()
	logged := false
	for {
		err := db.tryLock(wait, owner)
		if err == nil {
			break
		}
		if !errors.Is(err, errLockHeld) && !retryable(err) {
			return fmt.Errorf("migration lock: %w", err)
		}
		if !logged {
			db.log.Info("waiting for another instance's migrations", "err", err)
			logged = true
		}
		select {
		case <-wait.Done():
			return fmt.Errorf("migration lock: %w (waited %s)", err, migrateLockWait)
		case <-time.After(migrateLockPoll):
		}
	}
	held, stop := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() { // a long migration (an index on a large table) keeps the lock
		defer close(renewed)
		t := time.NewTicker(migrateLockTTL / 4)
		defer t.Stop()
		for {
			select {
			case <-held.Done():
				return
			case <-t.C:
				if err := db.renewLock(held, owner); err != nil && held.Err() == nil {
					db.log.Warn("migration lock not renewed", "err", err)
				}
			}
		}
	}()
	err := fn(ctx)
	stop()
	<-renewed
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer rcancel()
	if uerr := db.unlock(rctx, owner); uerr != nil {
		db.log.Warn("migration lock not given up; it lapses by itself", "err", uerr, "after", migrateLockTTL)
	}
	return err
}

// ensureLockRow creates the lock's table and row when missing. Both
// statements are no-ops once done, so instances may run them at once.
func (db *DB) ensureLockRow(ctx context.Context) error {
	create := "CREATE TABLE IF NOT EXISTS schema_lock (id INTEGER NOT NULL PRIMARY KEY, owner VARCHAR(100) NOT NULL, expires_at BIGINT NOT NULL)" + db.dia().lockTableSuffix()
	insert := db.dia().insertIgnore("INSERT INTO schema_lock (id, owner, expires_at) VALUES (1, '', 0)")
	for _, q := range []string{create, insert} {
		var err error
		for range 8 { // two Galera nodes inserting the row at once: one fails certification
			if _, err = db.sql.ExecContext(ctx, q); err == nil || !retryable(err) {
				break
			}
			time.Sleep(migrateLockPoll)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) tryLock(ctx context.Context, owner string) error {
	now := time.Now().UnixMilli()
	res, err := db.sql.ExecContext(ctx, "UPDATE schema_lock SET owner = ?, expires_at = ? WHERE id = 1 AND (owner = '' OR expires_at < ?)",
		owner, now+migrateLockTTL.Milliseconds(), now)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		var holder string
		_ = db.sql.QueryRowContext(ctx, "SELECT owner FROM schema_lock WHERE id = 1").Scan(&holder)
		return fmt.Errorf("%w (%s)", errLockHeld, holder)
	}
	return nil
}

func (db *DB) renewLock(ctx context.Context, owner string) error {
	_, err := db.sql.ExecContext(ctx, "UPDATE schema_lock SET expires_at = ? WHERE id = 1 AND owner = ?",
		time.Now().Add(migrateLockTTL).UnixMilli(), owner)
	return err
}

func (db *DB) unlock(ctx context.Context, owner string) error {
	_, err := db.sql.ExecContext(ctx, "UPDATE schema_lock SET owner = '', expires_at = 0 WHERE id = 1 AND owner = ?", owner)
	return err
}

// lockOwner names this process uniquely: host, pid and a random suffix.
func lockOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	if len(name) > 100 {
		name = name[len(name)-100:]
	}
	return name
}
