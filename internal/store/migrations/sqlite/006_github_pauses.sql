-- Until when an installation may not call GitHub (its rate limit is spent),
-- so that every replica holds back, not only the one that was refused.
CREATE TABLE github_pauses (
    installation_id INTEGER PRIMARY KEY,
    paused_until    INTEGER NOT NULL
);
