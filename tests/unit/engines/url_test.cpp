#include "engines/url.h"

#include <string>

#include <gtest/gtest.h>

#include "util/error.h"

namespace dbinit::test {
namespace {

// Parses `url` expecting an Error{config}; returns everything the error would print.
std::string parse_error(std::string_view url) {
  try {
    parse_database_url(url);
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::config) << url;
    return error.full_message() + "\n" + error.where + "\n" + error.detail;
  }
  ADD_FAILURE() << "no error for " << url;
  return {};
}

TEST(DatabaseUrl, SqliteForms) {
  DatabaseUrl url = parse_database_url("sqlite:db/dev.sqlite3");
  EXPECT_EQ(url.engine, "sqlite");
  EXPECT_EQ(url.scheme, "sqlite");
  EXPECT_EQ(url.database, "db/dev.sqlite3");
  EXPECT_FALSE(url.has_password);

  EXPECT_EQ(parse_database_url("sqlite:///var/lib/app/app.db").database, "/var/lib/app/app.db");
  EXPECT_EQ(parse_database_url("sqlite:/var/lib/app/app.db").database, "/var/lib/app/app.db");
  EXPECT_EQ(parse_database_url("sqlite://relative/app.db").database, "relative/app.db");

  url = parse_database_url("sqlite3:app.db");
  EXPECT_EQ(url.engine, "sqlite");
  EXPECT_EQ(url.scheme, "sqlite3");
  EXPECT_EQ(url.database, "app.db");

  url = parse_database_url("SQLite:app.db?mode=rwc&_busy_timeout=5000");
  EXPECT_EQ(url.engine, "sqlite");
  EXPECT_EQ(url.database, "app.db");
  EXPECT_EQ(url.param("mode"), "rwc");
  EXPECT_EQ(url.param("_busy_timeout"), "5000");
  EXPECT_EQ(url.redacted(), "SQLite:app.db?mode=rwc&_busy_timeout=5000");

  EXPECT_EQ(parse_database_url("sqlite:my%20data.db").database, "my data.db");
}

TEST(DatabaseUrl, SqliteWithoutFileIsAnError) {
  EXPECT_NE(parse_error("sqlite:").find("names no file"), std::string::npos);
  EXPECT_NE(parse_error("sqlite://").find("names no file"), std::string::npos);
  EXPECT_NE(parse_error("sqlite:?mode=ro").find("names no file"), std::string::npos);
}

TEST(DatabaseUrl, PercentDecoding) {
  EXPECT_EQ(parse_database_url("sqlite:%41.db").database, "A.db");
  EXPECT_EQ(parse_database_url("sqlite:%4a%4A.db").database, "JJ.db");
  // Malformed escapes are kept as written.
  EXPECT_EQ(parse_database_url("sqlite:a%zzb.db").database, "a%zzb.db");
  EXPECT_EQ(parse_database_url("sqlite:a.db%4").database, "a.db%4");
  EXPECT_EQ(parse_database_url("sqlite:a.db%").database, "a.db%");
  EXPECT_EQ(parse_database_url("sqlite:100%25.db").database, "100%.db");

  DatabaseUrl url = parse_database_url("postgres://h/db?application_name=my%20app&flag&=x&&");
  ASSERT_EQ(url.params.size(), 3u);
  EXPECT_EQ(url.params[0], (std::pair<std::string, std::string>{"application_name", "my app"}));
  EXPECT_EQ(url.params[1], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_TRUE(url.has_param("flag"));
  EXPECT_FALSE(url.has_param("missing"));
  EXPECT_EQ(url.param("missing"), "");
}

TEST(DatabaseUrl, Postgres) {
  DatabaseUrl url = parse_database_url("postgres://app:secret@db:5432/appdb?sslmode=disable");
  EXPECT_EQ(url.engine, "postgres");
  EXPECT_EQ(url.user, "app");
  EXPECT_EQ(url.password, "secret");
  EXPECT_TRUE(url.has_password);
  EXPECT_EQ(url.hosts, "db:5432");
  EXPECT_EQ(url.database, "appdb");
  EXPECT_EQ(url.param("sslmode"), "disable");
  EXPECT_EQ(url.redacted(), "postgres://app:***@db:5432/appdb?sslmode=disable");
  EXPECT_EQ(url.original, "postgres://app:secret@db:5432/appdb?sslmode=disable");

  url = parse_database_url("postgresql:///appdb");
  EXPECT_EQ(url.engine, "postgres");
  EXPECT_EQ(url.scheme, "postgresql");
  EXPECT_EQ(url.hosts, "");
  EXPECT_EQ(url.database, "appdb");

  url = parse_database_url("postgres://app@db");
  EXPECT_EQ(url.user, "app");
  EXPECT_FALSE(url.has_password);
  EXPECT_EQ(url.database, "");
  EXPECT_EQ(url.redacted(), "postgres://app@db");

  // An empty password is still a password.
  url = parse_database_url("postgres://app:@db/x");
  EXPECT_TRUE(url.has_password);
  EXPECT_EQ(url.password, "");
  EXPECT_EQ(url.redacted(), "postgres://app:***@db/x");
}

TEST(DatabaseUrl, PostgresHostForms) {
  DatabaseUrl url = parse_database_url(
      "postgres://app:pw@h1:5432,h2:5433,h3/appdb?target_session_attrs=read-write");
  EXPECT_EQ(url.hosts, "h1:5432,h2:5433,h3");
  EXPECT_EQ(url.param("target_session_attrs"), "read-write");
  EXPECT_EQ(url.redacted(),
            "postgres://app:***@h1:5432,h2:5433,h3/appdb?target_session_attrs=read-write");

  url = parse_database_url("postgres://app:pw@[::1]:5432,[fe80::1]/appdb");
  EXPECT_EQ(url.hosts, "[::1]:5432,[fe80::1]");

  // A unix socket folder as the host, percent-encoded as libpq documents.
  url = parse_database_url("postgres://app@%2Fvar%2Frun%2Fpostgresql/appdb");
  EXPECT_EQ(url.hosts, "/var/run/postgresql");
  EXPECT_EQ(url.database, "appdb");
}

TEST(DatabaseUrl, PasswordWithAtSign) {
  // Unescaped '@' in the password: the host starts after the last '@'.
  DatabaseUrl url = parse_database_url("postgres://app:p@ss@w0rd@db:5432/appdb");
  EXPECT_EQ(url.user, "app");
  EXPECT_EQ(url.password, "p@ss@w0rd");
  EXPECT_EQ(url.hosts, "db:5432");
  EXPECT_EQ(url.redacted(), "postgres://app:***@db:5432/appdb");

  url = parse_database_url("postgres://app:p%40ss%3Aw%2Frd@db/appdb");
  EXPECT_EQ(url.password, "p@ss:w/rd");
  EXPECT_EQ(url.redacted(), "postgres://app:***@db/appdb");
  EXPECT_EQ(url.redacted().find("p%40ss"), std::string::npos);

  url = parse_database_url("postgres://us%40er:pw@db/appdb");
  EXPECT_EQ(url.user, "us@er");
  EXPECT_EQ(url.redacted(), "postgres://us%40er:***@db/appdb");
}

TEST(DatabaseUrl, PasswordAlsoElsewhereInUrl) {
  // The password text also occurs in the host and database: only the password is replaced.
  DatabaseUrl url = parse_database_url("postgres://db:db@db/db");
  EXPECT_EQ(url.password, "db");
  EXPECT_EQ(url.redacted(), "postgres://db:***@db/db");
}

TEST(DatabaseUrl, PasswordInQueryIsRedacted) {
  DatabaseUrl url = parse_database_url("postgres://app@db/appdb?password=hunter2&sslmode=require");
  EXPECT_EQ(url.param("password"), "hunter2");
  EXPECT_EQ(url.redacted(), "postgres://app@db/appdb?password=***&sslmode=require");

  url = parse_database_url("postgres://app:pw@db/appdb?sslpassword=keypass");
  EXPECT_EQ(url.redacted(), "postgres://app:***@db/appdb?sslpassword=***");
}

TEST(DatabaseUrl, Mysql) {
  DatabaseUrl url = parse_database_url("mysql://root:pw@127.0.0.1:3306/app");
  EXPECT_EQ(url.engine, "mysql");
  EXPECT_EQ(url.user, "root");
  EXPECT_EQ(url.password, "pw");
  EXPECT_EQ(url.hosts, "127.0.0.1:3306");
  EXPECT_EQ(url.database, "app");
  EXPECT_EQ(url.redacted(), "mysql://root:***@127.0.0.1:3306/app");

  url = parse_database_url("mariadb://app:pw@/app?socket=/run/mysqld/mysqld.sock");
  EXPECT_EQ(url.engine, "mysql");
  EXPECT_EQ(url.scheme, "mariadb");
  EXPECT_EQ(url.hosts, "");
  EXPECT_EQ(url.param("socket"), "/run/mysqld/mysqld.sock");
  EXPECT_EQ(url.redacted(), "mariadb://app:***@/app?socket=/run/mysqld/mysqld.sock");
}

TEST(DatabaseUrl, UnknownSchemeDoesNotShowPassword) {
  std::string text = parse_error("mongodb://admin:hunter2@db:27017/app");
  EXPECT_NE(text.find("unknown database URL scheme 'mongodb:'"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;

  text = parse_error("hunter2");
  EXPECT_NE(text.find("no scheme"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;

  // Text before the first ':' that is not a scheme is not shown either.
  text = parse_error("p@ss/w0rd:x@db/app");
  EXPECT_NE(text.find("no scheme"), std::string::npos) << text;
  EXPECT_EQ(text.find("p@ss"), std::string::npos) << text;

  text = parse_error("");
  EXPECT_NE(text.find("no scheme"), std::string::npos) << text;
}

TEST(DatabaseUrl, ServerUrlNeedsSlashes) {
  std::string text = parse_error("postgres:app:secret@db/app");
  EXPECT_NE(text.find("must start with postgres://"), std::string::npos) << text;
  EXPECT_EQ(text.find("secret"), std::string::npos) << text;
}

TEST(DatabaseUrl, UnescapedSlashOrQuestionMarkInPasswordIsRefusedWithoutShowingIt) {
  for (std::string_view url : {"postgres://app:se/cret@db/app", "postgres://app:12/cret@db/app",
                               "mysql://app:se?cret@db/app", "postgres://app:pw@db:54x2/app"}) {
    std::string text = parse_error(url);
    EXPECT_NE(text.find("percent-encode"), std::string::npos) << text;
    EXPECT_EQ(text.find("cret"), std::string::npos) << text;
    EXPECT_EQ(text.find(":pw@"), std::string::npos) << text;
  }
  // Where the password was found, the redacted URL says where the problem is.
  std::string text = parse_error("postgres://app:pw@db:54x2/app");
  EXPECT_NE(text.find("postgres://app:***@db:54x2/app"), std::string::npos) << text;
}

TEST(DatabaseUrl, MalformedPercentEncodingInAServerUrlIsRefusedWithoutShowingIt) {
  std::string text = parse_error("postgres://user:se%cretXYZ@127.0.0.1:1/db");
  EXPECT_NE(text.find("the password has a '%' that is not followed by two hex digits"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("postgres://user:***@127.0.0.1:1/db"), std::string::npos) << text;
  EXPECT_EQ(text.find("cretXYZ"), std::string::npos) << text;
  for (std::string_view url : {"mysql://u:pw@h/d%zz", "postgres://u:pw@h%4/d",
                               "postgres://u:pw@h/d?application_name=a%", "mysql://u%x:pw@h/d"}) {
    text = parse_error(url);
    EXPECT_NE(text.find("not followed by two hex digits"), std::string::npos) << text;
    EXPECT_EQ(text.find(":pw@"), std::string::npos) << text;
  }
  // SQLite paths keep a malformed escape as written (see PercentDecoding).
  EXPECT_EQ(parse_database_url("sqlite:a%zz.db").database, "a%zz.db");
}

TEST(DatabaseUrl, SecretsAreThePasswordAsDecodedAndAsWritten) {
  DatabaseUrl url = parse_database_url("postgres://app:p%40ss@db/x?sslpassword=key&password=pw2");
  EXPECT_EQ(url.password, "p@ss");
  EXPECT_EQ(url.password_as_written, "p%40ss");
  EXPECT_EQ(url.secrets(), (std::vector<std::string>{"p@ss", "p%40ss", "key", "pw2"}));
  EXPECT_TRUE(parse_database_url("postgres://app@db/x").secrets().empty());
}

TEST(RedactPasswords, UrlsInFreeText) {
  EXPECT_EQ(redact_passwords("could not connect to postgres://app:s3cret@db:5432/app: timeout"),
            "could not connect to postgres://app:***@db:5432/app: timeout");
  EXPECT_EQ(redact_passwords("a mysql://u:p1@h/x and postgres://v:p2@k/y."),
            "a mysql://u:***@h/x and postgres://v:***@k/y.");
  EXPECT_EQ(redact_passwords("postgres://app:p@ss@db/app"), "postgres://app:***@db/app");
  EXPECT_EQ(redact_passwords("'postgres://app:pw@db'"), "'postgres://app:***@db'");
  // Nothing to hide.
  EXPECT_EQ(redact_passwords("postgres://app@db:5432/app"), "postgres://app@db:5432/app");
  EXPECT_EQ(redact_passwords("http://example.com:8080/x"), "http://example.com:8080/x");
  EXPECT_EQ(redact_passwords("no url here"), "no url here");
  EXPECT_EQ(redact_passwords(""), "");
}

TEST(RedactPasswords, ConninfoAndQueryPasswords) {
  EXPECT_EQ(redact_passwords("host=db password=s3cret user=app"), "host=db password=*** user=app");
  EXPECT_EQ(redact_passwords("host=db password = 's3 cr\\'et' user=app"),
            "host=db password = *** user=app");
  EXPECT_EQ(redact_passwords("PGPASSWORD=s3cret psql"), "PGPASSWORD=*** psql");
  EXPECT_EQ(redact_passwords("x?password=a&sslpassword=b"), "x?password=***&sslpassword=***");
  // MySQL's own wording is not a password value.
  EXPECT_EQ(redact_passwords("Access denied for user 'app'@'localhost' (using password: YES)"),
            "Access denied for user 'app'@'localhost' (using password: YES)");
}

}  // namespace
}  // namespace dbinit::test
