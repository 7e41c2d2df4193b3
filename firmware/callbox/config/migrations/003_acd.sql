-- Schema version 3: queue settings beyond the basics (skills, strategy options, rules,
-- overflow) and routing by calling number with a caller priority.
ALTER TABLE queues ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';   -- JSON, see callbox.acd.acd.Queue
ALTER TABLE routes ADD COLUMN ani TEXT NOT NULL DEFAULT '*';          -- exact number, prefix*, or '*'
ALTER TABLE routes ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;    -- caller priority (VIP > 0)
