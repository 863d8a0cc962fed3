-- Every change to a user's notes or pads is announced on channel notejam_content
-- with the user's id, so each web node can drop that user's cached lists
-- (src/content.rs). PostgreSQL sends notifications on commit, once per distinct
-- payload per transaction.
CREATE FUNCTION notejam_notify_content() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('notejam_content', OLD.user_id::text);
    ELSE
        PERFORM pg_notify('notejam_content', NEW.user_id::text);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER notes_notify_content
    AFTER INSERT OR UPDATE OR DELETE ON notes
    FOR EACH ROW EXECUTE FUNCTION notejam_notify_content();

CREATE TRIGGER pads_notify_content
    AFTER INSERT OR UPDATE OR DELETE ON pads
    FOR EACH ROW EXECUTE FUNCTION notejam_notify_content();
