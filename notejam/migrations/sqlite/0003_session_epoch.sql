-- Bumped whenever the password changes: sessions carry the value they were issued
-- with, and one that no longer matches is signed out (src/session.rs).
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
