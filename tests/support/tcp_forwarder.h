#pragma once

// Loopback ports for connection tests: a port where nothing listens, and a TCP forwarder that
// starts listening on such a port on demand and relays every connection to a real server. Tests
// use it for a server that "comes up" while dbinit waits for it (--wait).

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dbinit::test {

/// A 127.0.0.1 port that nothing listens on: chosen by the kernel, then released.
int unused_port();

/// Relays connections on 127.0.0.1:`listen_port` to `target_host`:`target_port`, from start()
/// until the object dies.
class TcpForwarder {
 public:
  TcpForwarder(int listen_port, std::string target_host, int target_port);
  ~TcpForwarder();
  TcpForwarder(const TcpForwarder&) = delete;
  TcpForwarder& operator=(const TcpForwarder&) = delete;

  /// Starts listening; throws std::runtime_error when the port cannot be bound.
  void start();
  /// How many connections were accepted so far.
  int connections() const { return m_connections.load(); }

 private:
  void accept_loop();
  void relay(int client);

  int m_listen_port;
  std::string m_target_host;
  int m_target_port;
  int m_listen_fd = -1;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_connections{0};
  std::thread m_acceptor;
  std::mutex m_mutex;
  std::vector<std::thread> m_relays;
};

}  // namespace dbinit::test
