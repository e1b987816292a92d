-- Notifications (inbox and webhook outbox), the scheduler's lease, one-time
-- escalations and 回头看 re-checks (issue 3).
-- +goose Up
CREATE TABLE notifications (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    event_id   CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    kind       VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    problem_id BIGINT NULL,
    title      VARCHAR(300) NOT NULL,
    body       TEXT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    read_at    DATETIME(6) NULL,
    CONSTRAINT fk_notifications_user FOREIGN KEY (user_id) REFERENCES users (id),
    -- The inbox newest first, and the unread count.
    KEY idx_notifications_user (user_id, id),
    KEY idx_notifications_unread (user_id, read_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per event and webhook target, written in the transaction of the
-- change; the dispatcher claims due rows and records each attempt.
CREATE TABLE outbox (
    id              BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    event_id        CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    target          VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    kind            VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    payload         MEDIUMTEXT NOT NULL,
    created_at      DATETIME(6) NOT NULL,
    next_attempt_at DATETIME(6) NOT NULL,
    attempts        INT NOT NULL DEFAULT 0,
    last_attempt_at DATETIME(6) NULL,
    last_error      VARCHAR(1000) NULL,
    delivered_at    DATETIME(6) NULL,
    claimed_by      VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NULL,
    claimed_until   DATETIME(6) NULL,
    UNIQUE KEY uq_outbox_event_target (event_id, target),
    KEY idx_outbox_due (delivered_at, next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Leases: which instance runs the timed work (escalations, re-check reminders).
CREATE TABLE leases (
    name       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    holder     VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    expires_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
INSERT INTO leases (name, holder, expires_at) VALUES ('scheduler', '', '1970-01-01 00:00:00');

-- A crossing raised once: the key holds the deadline, so a moved deadline can be crossed anew.
CREATE TABLE escalations (
    problem_id BIGINT NOT NULL,
    kind       VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    deadline   CHAR(10) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    raised_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (problem_id, kind, deadline),
    CONSTRAINT fk_escalations_problem FOREIGN KEY (problem_id) REFERENCES problems (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE rechecks (
    id           BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    problem_id   BIGINT NOT NULL,
    round        INT NOT NULL,
    offset_days  INT NOT NULL,
    due_on       CHAR(10) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    status       VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    note         TEXT NULL,
    checked_by   BIGINT NULL,
    checked_at   DATETIME(6) NULL,
    reminded_at  DATETIME(6) NULL,
    created_at   DATETIME(6) NOT NULL,
    CONSTRAINT fk_rechecks_problem FOREIGN KEY (problem_id) REFERENCES problems (id),
    CONSTRAINT fk_rechecks_checker FOREIGN KEY (checked_by) REFERENCES users (id),
    KEY idx_rechecks_due (status, due_on, id),
    KEY idx_rechecks_problem (problem_id, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE rechecks;
DROP TABLE escalations;
DROP TABLE leases;
DROP TABLE outbox;
DROP TABLE notifications;
