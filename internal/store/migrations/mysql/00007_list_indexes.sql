-- The problem list's branches (internal/store/listplan.go, planList; see
-- docs/performance.md): every index here ends in id, so a branch that fixes
-- the columns before it reads one page's ids in order.
-- created_day, a generated column (nothing writes it), bounds the ids of a
-- created-date range by the smallest and largest id of each day it touches.
-- (assignee_id, status) and (assignee_id, unit_id) serve the "assigned to me"
-- side of an owner's scope with a status or unit filter. The status index
-- also holds deadline and closed_on_time, so that walking one status newest
-- first checks "overdue" and the red and green warnings on the index alone.
-- +goose Up
ALTER TABLE problems ADD COLUMN created_day DATE AS (CAST(created_at AS DATE)) VIRTUAL;
CREATE INDEX idx_problems_created_day ON problems (created_day, id);
CREATE INDEX idx_problems_assignee_status ON problems (assignee_id, status, id, deadline, closed_on_time);
CREATE INDEX idx_problems_assignee_unit ON problems (assignee_id, unit_id, id);
DROP INDEX idx_problems_status ON problems;
CREATE INDEX idx_problems_status ON problems (status, id, deadline, closed_on_time);
DROP INDEX idx_problems_unit_status ON problems;
CREATE INDEX idx_problems_unit_status ON problems (unit_id, status, id, deadline, closed_on_time, assignee_id);

-- +goose Down
DROP INDEX idx_problems_unit_status ON problems;
CREATE INDEX idx_problems_unit_status ON problems (unit_id, status, id);
DROP INDEX idx_problems_status ON problems;
CREATE INDEX idx_problems_status ON problems (status, id);
DROP INDEX idx_problems_assignee_unit ON problems;
DROP INDEX idx_problems_assignee_status ON problems;
DROP INDEX idx_problems_created_day ON problems;
ALTER TABLE problems DROP COLUMN created_day;
