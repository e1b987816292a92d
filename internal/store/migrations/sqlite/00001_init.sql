-- +goose Up
CREATE TABLE units (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       VARCHAR(100) NOT NULL,
    parent_id  BIGINT NULL,
    path       VARCHAR(255) NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    CONSTRAINT fk_units_parent FOREIGN KEY (parent_id) REFERENCES units (id)
);
CREATE UNIQUE INDEX uq_units_parent_name ON units (parent_id, name);
CREATE INDEX idx_units_path ON units (path);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      VARCHAR(64) NOT NULL,
    name          VARCHAR(64) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    roles         VARCHAR(100) NOT NULL,
    unit_id       BIGINT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    CONSTRAINT fk_users_unit FOREIGN KEY (unit_id) REFERENCES units (id)
);
CREATE UNIQUE INDEX uq_users_username ON users (username);
CREATE INDEX idx_users_unit ON users (unit_id);

CREATE TABLE categories (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    code       VARCHAR(32) NOT NULL,
    name       VARCHAR(100) NOT NULL,
    parent_id  BIGINT NULL,
    path       VARCHAR(255) NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    CONSTRAINT fk_categories_parent FOREIGN KEY (parent_id) REFERENCES categories (id)
);
CREATE UNIQUE INDEX uq_categories_code ON categories (code);
CREATE INDEX idx_categories_path ON categories (path);

CREATE TABLE problem_counters (
    year INT NOT NULL PRIMARY KEY,
    last_seq BIGINT NOT NULL
);

CREATE TABLE problems (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
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
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    assigned_at     DATETIME NULL,
    submitted_at    DATETIME NULL,
    closed_at       DATETIME NULL,
    CONSTRAINT fk_problems_category FOREIGN KEY (category_id) REFERENCES categories (id),
    CONSTRAINT fk_problems_unit FOREIGN KEY (unit_id) REFERENCES units (id),
    CONSTRAINT fk_problems_assignee FOREIGN KEY (assignee_id) REFERENCES users (id),
    CONSTRAINT fk_problems_creator FOREIGN KEY (created_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX uq_problems_code ON problems (code);
CREATE INDEX idx_problems_status ON problems (status, id);
CREATE INDEX idx_problems_unit ON problems (unit_id, id);
CREATE INDEX idx_problems_assignee ON problems (assignee_id, id);
CREATE INDEX idx_problems_category ON problems (category_id, id);
CREATE INDEX idx_problems_severity ON problems (severity, id);
CREATE INDEX idx_problems_source ON problems (source, id);
CREATE INDEX idx_problems_status_deadline ON problems (status, deadline);
CREATE INDEX idx_problems_created ON problems (created_at);

CREATE TABLE extensions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    problem_id   BIGINT NOT NULL,
    requested_by BIGINT NOT NULL,
    old_deadline CHAR(10) NOT NULL,
    deadline     CHAR(10) NOT NULL,
    reason       VARCHAR(1000) NOT NULL,
    status       VARCHAR(16) NOT NULL,
    decided_by   BIGINT NULL,
    note         VARCHAR(2000) NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    decided_at   DATETIME NULL,
    CONSTRAINT fk_extensions_problem FOREIGN KEY (problem_id) REFERENCES problems (id)
);
CREATE INDEX idx_extensions_problem ON extensions (problem_id, status);

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    problem_id BIGINT NOT NULL,
    author_id  BIGINT NOT NULL,
    text       TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT fk_comments_problem FOREIGN KEY (problem_id) REFERENCES problems (id)
);
CREATE INDEX idx_comments_problem ON comments (problem_id, id);

CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash CHAR(64) NOT NULL,
    user_id    BIGINT NOT NULL,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    revoked_at DATETIME NULL,
    CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE UNIQUE INDEX uq_sessions_token ON sessions (token_hash);
CREATE INDEX idx_sessions_user ON sessions (user_id);

CREATE TABLE login_failures (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    username VARCHAR(64) NOT NULL,
    ip       VARCHAR(64) NOT NULL,
    at       DATETIME NOT NULL
);
CREATE INDEX idx_login_failures_user ON login_failures (username, at);
CREATE INDEX idx_login_failures_ip ON login_failures (ip, at);

CREATE TABLE audit_entries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    stream      VARCHAR(64) NOT NULL,
    stream_seq  BIGINT NOT NULL,
    at          DATETIME NOT NULL,
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
    changes     TEXT NOT NULL,
    outcome     VARCHAR(16) NOT NULL,
    reason      VARCHAR(1000) NOT NULL,
    prev_hash   CHAR(64) NOT NULL,
    hash        CHAR(64) NOT NULL
);
CREATE UNIQUE INDEX uq_audit_stream_seq ON audit_entries (stream, stream_seq);
CREATE INDEX idx_audit_actor ON audit_entries (actor_id, id);
CREATE INDEX idx_audit_object ON audit_entries (object_type, object_id, id);
CREATE INDEX idx_audit_action ON audit_entries (action, id);
CREATE INDEX idx_audit_outcome ON audit_entries (outcome, id);
CREATE INDEX idx_audit_at ON audit_entries (at);

CREATE TABLE audit_streams (
    stream        VARCHAR(64) NOT NULL PRIMARY KEY,
    seq           BIGINT NOT NULL,
    head_hash     CHAR(64) NOT NULL,
    last_entry_id BIGINT NOT NULL,
    pending       BOOLEAN NOT NULL
);
CREATE INDEX idx_audit_streams_pending ON audit_streams (pending);

CREATE TABLE audit_checkpoints (
    id        BIGINT NOT NULL PRIMARY KEY,
    at        DATETIME NOT NULL,
    prev_root CHAR(64) NOT NULL,
    root      CHAR(64) NOT NULL,
    note      TEXT NOT NULL
);

CREATE TABLE audit_checkpoint_heads (
    checkpoint_id BIGINT NOT NULL,
    stream        VARCHAR(64) NOT NULL,
    stream_seq    BIGINT NOT NULL,
    entry_id      BIGINT NOT NULL,
    hash          CHAR(64) NOT NULL,
    PRIMARY KEY (checkpoint_id, stream)
);

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
