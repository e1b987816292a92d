-- Users sign in locally, through the LDAP/AD directory or through OpenID
-- Connect, as an admin decides per user (internal/app/directory.go).
-- An OpenID Connect sign-in under way keeps its state, nonce and PKCE verifier
-- here, on the server, so that any instance can finish it and a state is used
-- once: the callback deletes the row it consumes.
-- +goose Up
ALTER TABLE users ADD COLUMN auth_source VARCHAR(16) CHARACTER SET ascii NOT NULL DEFAULT 'local';
CREATE INDEX idx_users_auth_source ON users (auth_source);

CREATE TABLE oidc_sign_ins (
    state_hash   CHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
    binding_hash CHAR(64) CHARACTER SET ascii NOT NULL,
    nonce        VARCHAR(64) CHARACTER SET ascii NOT NULL,
    verifier     VARCHAR(128) CHARACTER SET ascii NOT NULL,
    redirect_url VARCHAR(512) NOT NULL,
    created_at   DATETIME(6) NOT NULL,
    expires_at   DATETIME(6) NOT NULL,
    KEY idx_oidc_sign_ins_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The periodic directory sync runs on the instance holding this lease.
INSERT INTO leases (name, holder, expires_at) VALUES ('directory_sync', '', '1970-01-01 00:00:00');

-- +goose Down
DELETE FROM leases WHERE name = 'directory_sync';
DROP TABLE oidc_sign_ins;
DROP INDEX idx_users_auth_source ON users;
ALTER TABLE users DROP COLUMN auth_source;
