-- The traffic light of each problem as of one day, as on MariaDB (see the
-- MariaDB migration and internal/store/lights.go).
-- +goose Up
ALTER TABLE problems ADD COLUMN light TEXT NOT NULL DEFAULT '';
CREATE INDEX idx_problems_light ON problems (light, status, id);
CREATE INDEX idx_problems_unit_light ON problems (unit_id, light, id);
CREATE INDEX idx_problems_assignee_light ON problems (assignee_id, light, id);
CREATE INDEX idx_milestones_due ON milestones (due, done);

CREATE TABLE problem_lights (
    id          INTEGER NOT NULL PRIMARY KEY,
    as_of       TEXT NULL,
    prev        TEXT NULL,
    yellow_days INTEGER NOT NULL DEFAULT 0,
    yellow_end  TEXT NULL,
    ready       BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO problem_lights (id) VALUES (1);

-- +goose Down
DROP TABLE problem_lights;
DROP INDEX idx_milestones_due;
DROP INDEX idx_problems_assignee_light;
DROP INDEX idx_problems_unit_light;
DROP INDEX idx_problems_light;
ALTER TABLE problems DROP COLUMN light;
