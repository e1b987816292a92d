package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/rectify-team/rectify/internal/app"
)

// SyncWaitReads is the wsrep_sync_wait Rectify sets on its connections to a
// Galera node: reads (SELECT, SHOW, BEGIN) wait until the node has applied
// every write the cluster had committed when they began, so that a read sees
// what this instance and every other one committed before it — a problem read
// on one instance right after an action on another is never a stale 404, 412
// or an old state. Galera's default (0) lets a read run ahead of replication.
const SyncWaitReads = 1

// detectGalera asks the server whether it is a Galera node (wsrep_on = ON;
// MySQL has no such variable, a plain MariaDB says OFF). On a Galera node it
// makes the pool's connections wait for causality on reads, unless the DSN
// set wsrep_sync_wait itself.
func detectGalera(ctx context.Context, pool *sql.DB, conn *readCommitted, dsnSetsSyncWait bool) (bool, error) {
	c, err := pool.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = c.Close() }() // returns the connection to the pool; nothing was written
	var name, value string
	err = c.QueryRowContext(ctx, "SHOW VARIABLES LIKE 'wsrep_on'").Scan(&name, &value)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !strings.EqualFold(value, "ON") {
		return false, nil
	}
	if !dsnSetsSyncWait {
		conn.syncWait.Store(true) // connections made from now on
		if _, err := c.ExecContext(ctx, syncWaitStatement); err != nil {
			return true, fmt.Errorf("set wsrep_sync_wait: %w", err)
		}
		// Connections opened before it was known: at most the ping's.
		pool.SetMaxIdleConns(0)
	}
	return true, nil
}

var syncWaitStatement = fmt.Sprintf("SET SESSION wsrep_sync_wait = %d", SyncWaitReads)

// galeraReady reports app.ErrUnavailable unless the node is part of the
// primary component and synced: a joiner, a donor, a desynced node or one cut
// off from the others answers /readyz with 503, so that a load balancer sends
// its traffic elsewhere.
func (db *DB) galeraReady(ctx context.Context) error {
	rows, err := db.sql.QueryContext(ctx,
		"SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_connected', 'wsrep_local_state_comment')")
	if err != nil {
		return markUnavailable(fmt.Errorf("read the Galera node's state: %w", err))
	}
	defer func() { _ = rows.Close() }()
	status := map[string]string{}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return markUnavailable(fmt.Errorf("read the Galera node's state: %w", err))
		}
		status[strings.ToLower(name)] = value
	}
	if err := rows.Err(); err != nil {
		return markUnavailable(fmt.Errorf("read the Galera node's state: %w", err))
	}
	if !strings.EqualFold(status["wsrep_ready"], "ON") || !strings.EqualFold(status["wsrep_connected"], "ON") ||
		!strings.EqualFold(status["wsrep_local_state_comment"], "Synced") {
		return fmt.Errorf("%w: the Galera node is not ready (wsrep_ready=%s, wsrep_connected=%s, state %s)", app.ErrUnavailable,
			status["wsrep_ready"], status["wsrep_connected"], status["wsrep_local_state_comment"])
	}
	return nil
}

// Galera reports whether the database is a Galera node.
func (db *DB) Galera() bool { return db.galera }
