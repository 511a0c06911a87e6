// The disk under an SQLite database failing a run: a disk that fills up in the middle of it, and a
// file system mounted read-only. Both are set up in a mount namespace of the test's own
// (`unshare -m`, so nothing outlives the test and the machine's mounts are untouched). A full disk
// must fail with SQLite's own reason and the migration's file line, leave the file byte for byte
// as it was with no journal behind, and the next start, with space again, must apply the
// migration. A read-only file system must still allow a start with nothing to do, and refuse one
// with work, saying what to make writable.

#include <gmock/gmock.h>

#include <filesystem>
#include <string>

#include "support/harness.h"

namespace dbinit::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

TEST(SqliteFullDisk, RunThatFillsTheDiskLeavesTheFileAsItWasAndTheNextStartFinishes) {
  TempDir dir;
  const fs::path migrations = dir.path() / "migrations";
  dir.write("migrations/0001-small.sql",
            "CREATE TABLE small (id INTEGER PRIMARY KEY, v TEXT);\n"
            "INSERT INTO small (v) VALUES ('kept');\n");
  const fs::path before = dir.path() / "before.sqlite3";
  RunResult first =
      run_dbinit({"up", "--dir", migrations.string(), "--url", "sqlite:" + before.string()});
  ASSERT_EQ(first.exit_code, 0) << first.err;

  // About 4 MB of rows, against a filesystem of 256 KiB.
  dir.write("migrations/0002-big.sql",
            "CREATE TABLE big (id INTEGER PRIMARY KEY, payload BLOB);\n"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000)\n"
            "INSERT INTO big SELECT i, randomblob(500) FROM n;\n");

  const fs::path mount = dir.path() / "small-disk";
  fs::create_directory(mount);
  const std::string db = (mount / "db.sqlite3").string();
  const std::string up = std::string("'") + DBINIT_BINARY + "' up --dir '" + migrations.string() +
                         "' --url 'sqlite:" + db + "'";
  const std::string out = dir.path().string();
  const std::string script =
      "set -u\n"
      "mount -t tmpfs -o size=256k tmpfs '" +
      mount.string() +
      "' || exit 90\n"
      "cp '" +
      before.string() + "' '" + db + "' || exit 91\n" + up + " >'" + out + "/full.out' 2>'" + out +
      "/full.err'; echo $? >'" + out +
      "/full.rc'\n"
      "cp '" +
      db + "' '" + out +
      "/after.sqlite3'\n"
      "ls -a '" +
      mount.string() + "' >'" + out +
      "/listing'\n"
      "mount -o remount,size=16m '" +
      mount.string() + "' || exit 92\n" + up + " >'" + out + "/again.out' 2>'" + out +
      "/again.err'; echo $? >'" + out +
      "/again.rc'\n"
      "cp '" +
      db + "' '" + out + "/final.sqlite3'\n";
  RunResult shell = run_program({"unshare", "-m", "sh", "-c", script});
  ASSERT_EQ(shell.exit_code, 0) << "could not set up the small filesystem (needs root or a "
                                   "user namespace): "
                                << shell.err;

  EXPECT_EQ(read_file(dir.path() / "full.rc"), "1\n") << read_file(dir.path() / "full.err");
  const std::string err = read_file(dir.path() / "full.err");
  EXPECT_THAT(err, HasSubstr("database or disk is full"));
  EXPECT_THAT(err, HasSubstr("0002-big.sql line 2"));
  EXPECT_THAT(err, HasSubstr("nothing was changed"));
  EXPECT_THAT(err, HasSubstr("free space on the disk that holds " + db));
  EXPECT_TRUE(read_file(dir.path() / "after.sqlite3") == read_file(before))
      << "the database file changed";
  EXPECT_THAT(read_file(dir.path() / "listing"), Not(HasSubstr("journal")));

  EXPECT_EQ(read_file(dir.path() / "again.rc"), "0\n") << read_file(dir.path() / "again.err");
  const std::string final_db = (dir.path() / "final.sqlite3").string();
  RunResult rows = run_program({"sqlite3", final_db,
                                "SELECT count(*) FROM big; SELECT v FROM small; "
                                "SELECT group_concat(version) FROM dbinit_migrations;"});
  EXPECT_EQ(rows.out, "8000\nkept\n1,2\n") << rows.err;
}

TEST(SqliteReadOnlyFileSystem, NothingToDoStillStartsAndWorkToDoSaysWhatToMakeWritable) {
  TempDir dir;
  const fs::path migrations = dir.path() / "migrations";
  const fs::path folder = dir.path() / "db";
  const std::string db = (folder / "app.sqlite3").string();
  dir.write("migrations/0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  RunResult first = run_dbinit({"up", "--dir", migrations.string(), "--url", "sqlite:" + db});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string before = read_file(db);

  const std::string up = std::string("'") + DBINIT_BINARY + "' up --dir '" + migrations.string() +
                         "' --url 'sqlite:" + db + "'";
  const std::string out = dir.path().string();
  dir.write("work.sql", "CREATE TABLE b (id INTEGER);\n");
  const std::string script =
      "set -u\n"
      "mount --bind '" +
      folder.string() + "' '" + folder.string() +
      "' || exit 90\n"
      "mount -o remount,ro,bind '" +
      folder.string() + "' || exit 91\n" + up + " >'" + out + "/noop.out' 2>'" + out +
      "/noop.err'; echo $? >'" + out +
      "/noop.rc'\n"
      "cp '" +
      out + "/work.sql' '" + migrations.string() + "/0002-b.sql'\n" + up + " >'" + out +
      "/work.out' 2>'" + out + "/work.err'; echo $? >'" + out + "/work.rc'\n";
  RunResult shell = run_program({"unshare", "-m", "sh", "-c", script});
  ASSERT_EQ(shell.exit_code, 0) << "could not mount the folder read-only (needs root or a user "
                                   "namespace): "
                                << shell.err;

  EXPECT_EQ(read_file(dir.path() / "noop.rc"), "0\n") << read_file(dir.path() / "noop.err");
  EXPECT_EQ(read_file(dir.path() / "work.rc"), "1\n") << read_file(dir.path() / "work.err");
  const std::string err = read_file(dir.path() / "work.err");
  EXPECT_THAT(err, HasSubstr("attempt to write a readonly database (SQLITE_READONLY)"));
  EXPECT_THAT(err, HasSubstr("0002-b.sql line 1"));
  EXPECT_THAT(err, HasSubstr("nothing was changed"));
  EXPECT_THAT(err, HasSubstr("make " + db + " and its folder writable"));
  EXPECT_TRUE(read_file(db) == before) << "the database file changed";
}

}  // namespace
}  // namespace dbinit::test
