-- The problem list's branches, as on MariaDB (see the MariaDB migration).
-- SQLite stores times as text and compares them as text, so created_day is
-- the text's first ten characters: the date of the UTC times Rectify writes,
-- and for any text, inside the days of a range the text compares inside.
-- +goose Up
ALTER TABLE problems ADD COLUMN created_day TEXT GENERATED ALWAYS AS (substr(created_at, 1, 10)) VIRTUAL;
CREATE INDEX idx_problems_created_day ON problems (created_day, id);
CREATE INDEX idx_problems_assignee_status ON problems (assignee_id, status, id, deadline, closed_on_time);
CREATE INDEX idx_problems_assignee_unit ON problems (assignee_id, unit_id, id);
DROP INDEX idx_problems_status;
CREATE INDEX idx_problems_status ON problems (status, id, deadline, closed_on_time);
DROP INDEX idx_problems_unit_status;
CREATE INDEX idx_problems_unit_status ON problems (unit_id, status, id, deadline, closed_on_time, assignee_id);

-- +goose Down
DROP INDEX idx_problems_unit_status;
CREATE INDEX idx_problems_unit_status ON problems (unit_id, status, id);
DROP INDEX idx_problems_status;
CREATE INDEX idx_problems_status ON problems (status, id);
DROP INDEX idx_problems_assignee_unit;
DROP INDEX idx_problems_assignee_status;
DROP INDEX idx_problems_created_day;
ALTER TABLE problems DROP COLUMN created_day;
