-- An Idempotency-Key's first answer is kept as the face that rendered it
-- wrote it, an opaque payload (httpapi writes "STATUS\nHEADERS-JSON\nBODY"),
-- instead of in columns the store had to understand. Answers kept already are
-- carried over in that form; a key claimed and not completed has none (NULL).
-- +goose Up
ALTER TABLE idempotency_keys ADD COLUMN payload BLOB;
UPDATE idempotency_keys SET payload = CAST(CAST(status AS TEXT) || char(10) || headers || char(10) || CAST(body AS TEXT) AS BLOB)
WHERE status <> 0;
ALTER TABLE idempotency_keys DROP COLUMN status;
ALTER TABLE idempotency_keys DROP COLUMN headers;
ALTER TABLE idempotency_keys DROP COLUMN body;

-- +goose Down
-- The kept answers are not split back: their keys stay claimed, without an answer.
ALTER TABLE idempotency_keys ADD COLUMN status INT NOT NULL DEFAULT 0;
ALTER TABLE idempotency_keys ADD COLUMN headers TEXT NOT NULL DEFAULT '{}';
ALTER TABLE idempotency_keys ADD COLUMN body BLOB NOT NULL DEFAULT x'';
ALTER TABLE idempotency_keys DROP COLUMN payload;
