-- Schema version 5: SIP seats. The seat's digest secret is stored as md5:<HA1>
-- (MD5 of user:realm:password), never the password itself; '' means no password set.
ALTER TABLE seats ADD COLUMN secret TEXT NOT NULL DEFAULT '';
