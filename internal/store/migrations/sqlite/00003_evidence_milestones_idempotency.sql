-- Evidence (attachments), milestones (挂图作战) and idempotent retries.
-- +goose Up
CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256       CHAR(64) NOT NULL,
    size         BIGINT NOT NULL,
    content_type VARCHAR(100) NOT NULL,
    name         VARCHAR(255) NOT NULL,
    uploaded_by  BIGINT NOT NULL,
    created_at   DATETIME NOT NULL,
    CONSTRAINT fk_attachments_uploader FOREIGN KEY (uploaded_by) REFERENCES users (id)
);
CREATE INDEX idx_attachments_uploader ON attachments (uploaded_by, id);
CREATE INDEX idx_attachments_sha256 ON attachments (sha256);

CREATE TABLE problem_attachments (
    problem_id    BIGINT NOT NULL,
    attachment_id BIGINT NOT NULL,
    action        VARCHAR(32) NOT NULL,
    attached_by   BIGINT NOT NULL,
    attached_at   DATETIME NOT NULL,
    PRIMARY KEY (problem_id, attachment_id),
    CONSTRAINT fk_problem_attachments_problem FOREIGN KEY (problem_id) REFERENCES problems (id),
    CONSTRAINT fk_problem_attachments_attachment FOREIGN KEY (attachment_id) REFERENCES attachments (id)
);
CREATE INDEX idx_problem_attachments_attachment ON problem_attachments (attachment_id);

CREATE TABLE milestones (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    problem_id BIGINT NOT NULL,
    due        CHAR(10) NOT NULL,
    title      VARCHAR(200) NOT NULL,
    done       BOOLEAN NOT NULL DEFAULT FALSE,
    done_at    DATETIME NULL,
    done_by    BIGINT NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT fk_milestones_problem FOREIGN KEY (problem_id) REFERENCES problems (id)
);
-- The warning filter's EXISTS: open milestones of a problem due before today.
CREATE INDEX idx_milestones_problem ON milestones (problem_id, done, due);

CREATE TABLE idempotency_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      BIGINT NOT NULL,
    idem_key     VARCHAR(200) NOT NULL,
    request_hash CHAR(64) NOT NULL,
    status       INT NOT NULL,
    headers      TEXT NOT NULL,
    body         BLOB NOT NULL,
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    CONSTRAINT fk_idempotency_keys_user FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE UNIQUE INDEX uq_idempotency_keys_user_key ON idempotency_keys (user_id, idem_key);
CREATE INDEX idx_idempotency_keys_expires ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE milestones;
DROP TABLE problem_attachments;
DROP TABLE attachments;
