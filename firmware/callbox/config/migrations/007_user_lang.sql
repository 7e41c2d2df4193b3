-- Schema version 7: each user's language for the web UI ('en' or 'zh').
ALTER TABLE users ADD COLUMN lang TEXT NOT NULL DEFAULT 'en';
