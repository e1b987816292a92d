-- Evidence (attachments), milestones (挂图作战) and idempotent retries.
-- +goose Up
CREATE TABLE attachments (
    id           BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    sha256       CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    size         BIGINT NOT NULL,
    content_type VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    name         VARCHAR(255) NOT NULL,
    uploaded_by  BIGINT NOT NULL,
    created_at   DATETIME(6) NOT NULL,
    CONSTRAINT fk_attachments_uploader FOREIGN KEY (uploaded_by) REFERENCES users (id),
    KEY idx_attachments_uploader (uploaded_by, id),
    KEY idx_attachments_sha256 (sha256)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE problem_attachments (
    problem_id    BIGINT NOT NULL,
    attachment_id BIGINT NOT NULL,
    action        VARCHAR(32) NOT NULL,
    attached_by   BIGINT NOT NULL,
    attached_at   DATETIME(6) NOT NULL,
    PRIMARY KEY (problem_id, attachment_id),
    CONSTRAINT fk_problem_attachments_problem FOREIGN KEY (problem_id) REFERENCES problems (id),
    CONSTRAINT fk_problem_attachments_attachment FOREIGN KEY (attachment_id) REFERENCES attachments (id),
    KEY idx_problem_attachments_attachment (attachment_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE milestones (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    problem_id BIGINT NOT NULL,
    due        CHAR(10) NOT NULL,
    title      VARCHAR(200) NOT NULL,
    done       BOOLEAN NOT NULL DEFAULT FALSE,
    done_at    DATETIME(6) NULL,
    done_by    BIGINT NULL,
    created_at DATETIME(6) NOT NULL,
    CONSTRAINT fk_milestones_problem FOREIGN KEY (problem_id) REFERENCES problems (id),
    -- The warning filter's EXISTS: open milestones of a problem due before today.
    KEY idx_milestones_problem (problem_id, done, due)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE idempotency_keys (
    id           BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id      BIGINT NOT NULL,
    idem_key     VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    request_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    status       INT NOT NULL,
    headers      TEXT NOT NULL,
    body         MEDIUMBLOB NOT NULL,
    created_at   DATETIME(6) NOT NULL,
    expires_at   DATETIME(6) NOT NULL,
    CONSTRAINT fk_idempotency_keys_user FOREIGN KEY (user_id) REFERENCES users (id),
    UNIQUE KEY uq_idempotency_keys_user_key (user_id, idem_key),
    KEY idx_idempotency_keys_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE milestones;
DROP TABLE problem_attachments;
DROP TABLE attachments;
