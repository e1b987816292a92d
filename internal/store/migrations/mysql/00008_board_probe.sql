-- The board's refresh probes the problems updated lately for their versions
-- and reads again only those whose version moved (internal/app/boardindex.go):
-- an index of (updated_at, version) answers the probe alone.
-- +goose Up
CREATE INDEX idx_problems_updated_version ON problems (updated_at, version);
DROP INDEX idx_problems_updated ON problems;

-- +goose Down
CREATE INDEX idx_problems_updated ON problems (updated_at);
DROP INDEX idx_problems_updated_version ON problems;
