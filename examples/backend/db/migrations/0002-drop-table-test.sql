-- dbinit:up
DROP TABLE test;

-- dbinit:down
CREATE TABLE test (
    id    INTEGER PRIMARY KEY,
    value TEXT
);
