-- Bumped whenever the password changes: sessions carry the value they were issued
-- with, and one that no longer matches is signed out (src/session.rs). The change is
-- announced like a note's, so every node's cached copy (src/content.rs) is dropped.
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION notejam_notify_user() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('notejam_content', NEW.id::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_notify_content
    AFTER UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION notejam_notify_user();
