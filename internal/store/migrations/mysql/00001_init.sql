-- +goose Up
CREATE TABLE units (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name       VARCHAR(100) NOT NULL,
    parent_id  BIGINT NULL,
    path       VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    CONSTRAINT fk_units_parent FOREIGN KEY (parent_id) REFERENCES units (id),
    UNIQUE KEY uq_units_parent_name (parent_id, name),
    KEY idx_units_path (path)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE users (
    id            BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username      VARCHAR(64) NOT NULL,
    name          VARCHAR(64) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    roles         VARCHAR(100) NOT NULL,
    unit_id       BIGINT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    DATETIME(6) NOT NULL,
    updated_at    DATETIME(6) NOT NULL,
    CONSTRAINT fk_users_unit FOREIGN KEY (unit_id) REFERENCES units (id),
    UNIQUE KEY uq_users_username (username),
    KEY idx_users_unit (unit_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE categories (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    code       VARCHAR(32) NOT NULL,
    name       VARCHAR(100) NOT NULL,
    parent_id  BIGINT NULL,
    path       VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    CONSTRAINT fk_categories_parent FOREIGN KEY (parent_id) REFERENCES categories (id),
    UNIQUE KEY uq_categories_code (code),
    KEY idx_categories_path (path)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE problem_counters (
    year INT NOT NULL PRIMARY KEY,
    last_seq BIGINT NOT NULL
) ENGINE=InnoDB;

CREATE TABLE problems (
    id              BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    code            VARCHAR(20) NOT NULL,
    title           VARCHAR(200) NOT NULL,
    description     TEXT NOT NULL,
    category_id     BIGINT NOT NULL,
    severity        VARCHAR(16) NOT NULL,
    source          VARCHAR(16) NOT NULL,
    unit_id         BIGINT NOT NULL,
    found_at        CHAR(10) NOT NULL,
    status          VARCHAR(16) NOT NULL,
    version         BIGINT NOT NULL,
    assignee_id     BIGINT NULL,
    deadline        CHAR(10) NULL,
    measures        TEXT NOT NULL,
    percent         INT NOT NULL DEFAULT 0,
    rework_count    INT NOT NULL DEFAULT 0,
    reopen_count    INT NOT NULL DEFAULT 0,
    extension_count INT NOT NULL DEFAULT 0,
    closed_on_time  BOOLEAN NULL,
    submitted_by    BIGINT NULL,
    created_by      BIGINT NOT NULL,
    created_at      DATETIME(6) NOT NULL,
    updated_at      DATETIME(6) NOT NULL,
    assigned_at     DATETIME(6) NULL,
    submitted_at    DATETIME(6) NULL,
    closed_at       DATETIME(6) NULL,
    CONSTRAINT fk_problems_category FOREIGN KEY (category_id) REFERENCES categories (id),
    CONSTRAINT fk_problems_unit FOREIGN KEY (unit_id) REFERENCES units (id),
    CONSTRAINT fk_problems_assignee FOREIGN KEY (assignee_id) REFERENCES users (id),
    CONSTRAINT fk_problems_creator FOREIGN KEY (created_by) REFERENCES users (id),
    UNIQUE KEY uq_problems_code (code),
    KEY idx_problems_status (status, id),
    KEY idx_problems_unit (unit_id, id),
    KEY idx_problems_assignee (assignee_id, id),
    KEY idx_problems_category (category_id, id),
    KEY idx_problems_severity (severity, id),
    KEY idx_problems_source (source, id),
    KEY idx_problems_status_deadline (status, deadline),
    KEY idx_problems_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE extensions (
    id           BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    problem_id   BIGINT NOT NULL,
    requested_by BIGINT NOT NULL,
    old_deadline CHAR(10) NOT NULL,
    deadline     CHAR(10) NOT NULL,
    reason       VARCHAR(1000) NOT NULL,
    status       VARCHAR(16) NOT NULL,
    decided_by   BIGINT NULL,
    note         VARCHAR(2000) NOT NULL DEFAULT '',
    created_at   DATETIME(6) NOT NULL,
    decided_at   DATETIME(6) NULL,
    CONSTRAINT fk_extensions_problem FOREIGN KEY (problem_id) REFERENCES problems (id),
    KEY idx_extensions_problem (problem_id, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE comments (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    problem_id BIGINT NOT NULL,
    author_id  BIGINT NOT NULL,
    text       TEXT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    CONSTRAINT fk_comments_problem FOREIGN KEY (problem_id) REFERENCES problems (id),
    KEY idx_comments_problem (problem_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sessions (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    token_hash CHAR(64) CHARACTER SET ascii NOT NULL,
    user_id    BIGINT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    revoked_at DATETIME(6) NULL,
    CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (id),
    UNIQUE KEY uq_sessions_token (token_hash),
    KEY idx_sessions_user (user_id)
) ENGINE=InnoDB;

CREATE TABLE login_failures (
    id       BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username VARCHAR(64) NOT NULL,
    ip       VARCHAR(64) NOT NULL,
    at       DATETIME(6) NOT NULL,
    KEY idx_login_failures_user (username, at),
    KEY idx_login_failures_ip (ip, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE audit_entries (
    id          BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    stream      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    stream_seq  BIGINT NOT NULL,
    at          DATETIME(6) NOT NULL,
    actor_id    BIGINT NOT NULL,
    actor_name  VARCHAR(64) NOT NULL,
    actor_roles VARCHAR(100) NOT NULL,
    ip          VARCHAR(64) NOT NULL,
    request_id  VARCHAR(64) NOT NULL,
    action      VARCHAR(32) NOT NULL,
    object_type VARCHAR(16) NOT NULL,
    object_id   VARCHAR(64) NOT NULL,
    from_state  VARCHAR(16) NOT NULL,
    to_state    VARCHAR(16) NOT NULL,
    changes     MEDIUMTEXT NOT NULL,
    outcome     VARCHAR(16) NOT NULL,
    reason      VARCHAR(1000) NOT NULL,
    prev_hash   CHAR(64) CHARACTER SET ascii NOT NULL,
    hash        CHAR(64) CHARACTER SET ascii NOT NULL,
    UNIQUE KEY uq_audit_stream_seq (stream, stream_seq),
    KEY idx_audit_actor (actor_id, id),
    KEY idx_audit_object (object_type, object_id, id),
    KEY idx_audit_action (action, id),
    KEY idx_audit_outcome (outcome, id),
    KEY idx_audit_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE audit_streams (
    stream        VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    seq           BIGINT NOT NULL,
    head_hash     CHAR(64) CHARACTER SET ascii NOT NULL,
    last_entry_id BIGINT NOT NULL,
    pending       BOOLEAN NOT NULL,
    KEY idx_audit_streams_pending (pending)
) ENGINE=InnoDB;

CREATE TABLE audit_checkpoints (
    id        BIGINT NOT NULL PRIMARY KEY,
    at        DATETIME(6) NOT NULL,
    prev_root CHAR(64) CHARACTER SET ascii NOT NULL,
    root      CHAR(64) CHARACTER SET ascii NOT NULL,
    note      TEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE audit_checkpoint_heads (
    checkpoint_id BIGINT NOT NULL,
    stream        VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    stream_seq    BIGINT NOT NULL,
    entry_id      BIGINT NOT NULL,
    hash          CHAR(64) CHARACTER SET ascii NOT NULL,
    PRIMARY KEY (checkpoint_id, stream)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE audit_checkpoint_heads;
DROP TABLE audit_checkpoints;
DROP TABLE audit_streams;
DROP TABLE audit_entries;
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE comments;
DROP TABLE extensions;
DROP TABLE problems;
DROP TABLE problem_counters;
DROP TABLE categories;
DROP TABLE users;
DROP TABLE units;
