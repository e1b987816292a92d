-- The text search's index (internal/store/terms.go): each problem's bigrams
-- and the suffixes of its ASCII words, written with the problem; searched
-- term first, so the key is (term, problem_id) and the rows are the key.
-- The problems already there get theirs from the store once, after the
-- migrations, newest first down from upto (0: done).
-- +goose Up
CREATE TABLE problem_terms (
    term       TEXT NOT NULL,
    problem_id INTEGER NOT NULL,
    PRIMARY KEY (term, problem_id)
) WITHOUT ROWID;

CREATE TABLE problem_terms_backfill (upto INTEGER NOT NULL);
INSERT INTO problem_terms_backfill (upto) SELECT COALESCE(MAX(id), 0) FROM problems;

-- +goose Down
DROP TABLE problem_terms_backfill;
DROP TABLE problem_terms;
