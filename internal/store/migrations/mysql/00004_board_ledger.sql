-- The board, the monthly evaluation, notices (通报) and the ledger import
-- (issue 4), and the indexes their reads use (see docs/performance-board.md).
-- +goose Up
CREATE TABLE contributions (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    month      CHAR(7) CHARACTER SET ascii NOT NULL,
    user_id    BIGINT NULL,
    unit_id    BIGINT NOT NULL,
    points     INT NOT NULL,
    reason     VARCHAR(1000) NOT NULL,
    awarded_by BIGINT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    CONSTRAINT fk_contributions_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_contributions_unit FOREIGN KEY (unit_id) REFERENCES units (id),
    CONSTRAINT fk_contributions_awarder FOREIGN KEY (awarded_by) REFERENCES users (id),
    KEY idx_contributions_month (month, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE evaluation_publications (
    month        CHAR(7) CHARACTER SET ascii NOT NULL PRIMARY KEY,
    published_by BIGINT NOT NULL,
    published_at DATETIME(6) NOT NULL,
    snapshot     MEDIUMTEXT NOT NULL,
    CONSTRAINT fk_evaluation_publications_user FOREIGN KEY (published_by) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE notices (
    id           BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind         VARCHAR(16) NOT NULL,
    title        VARCHAR(200) NOT NULL,
    body         TEXT NOT NULL,
    source_type  VARCHAR(16) NOT NULL,
    source_ref   VARCHAR(200) NOT NULL,
    status       VARCHAR(16) NOT NULL,
    version      BIGINT NOT NULL,
    created_by   BIGINT NOT NULL,
    created_at   DATETIME(6) NOT NULL,
    updated_at   DATETIME(6) NOT NULL,
    published_by BIGINT NULL,
    published_at DATETIME(6) NULL,
    CONSTRAINT fk_notices_creator FOREIGN KEY (created_by) REFERENCES users (id),
    CONSTRAINT fk_notices_publisher FOREIGN KEY (published_by) REFERENCES users (id),
    KEY idx_notices_status (status, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE problem_imports (
    id          BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    file_sha256 CHAR(64) CHARACTER SET ascii NOT NULL,
    filename    VARCHAR(255) NOT NULL,
    row_count   INT NOT NULL,
    created     INT NOT NULL,
    skipped     INT NOT NULL,
    imported_by BIGINT NOT NULL,
    imported_at DATETIME(6) NOT NULL,
    CONSTRAINT fk_problem_imports_user FOREIGN KEY (imported_by) REFERENCES users (id),
    KEY idx_problem_imports_sha (file_sha256)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per imported ledger row: its content hash makes a re-upload create nothing twice.
CREATE TABLE problem_import_rows (
    row_hash   CHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
    import_id  BIGINT NOT NULL,
    row_no     INT NOT NULL,
    problem_id BIGINT NOT NULL,
    CONSTRAINT fk_problem_import_rows_import FOREIGN KEY (import_id) REFERENCES problem_imports (id),
    CONSTRAINT fk_problem_import_rows_problem FOREIGN KEY (problem_id) REFERENCES problems (id)
) ENGINE=InnoDB;

-- The board's in-memory index reads the problems changed since its last read.
CREATE INDEX idx_problems_updated ON problems (updated_at);
-- The discipline report of problems closed late in a period.
CREATE INDEX idx_problems_closed ON problems (status, closed_at);
-- The evaluation's acceptances and the discipline reports: one action in a
-- period; covers the acceptances' columns (the primary key is in every index).
CREATE INDEX idx_audit_action_at ON audit_entries (action, outcome, at, object_id);
-- Refused attempts in a period.
CREATE INDEX idx_audit_outcome_at ON audit_entries (outcome, at);

-- +goose Down
DROP INDEX idx_audit_outcome_at ON audit_entries;
DROP INDEX idx_audit_action_at ON audit_entries;
DROP INDEX idx_problems_closed ON problems;
DROP INDEX idx_problems_updated ON problems;
DROP TABLE problem_import_rows;
DROP TABLE problem_imports;
DROP TABLE notices;
DROP TABLE evaluation_publications;
DROP TABLE contributions;
