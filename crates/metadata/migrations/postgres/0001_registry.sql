-- Berth's registry schema (PostgreSQL dialect). migrations/sqlite holds the same schema for
-- SQLite; the two are kept in lockstep and checked by a test.

CREATE TABLE settings (
    name TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE projects (
    name TEXT COLLATE "C" PRIMARY KEY,
    created_at BIGINT NOT NULL
);

-- An image stream: <project>/<name>.
CREATE TABLE repositories (
    name TEXT COLLATE "C" PRIMARY KEY,
    project TEXT NOT NULL REFERENCES projects(name) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE INDEX repositories_project ON repositories(project);

-- Verified blobs, stored once; object_key is where their bytes live.
CREATE TABLE blobs (
    digest TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    object_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Which repositories may serve which blobs.
CREATE TABLE repository_blobs (
    repository TEXT NOT NULL REFERENCES repositories(name) ON DELETE CASCADE,
    digest TEXT NOT NULL REFERENCES blobs(digest),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (repository, digest)
);
CREATE INDEX repository_blobs_digest ON repository_blobs(digest);

-- Images (manifests), cluster scoped and named by digest; content is the exact bytes pushed.
CREATE TABLE images (
    digest TEXT PRIMARY KEY,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    content BYTEA NOT NULL,
    config_digest TEXT,
    artifact_type TEXT,
    subject_digest TEXT,
    annotations TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX images_subject ON images(subject_digest);

-- What each image names: kind 'blob' (config, layers) or 'manifest' (index children).
CREATE TABLE image_references (
    image TEXT NOT NULL REFERENCES images(digest) ON DELETE CASCADE,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (image, target, kind)
);
CREATE INDEX image_references_target ON image_references(target);

-- Which repositories hold which images.
CREATE TABLE repository_images (
    repository TEXT NOT NULL REFERENCES repositories(name) ON DELETE CASCADE,
    digest TEXT NOT NULL REFERENCES images(digest),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (repository, digest)
);
CREATE INDEX repository_images_digest ON repository_images(digest);

-- Current tags.
CREATE TABLE tags (
    repository TEXT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    digest TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (repository, name),
    FOREIGN KEY (repository, digest) REFERENCES repository_images(repository, digest) ON DELETE CASCADE
);

-- Tag history: every new digest pushed to a tag; the highest generation is the newest.
CREATE TABLE tag_events (
    repository TEXT NOT NULL REFERENCES repositories(name) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    generation BIGINT NOT NULL,
    digest TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (repository, tag, generation)
);

-- Upload sessions in progress; their data lives in the object store under uploads/<id>/.
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    repository TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
