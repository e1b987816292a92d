-- The traffic light (红黄绿灯) of each problem as of one day, kept in a column
-- so that the list's warning and overdue filters walk an index in id order
-- (internal/store/lights.go): (light, status, id) for every scope, with the
-- unit and the assignee first for an owner's. problem_lights is that day and
-- the yellow days it was computed with; ready says every row is computed for
-- it (until the scheduler's first pass, the list does without the column).
-- The milestones' (due, done) finds the problems a passing day puts behind.
-- +goose Up
ALTER TABLE problems ADD COLUMN light VARCHAR(8) NOT NULL DEFAULT '';
CREATE INDEX idx_problems_light ON problems (light, status, id);
CREATE INDEX idx_problems_unit_light ON problems (unit_id, light, id);
CREATE INDEX idx_problems_assignee_light ON problems (assignee_id, light, id);
CREATE INDEX idx_milestones_due ON milestones (due, done);

CREATE TABLE problem_lights (
    id          INT NOT NULL PRIMARY KEY,
    as_of       DATE NULL,
    prev        DATE NULL,
    yellow_days INT NOT NULL DEFAULT 0,
    yellow_end  DATE NULL,
    ready       BOOLEAN NOT NULL DEFAULT FALSE
) ENGINE=InnoDB;
INSERT INTO problem_lights (id) VALUES (1);

-- +goose Down
DROP TABLE problem_lights;
DROP INDEX idx_milestones_due ON milestones;
DROP INDEX idx_problems_assignee_light ON problems;
DROP INDEX idx_problems_unit_light ON problems;
DROP INDEX idx_problems_light ON problems;
ALTER TABLE problems DROP COLUMN light;
