-- Times are Unix microseconds (UTC); 0 means "never". Booleans are BOOLEAN.

CREATE TABLE deliveries (
    source       TEXT    NOT NULL,
    guid         TEXT    NOT NULL,
    event        TEXT    NOT NULL DEFAULT '',
    action       TEXT    NOT NULL DEFAULT '',
    repo         TEXT    NOT NULL DEFAULT '',
    pr_number    BIGINT  NOT NULL DEFAULT 0,
    outcome      TEXT    NOT NULL,
    reason       TEXT    NOT NULL DEFAULT '',
    received_at  BIGINT  NOT NULL,
    redeliveries BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (source, guid)
);
CREATE INDEX deliveries_received_at ON deliveries (received_at);

CREATE TABLE installations (
    id           BIGINT PRIMARY KEY,
    account      TEXT    NOT NULL DEFAULT '',
    repositories TEXT    NOT NULL DEFAULT '',
    suspended    BOOLEAN NOT NULL DEFAULT FALSE,
    deleted      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);

CREATE TABLE pull_requests (
    pr_key             TEXT    PRIMARY KEY,
    installation_id    BIGINT  NOT NULL DEFAULT 0,
    base_owner         TEXT    NOT NULL DEFAULT '',
    base_repo          TEXT    NOT NULL DEFAULT '',
    number             BIGINT  NOT NULL DEFAULT 0,
    head_owner         TEXT    NOT NULL DEFAULT '',
    head_repo          TEXT    NOT NULL DEFAULT '',
    branch             TEXT    NOT NULL DEFAULT '',
    head_sha           TEXT    NOT NULL DEFAULT '',
    base_ref           TEXT    NOT NULL DEFAULT '',
    title              TEXT    NOT NULL DEFAULT '',
    author             TEXT    NOT NULL DEFAULT '',
    closed             BOOLEAN NOT NULL DEFAULT FALSE,
    draft              BOOLEAN NOT NULL DEFAULT FALSE,
    merged             BOOLEAN NOT NULL DEFAULT FALSE,
    labels             TEXT    NOT NULL DEFAULT '[]',
    generation         BIGINT  NOT NULL DEFAULT 0,
    command            TEXT    NOT NULL DEFAULT '',
    command_actor      TEXT    NOT NULL DEFAULT '',
    command_comment_id BIGINT  NOT NULL DEFAULT 0,
    command_at         BIGINT  NOT NULL DEFAULT 0,
    uninstalled        BOOLEAN NOT NULL DEFAULT FALSE,
    event_updated_at   BIGINT  NOT NULL DEFAULT 0,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL
);
CREATE INDEX pull_requests_installation ON pull_requests (installation_id);
CREATE INDEX pull_requests_repo ON pull_requests (base_owner, base_repo);

CREATE TABLE previews (
    pr_key           TEXT    PRIMARY KEY,
    installation_id  BIGINT  NOT NULL DEFAULT 0,
    app_name         TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL DEFAULT '',
    endpoint         TEXT    NOT NULL DEFAULT '',
    console_url      TEXT    NOT NULL DEFAULT '',
    project_id       TEXT    NOT NULL DEFAULT '',
    tenant_id        TEXT    NOT NULL DEFAULT '',
    run_state        BYTEA   NOT NULL DEFAULT ''::bytea,
    built_generation BIGINT  NOT NULL DEFAULT 0,
    built_sha        TEXT    NOT NULL DEFAULT '',
    comment_id       BIGINT  NOT NULL DEFAULT 0,
    deployment_id    BIGINT  NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    deleted_at       BIGINT  NOT NULL DEFAULT 0,
    ttl_warned_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX previews_status ON previews (status, updated_at);
CREATE INDEX previews_installation ON previews (installation_id);

CREATE TABLE leases (
    pr_key TEXT    PRIMARY KEY,
    owner  TEXT    NOT NULL,
    expires_at  BIGINT  NOT NULL
);
