-- Times are Unix microseconds (UTC); 0 means "never". Booleans are 0/1.

CREATE TABLE deliveries (
    source       TEXT    NOT NULL,
    guid         TEXT    NOT NULL,
    event        TEXT    NOT NULL DEFAULT '',
    action       TEXT    NOT NULL DEFAULT '',
    repo         TEXT    NOT NULL DEFAULT '',
    pr_number    INTEGER NOT NULL DEFAULT 0,
    outcome      TEXT    NOT NULL,
    reason       TEXT    NOT NULL DEFAULT '',
    received_at  INTEGER NOT NULL,
    redeliveries INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source, guid)
);
CREATE INDEX deliveries_received_at ON deliveries (received_at);

CREATE TABLE installations (
    id           INTEGER PRIMARY KEY,
    account      TEXT    NOT NULL DEFAULT '',
    repositories TEXT    NOT NULL DEFAULT '',
    suspended    INTEGER NOT NULL DEFAULT 0,
    deleted      INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE pull_requests (
    pr_key             TEXT    PRIMARY KEY,
    installation_id    INTEGER NOT NULL DEFAULT 0,
    base_owner         TEXT    NOT NULL DEFAULT '',
    base_repo          TEXT    NOT NULL DEFAULT '',
    number             INTEGER NOT NULL DEFAULT 0,
    head_owner         TEXT    NOT NULL DEFAULT '',
    head_repo          TEXT    NOT NULL DEFAULT '',
    branch             TEXT    NOT NULL DEFAULT '',
    head_sha           TEXT    NOT NULL DEFAULT '',
    base_ref           TEXT    NOT NULL DEFAULT '',
    title              TEXT    NOT NULL DEFAULT '',
    author             TEXT    NOT NULL DEFAULT '',
    closed             INTEGER NOT NULL DEFAULT 0,
    draft              INTEGER NOT NULL DEFAULT 0,
    merged             INTEGER NOT NULL DEFAULT 0,
    labels             TEXT    NOT NULL DEFAULT '[]',
    generation         INTEGER NOT NULL DEFAULT 0,
    command            TEXT    NOT NULL DEFAULT '',
    command_actor      TEXT    NOT NULL DEFAULT '',
    command_comment_id INTEGER NOT NULL DEFAULT 0,
    command_at         INTEGER NOT NULL DEFAULT 0,
    uninstalled        INTEGER NOT NULL DEFAULT 0,
    event_updated_at   INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX pull_requests_installation ON pull_requests (installation_id);
CREATE INDEX pull_requests_repo ON pull_requests (base_owner, base_repo);

CREATE TABLE previews (
    pr_key           TEXT    PRIMARY KEY,
    installation_id  INTEGER NOT NULL DEFAULT 0,
    app_name         TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL DEFAULT '',
    endpoint         TEXT    NOT NULL DEFAULT '',
    console_url      TEXT    NOT NULL DEFAULT '',
    project_id       TEXT    NOT NULL DEFAULT '',
    tenant_id        TEXT    NOT NULL DEFAULT '',
    run_state        BLOB    NOT NULL DEFAULT X'',
    built_generation INTEGER NOT NULL DEFAULT 0,
    built_sha        TEXT    NOT NULL DEFAULT '',
    comment_id       INTEGER NOT NULL DEFAULT 0,
    deployment_id    INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    deleted_at       INTEGER NOT NULL DEFAULT 0,
    ttl_warned_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX previews_status ON previews (status, updated_at);
CREATE INDEX previews_installation ON previews (installation_id);

CREATE TABLE leases (
    pr_key TEXT    PRIMARY KEY,
    owner  TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL
);
