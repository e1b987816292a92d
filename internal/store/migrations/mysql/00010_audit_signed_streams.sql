-- A checkpoint signs the totals of the whole trail (entries, streams, highest
-- sequence); to add up what it changes it reads how far each stream it signs
-- was signed before.
-- +goose Up
CREATE INDEX idx_audit_checkpoint_heads_stream ON audit_checkpoint_heads (stream, stream_seq);

-- +goose Down
DROP INDEX idx_audit_checkpoint_heads_stream ON audit_checkpoint_heads;
