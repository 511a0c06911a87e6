#pragma once

// MariaDB Connector/C, loaded on first use (see util/shared_library.h for why it is not linked).
// The engine calls it through `libmariadb().mysql_real_query(...)`; the types come from its own
// header.

#include <mysql.h>

namespace dbinit {

// clang-format off
#define DBINIT_LIBMARIADB_FUNCTIONS(X) \
  X(mysql_affected_rows) \
  X(mysql_close) \
  X(mysql_errno) \
  X(mysql_error) \
  X(mysql_fetch_lengths) \
  X(mysql_fetch_row) \
  X(mysql_field_count) \
  X(mysql_free_result) \
  X(mysql_get_server_info) \
  X(mysql_get_ssl_cipher) \
  X(mysql_init) \
  X(mysql_next_result) \
  X(mysql_num_fields) \
  X(mysql_optionsv) \
  X(mysql_real_connect) \
  X(mysql_real_escape_string) \
  X(mysql_real_query) \
  X(mysql_select_db) \
  X(mysql_server_init) \
  X(mysql_set_character_set) \
  X(mysql_set_local_infile_handler) \
  X(mysql_sqlstate) \
  X(mysql_store_result) \
  X(mysql_use_result) \
  X(mysql_warning_count)
// clang-format on

struct LibMariadb {
#define DBINIT_DECLARE(name) decltype(&::name) name = nullptr;
  DBINIT_LIBMARIADB_FUNCTIONS(DBINIT_DECLARE)
#undef DBINIT_DECLARE
};

/// The loaded Connector/C, initialised (mysql_server_init) once. Throws Error{config} when it is
/// not installed.
const LibMariadb& libmariadb();

}  // namespace dbinit
