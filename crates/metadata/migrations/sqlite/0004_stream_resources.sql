-- Image streams and images as API resources: object metadata, the stream's spec, and the change
-- log that drives resourceVersion and watches. (sqlite dialect; the other directory holds the same.)

ALTER TABLE repositories ADD COLUMN uid TEXT NOT NULL DEFAULT '';
ALTER TABLE repositories ADD COLUMN resource_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE repositories ADD COLUMN generation BIGINT NOT NULL DEFAULT 1;
ALTER TABLE repositories ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
ALTER TABLE repositories ADD COLUMN annotations TEXT NOT NULL DEFAULT '{}';
-- The stream's spec as JSON (lookupPolicy, dockerImageRepository, tags[]), as last written.
ALTER TABLE repositories ADD COLUMN spec TEXT NOT NULL DEFAULT '{}';
-- Status conditions per tag, as a JSON array keyed by tag name (e.g. an import not done).
ALTER TABLE repositories ADD COLUMN conditions TEXT NOT NULL DEFAULT '{}';

-- The change that made each revision, so that a watch event shows the history as of its
-- change; NULL until the revision's transaction commits (and for revisions made before this).
ALTER TABLE tag_events ADD COLUMN change_seq BIGINT;
CREATE INDEX tag_events_change ON tag_events(repository, change_seq);

ALTER TABLE images ADD COLUMN uid TEXT NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN resource_version BIGINT NOT NULL DEFAULT 0;
-- The Image object's metadata.labels and metadata.annotations (JSON objects), set through the
-- API; not the manifest's own annotations (column annotations).
ALTER TABLE images ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
ALTER TABLE images ADD COLUMN object_annotations TEXT NOT NULL DEFAULT '{}';

-- Tags that track another tag (spec tags from an ImageStreamTag: an alias): when the source tag
-- moves, the tracking tag follows in the same transaction.
CREATE TABLE tag_tracking (
    repository TEXT NOT NULL REFERENCES repositories(name) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    source_repository TEXT NOT NULL,
    source_tag TEXT NOT NULL,
    PRIMARY KEY (repository, tag)
);
CREATE INDEX tag_tracking_source ON tag_tracking(source_repository, source_tag);

-- Monotonic counters; 'changes' numbers the change log. Incrementing its row inside a write
-- transaction serialises those commits, so change numbers become visible in order.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('changes', 0);
-- Changes up to this number were trimmed: a watch cannot resume from before it.
INSERT INTO counters (name, value) VALUES ('changes_trimmed', 0);

-- The change log: one row per resource changed, numbered by the 'changes' counter. A
-- resource's resourceVersion is the number of its last change.
CREATE TABLE changes (
    seq BIGINT PRIMARY KEY,
    resource TEXT NOT NULL,
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    event TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX changes_resource ON changes(resource, project, seq);
CREATE INDEX changes_created ON changes(created_at);
