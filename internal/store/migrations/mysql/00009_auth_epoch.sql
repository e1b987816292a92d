-- Every server caches resolved bearer tokens (internal/store/authcache.go).
-- A change to what a token resolves to -- a session revoked, a user updated
-- (roles, unit, disabled, password), a unit moved -- moves this one counter
-- in the change's own transaction; every server reads it at most a
-- quarter of a second apart and drops its cache when it moved.
-- +goose Up
CREATE TABLE auth_epoch (
    id    INTEGER NOT NULL PRIMARY KEY,
    epoch BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
INSERT INTO auth_epoch (id, epoch) VALUES (1, 0);

-- +goose Down
DROP TABLE auth_epoch;
