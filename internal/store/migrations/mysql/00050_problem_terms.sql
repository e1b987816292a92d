-- The text search's index (internal/store/terms.go): each problem's bigrams
-- and the suffixes of its ASCII words, written with the problem; searched
-- term first, so the key is (term, problem_id) and the rows are the key.
-- Terms compare byte for byte (they are lower-cased when written and read).
-- The problems already there get theirs from the store once, after the
-- migrations, newest first down from upto (0: done).
-- +goose Up
CREATE TABLE problem_terms (
    term       VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    problem_id BIGINT NOT NULL,
    PRIMARY KEY (term, problem_id)
) ENGINE=InnoDB;

CREATE TABLE problem_terms_backfill (upto BIGINT NOT NULL) ENGINE=InnoDB;
INSERT INTO problem_terms_backfill (upto) SELECT COALESCE(MAX(id), 0) FROM problems;

-- +goose Down
DROP TABLE problem_terms_backfill;
DROP TABLE problem_terms;
