-- dbinit:up
CREATE TABLE test (
    id    INTEGER PRIMARY KEY,
    value TEXT
);

-- dbinit:down
DROP TABLE test;
