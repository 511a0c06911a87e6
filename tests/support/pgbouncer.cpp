#include "support/pgbouncer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "engines/url.h"
#include "support/tcp_forwarder.h"

namespace dbinit::test {

namespace {

namespace fs = std::filesystem;

std::string pgbouncer_binary() {
  if (const char* path = std::getenv("DBINIT_PGBOUNCER"); path != nullptr && *path) return path;
  if (fs::exists("/usr/sbin/pgbouncer")) return "/usr/sbin/pgbouncer";
  return "pgbouncer";
}

// An auth_file or ini value in double quotes, with quotes doubled.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

bool accepts_connections(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

PgBouncer::PgBouncer(const std::string& server_url, const std::string& pool_mode) {
  const DatabaseUrl url = parse_database_url(server_url);
  std::string host = url.param("host");
  std::string server_port = url.param("port");
  if (host.empty()) {
    host = url.hosts;
    if (std::size_t colon = host.rfind(':'); colon != std::string::npos) {
      server_port = host.substr(colon + 1);
      host.resize(colon);
    }
  }
  if (host.empty()) host = "localhost";
  if (server_port.empty()) server_port = "5432";

  m_port = unused_port();
  const fs::path dir = m_dir.path();
  m_dir.write("userlist.txt", quoted(url.user) + " " + quoted(url.password) + "\n");
  std::string config = "[databases]\n* = host=" + host + " port=" + server_port + "\n\n";
  config += "[pgbouncer]\n";
  config += "listen_addr = 127.0.0.1\n";
  config += "listen_port = " + std::to_string(m_port) + "\n";
  config += "unix_socket_dir = " + dir.string() + "\n";
  config += "auth_type = scram-sha-256\n";
  config += "auth_file = " + (dir / "userlist.txt").string() + "\n";
  config += "pool_mode = " + pool_mode + "\n";
  config += "max_client_conn = 200\n";
  config += "default_pool_size = 10\n";
  config += "logfile = " + (dir / "pgbouncer.log").string() + "\n";
  config += "log_connections = 0\nlog_disconnections = 0\n";
  if (::geteuid() == 0) {
    // pgbouncer refuses to run as root; `user` makes it switch after start-up.
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) {
      throw std::runtime_error(
          "pgbouncer refuses to run as root and there is no `postgres` system user to run it as");
    }
    config += "user = postgres\n";
    for (const fs::path& path : {dir, dir / "userlist.txt"}) {
      if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        throw std::runtime_error("cannot hand " + path.string() + " to the postgres user");
      }
    }
  }
  m_dir.write("pgbouncer.ini", config);
  fs::permissions(dir / "userlist.txt", fs::perms::owner_read | fs::perms::owner_write);

  RunOptions options;
  options.cwd = dir;
  options.timeout = std::chrono::seconds(3600);
  m_process = std::make_unique<Child>(
      std::vector<std::string>{pgbouncer_binary(), "-q", (dir / "pgbouncer.ini").string()},
      options);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!accepts_connections(m_port)) {
    if (std::chrono::steady_clock::now() > deadline) {
      m_process->kill(SIGKILL);
      RunResult result = m_process->wait();
      throw std::runtime_error("pgbouncer did not start on 127.0.0.1:" + std::to_string(m_port) +
                               " (exit " + std::to_string(result.exit_code) + "): " + result.err +
                               log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

PgBouncer::~PgBouncer() {
  if (!m_process) return;
  // SIGTERM: immediate shutdown. Child::wait() kills it if it takes longer than its timeout.
  m_process->kill(SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (accepts_connections(m_port) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  m_process.reset();  // reaps it (SIGKILL if it still runs)
}

std::string PgBouncer::url_for(const std::string& url) const {
  std::size_t start = url.find("//");
  start = start == std::string::npos ? 0 : start + 2;
  std::size_t end = url.find_first_of("/?", start);
  if (end == std::string::npos) end = url.size();
  std::size_t at = url.rfind('@', end);
  std::size_t host_start = at != std::string::npos && at >= start ? at + 1 : start;
  return url.substr(0, host_start) + "127.0.0.1:" + std::to_string(m_port) + url.substr(end);
}

std::string PgBouncer::log() const {
  std::error_code ec;
  const fs::path file = m_dir.path() / "pgbouncer.log";
  if (!fs::exists(file, ec)) return {};
  return read_file(file);
}

}  // namespace dbinit::test
