-- When the service last answered a refused ChatOps command of one user on
-- one PR, so that replicas and restarts share the throttle.
CREATE TABLE command_replies (
    pr_key     TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    replied_at INTEGER NOT NULL,
    PRIMARY KEY (pr_key, actor)
);
