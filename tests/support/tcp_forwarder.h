#pragma once

// Loopback ports for connection tests: a port where nothing listens, and a TCP forwarder that
// starts listening on such a port on demand and relays every connection to a real server. Tests
// use it for a server that "comes up" while dbinit waits for it (--wait), and as a fault proxy:
// it cuts connections when the client sends given bytes (a COMMIT), stalls them, or refuses new
// ones, so that a lost connection can be placed exactly.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace dbinit::test {

/// A 127.0.0.1 port that nothing listens on: chosen by the kernel, then released.
int unused_port();

/// What the forwarder does to a connection whose client sends the armed trigger bytes.
enum class Fault {
  /// Closes both sides without passing the packet on: the server never sees it.
  drop_before,
  /// Passes the packet on and closes the server side for writing after it (so the server reads
  /// it, then end of file), swallows the server's answer and closes the client side at once: the
  /// server acts on the packet, the client never learns the outcome.
  drop_after,
  /// Passes the packet on, then relays nothing more in either direction for `stall`, then drops
  /// both sides as drop_after does.
  stall_then_drop,
};

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

  /// Arms a one-shot fault: the first client packet containing `trigger` (case-sensitive, within
  /// one read) gets `fault`. With `refuse_after`, every connection accepted after the fault is
  /// closed at once (a server that does not come back).
  void arm(std::string trigger, Fault fault, bool refuse_after = false,
           std::chrono::milliseconds stall = std::chrono::milliseconds(0));
  /// How many times an armed fault fired.
  int faults() const { return m_faults.load(); }
  /// Drops every open connection now.
  void drop_all() { ++m_drop_generation; }
  /// Closes every connection accepted from now on at once (true), or relays them again (false).
  void refuse_new(bool refuse) { m_refuse = refuse; }

 private:
  void accept_loop();
  void relay(int client);
  // The fault to apply to a client packet of `size` bytes at `data`, disarming it; nullopt when
  // the packet does not match.
  std::optional<Fault> take_fault(const char* data, std::size_t size);

  int m_listen_port;
  std::string m_target_host;
  int m_target_port;
  int m_listen_fd = -1;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_connections{0};
  std::atomic<int> m_faults{0};
  std::atomic<int> m_drop_generation{0};
  std::atomic<bool> m_refuse{false};
  // The armed fault, under m_mutex.
  std::string m_trigger;
  Fault m_fault = Fault::drop_before;
  bool m_refuse_after = false;
  std::chrono::milliseconds m_stall{0};
  std::thread m_acceptor;
  std::mutex m_mutex;
  std::vector<std::thread> m_relays;
};

}  // namespace dbinit::test
