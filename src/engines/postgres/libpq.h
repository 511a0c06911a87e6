#pragma once

// libpq, loaded on first use (see util/shared_library.h for why it is not linked). The engine
// calls libpq through `libpq().PQexec(...)`; the types come from libpq's own header.

#include <libpq-fe.h>

namespace dbinit {

// clang-format off
#define DBINIT_LIBPQ_FUNCTIONS(X) \
  X(PQbackendPID) \
  X(PQclear) \
  X(PQclientEncoding) \
  X(PQcmdTuples) \
  X(PQcmdStatus) \
  X(PQconnectdbParams) \
  X(PQconninfo) \
  X(PQconnectionNeedsPassword) \
  X(PQconninfoFree) \
  X(PQconninfoParse) \
  X(PQdb) \
  X(PQerrorMessage) \
  X(PQexec) \
  X(PQexecParams) \
  X(PQfinish) \
  X(PQfreemem) \
  X(PQgetCopyData) \
  X(PQgetResult) \
  X(PQgetisnull) \
  X(PQgetlength) \
  X(PQgetvalue) \
  X(PQhost) \
  X(PQmakeEmptyPGresult) \
  X(PQnfields) \
  X(PQntuples) \
  X(PQparameterStatus) \
  X(PQport) \
  X(PQputCopyData) \
  X(PQputCopyEnd) \
  X(PQresultErrorField) \
  X(PQresultStatus) \
  X(PQsendQuery) \
  X(PQserverVersion) \
  X(PQsetNoticeProcessor) \
  X(PQstatus) \
  X(PQtransactionStatus) \
  X(PQuser) \
  X(pg_encoding_to_char)
// clang-format on

struct LibPq {
#define DBINIT_DECLARE(name) decltype(&::name) name = nullptr;
  DBINIT_LIBPQ_FUNCTIONS(DBINIT_DECLARE)
#undef DBINIT_DECLARE
};

/// The loaded libpq. Throws Error{config} when it is not installed.
const LibPq& libpq();

}  // namespace dbinit
