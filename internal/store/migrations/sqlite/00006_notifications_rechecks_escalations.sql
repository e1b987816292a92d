-- Notifications (inbox and webhook outbox), the scheduler's lease, one-time
-- escalations and 回头看 re-checks (issue 3).
-- +goose Up
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT NOT NULL,
    event_id   CHAR(36) NOT NULL,
    kind       VARCHAR(40) NOT NULL,
    problem_id BIGINT NULL,
    title      VARCHAR(300) NOT NULL,
    body       TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    read_at    DATETIME NULL,
    CONSTRAINT fk_notifications_user FOREIGN KEY (user_id) REFERENCES users (id)
);
-- The inbox newest first, and the unread count.
CREATE INDEX idx_notifications_user ON notifications (user_id, id);
CREATE INDEX idx_notifications_unread ON notifications (user_id, read_at);

-- One row per event and webhook target, written in the transaction of the
-- change; the dispatcher claims due rows and records each attempt.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        CHAR(36) NOT NULL,
    target          VARCHAR(64) NOT NULL,
    kind            VARCHAR(40) NOT NULL,
    payload         TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    next_attempt_at DATETIME NOT NULL,
    attempts        INT NOT NULL DEFAULT 0,
    last_attempt_at DATETIME NULL,
    last_error      VARCHAR(1000) NULL,
    delivered_at    DATETIME NULL,
    claimed_by      VARCHAR(80) NULL,
    claimed_until   DATETIME NULL
);
CREATE UNIQUE INDEX uq_outbox_event_target ON outbox (event_id, target);
CREATE INDEX idx_outbox_due ON outbox (delivered_at, next_attempt_at);

-- Leases: which instance runs the timed work (escalations, re-check reminders).
CREATE TABLE leases (
    name       VARCHAR(64) NOT NULL PRIMARY KEY,
    holder     VARCHAR(80) NOT NULL,
    expires_at DATETIME NOT NULL
);
INSERT INTO leases (name, holder, expires_at) VALUES ('scheduler', '', '1970-01-01 00:00:00');

-- A crossing raised once: the key holds the deadline, so a moved deadline can be crossed anew.
CREATE TABLE escalations (
    problem_id BIGINT NOT NULL,
    kind       VARCHAR(32) NOT NULL,
    deadline   CHAR(10) NOT NULL,
    raised_at  DATETIME NOT NULL,
    PRIMARY KEY (problem_id, kind, deadline),
    CONSTRAINT fk_escalations_problem FOREIGN KEY (problem_id) REFERENCES problems (id)
);

CREATE TABLE rechecks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    problem_id   BIGINT NOT NULL,
    round        INT NOT NULL,
    offset_days  INT NOT NULL,
    due_on       CHAR(10) NOT NULL,
    status       VARCHAR(16) NOT NULL,
    note         TEXT NULL,
    checked_by   BIGINT NULL,
    checked_at   DATETIME NULL,
    reminded_at  DATETIME NULL,
    created_at   DATETIME NOT NULL,
    CONSTRAINT fk_rechecks_problem FOREIGN KEY (problem_id) REFERENCES problems (id),
    CONSTRAINT fk_rechecks_checker FOREIGN KEY (checked_by) REFERENCES users (id)
);
CREATE INDEX idx_rechecks_due ON rechecks (status, due_on, id);
CREATE INDEX idx_rechecks_problem ON rechecks (problem_id, status);

-- +goose Down
DROP TABLE rechecks;
DROP TABLE escalations;
DROP TABLE leases;
DROP TABLE outbox;
DROP TABLE notifications;
