-- Indexes found by measuring a million problems (docs/performance.md).
-- A list filtered by status within a unit reads (unit, status) entries in id
-- order. Severity and source have three and five values: alone they never beat
-- reading newest first, and beside the status index they tempted MariaDB into
-- an index-merge intersection that read a quarter of the table for one page;
-- (status, severity) and (status, source) serve those filters in id order.
-- +goose Up
CREATE INDEX idx_problems_unit_status ON problems (unit_id, status, id);
CREATE INDEX idx_problems_status_severity ON problems (status, severity, id);
CREATE INDEX idx_problems_status_source ON problems (status, source, id);
DROP INDEX idx_problems_severity ON problems;
DROP INDEX idx_problems_source ON problems;

-- +goose Down
CREATE INDEX idx_problems_severity ON problems (severity, id);
CREATE INDEX idx_problems_source ON problems (source, id);
DROP INDEX idx_problems_status_source ON problems;
DROP INDEX idx_problems_status_severity ON problems;
DROP INDEX idx_problems_unit_status ON problems;
