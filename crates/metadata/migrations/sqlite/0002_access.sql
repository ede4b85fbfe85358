-- Access control (SQLite dialect; migrations/postgres holds the same): project resource fields,
-- users, service accounts, API tokens and role bindings.

ALTER TABLE projects ADD COLUMN uid TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN resource_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE projects ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
ALTER TABLE projects ADD COLUMN annotations TEXT NOT NULL DEFAULT '{}';

CREATE TABLE users (
    name TEXT PRIMARY KEY,
    uid TEXT NOT NULL,
    password_hash TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE service_accounts (
    project TEXT NOT NULL REFERENCES projects(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    uid TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project, name)
);

-- API tokens, kept only as the SHA-256 of their secret; each belongs to a user or to a service
-- account and goes with it.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL UNIQUE,
    user_name TEXT REFERENCES users(name) ON DELETE CASCADE,
    sa_project TEXT,
    sa_name TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    FOREIGN KEY (sa_project, sa_name) REFERENCES service_accounts(project, name) ON DELETE CASCADE,
    CHECK ((user_name IS NULL) <> (sa_name IS NULL))
);
CREATE INDEX api_tokens_user ON api_tokens(user_name);
CREATE INDEX api_tokens_sa ON api_tokens(sa_project, sa_name);

-- Role bindings. project '' is cluster-wide; subject_kind is 'User' (users, and service accounts
-- by their full name system:serviceaccount:<project>:<name>) or 'Group'.
CREATE TABLE role_bindings (
    project TEXT NOT NULL,
    role TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project, role, subject_kind, subject)
);
CREATE INDEX role_bindings_subject ON role_bindings(subject_kind, subject);
