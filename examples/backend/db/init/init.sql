-- The backend's database as it was at version 0 (0000-initial-schema), with its first users:
-- the output of `sqlite3 backend.sqlite3 .dump`. A dump of a dbinit-managed database carries
-- its ledger, so `dbinit up` restores it into an empty database and applies only newer migrations.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE dbinit_migrations (
  version TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  state TEXT NOT NULL,
  applied_at TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  applied_by TEXT NOT NULL,
  down_sql TEXT,
  error TEXT
);
INSERT INTO dbinit_migrations VALUES('0','0000-initial-schema.sql','sha256:668b5866fe00bf1a59bdd5c1b02b708514bf711cc4366bc23d13cfc932a5de8c','applied','2026-11-22T03:37:35Z',0,'dumpdb dbinit 0.1.0',replace('DROP TABLE notes;\nDROP TABLE users;\n','\n',char(10)),NULL);
CREATE TABLE dbinit_meta (
  key TEXT PRIMARY KEY,
  value TEXT
);
CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO users VALUES(1,'ada','2024-08-30 12:00:00');
INSERT INTO users VALUES(2,'grace','2024-08-30 12:00:00');
CREATE TABLE notes (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body    TEXT NOT NULL
);
INSERT INTO notes VALUES(1,1,'first note');
INSERT INTO notes VALUES(2,2,'it''s a bug, not a feature');
CREATE INDEX notes_user_id ON notes (user_id);
COMMIT;
