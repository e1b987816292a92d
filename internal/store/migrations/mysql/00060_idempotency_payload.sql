-- An Idempotency-Key's first answer is kept as the face that rendered it
-- wrote it, an opaque payload (httpapi writes "STATUS\nHEADERS-JSON\nBODY"),
-- instead of in columns the store had to understand. Answers kept already are
-- carried over in that form; a key claimed and not completed has none (NULL).
-- +goose Up
ALTER TABLE idempotency_keys ADD COLUMN payload MEDIUMBLOB NULL;
UPDATE idempotency_keys SET payload = CONCAT(CAST(status AS CHAR), CHAR(10), headers, CHAR(10), body) WHERE status <> 0;
ALTER TABLE idempotency_keys DROP COLUMN status, DROP COLUMN headers, DROP COLUMN body;

-- +goose Down
-- The kept answers are not split back: their keys stay claimed, without an answer.
ALTER TABLE idempotency_keys ADD COLUMN status INT NOT NULL DEFAULT 0, ADD COLUMN headers TEXT NULL,
    ADD COLUMN body MEDIUMBLOB NULL;
ALTER TABLE idempotency_keys DROP COLUMN payload;
