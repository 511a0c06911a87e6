#include "support/private_server.h"

#include <signal.h>

#include <fstream>
#include <stdexcept>

namespace dbinit::test {

namespace {

std::string first_line(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) throw std::runtime_error(path.string() + " is missing");
  return line;
}

std::string script() {
  return std::string(DBINIT_SOURCE_DIR) + "/tests/support/testserver";
}

}  // namespace

PrivateServer::PrivateServer(const std::string& engine) : m_engine(engine) {
  RunOptions options;
  options.timeout = std::chrono::seconds(180);
  RunResult started =
      run_program({"bash", script(), "start", engine, (m_dir.path() / "server").string()}, options);
  if (started.exit_code != 0) {
    throw std::runtime_error("testserver start " + engine + " failed: " + started.err);
  }
  m_url = first_line(m_dir.path() / "server" / "url");
}

PrivateServer::~PrivateServer() {
  RunOptions options;
  options.timeout = std::chrono::seconds(120);
  run_program({"bash", script(), "stop", m_engine, (m_dir.path() / "server").string()}, options);
}

std::string PrivateServer::database_url(const std::string& name) const {
  const std::size_t slash = m_url.find('/', m_url.find("//") + 2);
  const std::size_t query = m_url.find('?', slash);
  return m_url.substr(0, slash + 1) + name +
         (query == std::string::npos ? std::string() : m_url.substr(query));
}

void PrivateServer::kill_hard() {
  const std::filesystem::path dir = m_dir.path() / "server";
  if (m_engine == "postgres") {
    const std::string cluster = first_line(dir / "cluster");
    const int pid = std::stoi(first_line(std::filesystem::path(cluster) / "data/postmaster.pid"));
    ::kill(pid, SIGQUIT);
  } else {
    const int pid = std::stoi(first_line(dir / "mysqld.pid"));
    ::kill(pid, SIGKILL);
  }
}

}  // namespace dbinit::test
