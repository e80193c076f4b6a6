-- One live pull request per app name: every create and delete in the Cloud
-- is by name, so two PRs sharing one would rebuild and delete each other's
-- app. A name is held by the PR whose preview may exist (status other than
-- '' and 'deleted'); a holder whose preview is gone can be replaced.
CREATE TABLE app_names (
    app_name   TEXT   PRIMARY KEY,
    pr_key     TEXT   NOT NULL,
    claimed_at BIGINT NOT NULL
);

INSERT INTO app_names (app_name, pr_key, claimed_at)
SELECT app_name, MIN(pr_key), MIN(updated_at) FROM previews
WHERE app_name <> '' AND status NOT IN ('', 'deleted')
GROUP BY app_name;
