-- A short deadline range is walked a day a branch (listplan.go): on
-- (deadline, id) for any status instead of a branch a status and day on
-- (status, deadline, id), and on the assignee's or the unit's for each side
-- of an owner's scope, which otherwise walk the owner's problems of each
-- status newest first down to the range (all of them for a status that has
-- no deadline in it).
-- +goose Up
CREATE INDEX idx_problems_deadline ON problems (deadline, id);
CREATE INDEX idx_problems_assignee_deadline ON problems (assignee_id, deadline, id);
CREATE INDEX idx_problems_unit_deadline ON problems (unit_id, deadline, id);

-- +goose Down
DROP INDEX idx_problems_unit_deadline;
DROP INDEX idx_problems_assignee_deadline;
DROP INDEX idx_problems_deadline;
