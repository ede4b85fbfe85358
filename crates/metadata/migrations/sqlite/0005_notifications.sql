-- Notifications: a durable outbox of registry events, one row per event and endpoint, written in
-- the same transaction as the change the event describes and delivered in the background.

CREATE TABLE notification_outbox (
    event_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    action TEXT NOT NULL,
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    tag TEXT NOT NULL,
    -- The event as JSON, as the endpoint receives it inside {"events": [...]}.
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- Delivery order: numbered by the 'notifications' counter inside the writing transaction,
    -- so numbers follow commit order.
    seq BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    last_error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (event_id, endpoint)
);
CREATE INDEX notification_outbox_pending ON notification_outbox(endpoint, delivered_at, seq);
INSERT INTO counters (name, value) VALUES ('notifications', 0);
CREATE INDEX notification_outbox_created ON notification_outbox(created_at);

-- Image change triggers: when the tag's current image changes, an event for endpoint
-- 'trigger:<project>/<name>' is written to the outbox in the same transaction.
CREATE TABLE image_triggers (
    project TEXT NOT NULL REFERENCES projects(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    uid TEXT NOT NULL,
    repository TEXT NOT NULL,
    tag TEXT NOT NULL,
    url TEXT NOT NULL,
    headers TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_image TEXT NOT NULL DEFAULT '',
    last_triggered_at BIGINT,
    PRIMARY KEY (project, name)
);
CREATE INDEX image_triggers_tag ON image_triggers(repository, tag);
