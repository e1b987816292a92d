-- Indexes found by measuring a million problems (docs/performance.md); the
-- same as MariaDB's: (unit, status) for a status within a unit, and status
-- first for severity and source, whose own indexes only misled the planner.
-- +goose Up
CREATE INDEX idx_problems_unit_status ON problems (unit_id, status, id);
CREATE INDEX idx_problems_status_severity ON problems (status, severity, id);
CREATE INDEX idx_problems_status_source ON problems (status, source, id);
DROP INDEX idx_problems_severity;
DROP INDEX idx_problems_source;

-- +goose Down
CREATE INDEX idx_problems_severity ON problems (severity, id);
CREATE INDEX idx_problems_source ON problems (source, id);
DROP INDEX idx_problems_status_source;
DROP INDEX idx_problems_status_severity;
DROP INDEX idx_problems_unit_status;
