-- The board, the monthly evaluation, notices (通报) and the ledger import
-- (issue 4), and the indexes their reads use (see docs/performance-board.md).
-- +goose Up
CREATE TABLE contributions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    month      CHAR(7) NOT NULL,
    user_id    BIGINT NULL,
    unit_id    BIGINT NOT NULL,
    points     INT NOT NULL,
    reason     VARCHAR(1000) NOT NULL,
    awarded_by BIGINT NOT NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT fk_contributions_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_contributions_unit FOREIGN KEY (unit_id) REFERENCES units (id),
    CONSTRAINT fk_contributions_awarder FOREIGN KEY (awarded_by) REFERENCES users (id)
);
CREATE INDEX idx_contributions_month ON contributions (month, id);

CREATE TABLE evaluation_publications (
    month        CHAR(7) NOT NULL PRIMARY KEY,
    published_by BIGINT NOT NULL,
    published_at DATETIME NOT NULL,
    snapshot     TEXT NOT NULL,
    CONSTRAINT fk_evaluation_publications_user FOREIGN KEY (published_by) REFERENCES users (id)
);

CREATE TABLE notices (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         VARCHAR(16) NOT NULL,
    title        VARCHAR(200) NOT NULL,
    body         TEXT NOT NULL,
    source_type  VARCHAR(16) NOT NULL,
    source_ref   VARCHAR(200) NOT NULL,
    status       VARCHAR(16) NOT NULL,
    version      BIGINT NOT NULL,
    created_by   BIGINT NOT NULL,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL,
    published_by BIGINT NULL,
    published_at DATETIME NULL,
    CONSTRAINT fk_notices_creator FOREIGN KEY (created_by) REFERENCES users (id),
    CONSTRAINT fk_notices_publisher FOREIGN KEY (published_by) REFERENCES users (id)
);
CREATE INDEX idx_notices_status ON notices (status, id);

CREATE TABLE problem_imports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    file_sha256 CHAR(64) NOT NULL,
    filename    VARCHAR(255) NOT NULL,
    row_count   INT NOT NULL,
    created     INT NOT NULL,
    skipped     INT NOT NULL,
    imported_by BIGINT NOT NULL,
    imported_at DATETIME NOT NULL,
    CONSTRAINT fk_problem_imports_user FOREIGN KEY (imported_by) REFERENCES users (id)
);
CREATE INDEX idx_problem_imports_sha ON problem_imports (file_sha256);

-- One row per imported ledger row: its content hash makes a re-upload create nothing twice.
CREATE TABLE problem_import_rows (
    row_hash   CHAR(64) NOT NULL PRIMARY KEY,
    import_id  BIGINT NOT NULL,
    row_no     INT NOT NULL,
    problem_id BIGINT NOT NULL,
    CONSTRAINT fk_problem_import_rows_import FOREIGN KEY (import_id) REFERENCES problem_imports (id),
    CONSTRAINT fk_problem_import_rows_problem FOREIGN KEY (problem_id) REFERENCES problems (id)
);

CREATE INDEX idx_problems_updated ON problems (updated_at);
CREATE INDEX idx_problems_closed ON problems (status, closed_at);
CREATE INDEX idx_audit_action_at ON audit_entries (action, outcome, at, object_id);
CREATE INDEX idx_audit_outcome_at ON audit_entries (outcome, at);

-- +goose Down
DROP INDEX idx_audit_outcome_at;
DROP INDEX idx_audit_action_at;
DROP INDEX idx_problems_closed;
DROP INDEX idx_problems_updated;
DROP TABLE problem_import_rows;
DROP TABLE problem_imports;
DROP TABLE notices;
DROP TABLE evaluation_publications;
DROP TABLE contributions;
