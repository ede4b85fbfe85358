-- Leases on background work shared by replicas: the holder may do the work until expires_at;
-- another replica takes the lease over only after that.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX uploads_created ON uploads(created_at);
