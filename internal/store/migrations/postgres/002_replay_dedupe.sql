-- A signed payload replayed under a new X-GitHub-Delivery is the same
-- payload: deliveries are also unique by the SHA-256 of their body.
ALTER TABLE deliveries ADD COLUMN body_sha256 TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX deliveries_body_sha256 ON deliveries (body_sha256) WHERE body_sha256 <> '';

-- Commands already taken, by the signed comment they came from.
CREATE TABLE commands_seen (
    comment_key TEXT    PRIMARY KEY,
    received_at BIGINT  NOT NULL
);
