#include "support/tcp_forwarder.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace dbinit::test {

namespace {

// Poll timeout of the relay loops: how quickly they notice that the forwarder stops.
constexpr int k_poll_ms = 100;

int connect_to(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  return fd;
}

// Writes all of `data`; false when the peer is gone.
bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free loopback port");
  }
  int port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

TcpForwarder::TcpForwarder(int listen_port, std::string target_host, int target_port)
    : m_listen_port(listen_port),
      m_target_host(std::move(target_host)),
      m_target_port(target_port) {}

TcpForwarder::~TcpForwarder() {
  m_stop = true;
  if (m_acceptor.joinable()) m_acceptor.join();
  std::vector<std::thread> relays;
  {
    std::lock_guard guard(m_mutex);
    relays.swap(m_relays);
  }
  for (std::thread& relay : relays) relay.join();
  if (m_listen_fd >= 0) ::close(m_listen_fd);
}

void TcpForwarder::start() {
  m_listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (m_listen_fd < 0) throw std::runtime_error("socket() failed");
  int yes = 1;
  ::setsockopt(m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(m_listen_port));
  if (::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(m_listen_fd, 64) != 0) {
    throw std::runtime_error("TcpForwarder: cannot listen on 127.0.0.1:" +
                             std::to_string(m_listen_port) + ": " + std::strerror(errno));
  }
  m_acceptor = std::thread([this] { accept_loop(); });
}

void TcpForwarder::arm(std::string trigger, Fault fault, bool refuse_after,
                       std::chrono::milliseconds stall) {
  std::lock_guard guard(m_mutex);
  m_trigger = std::move(trigger);
  m_fault = fault;
  m_refuse_after = refuse_after;
  m_stall = stall;
}

std::optional<Fault> TcpForwarder::take_fault(const char* data, std::size_t size) {
  std::lock_guard guard(m_mutex);
  if (m_trigger.empty() || std::string_view(data, size).find(m_trigger) == std::string_view::npos) {
    return std::nullopt;
  }
  m_trigger.clear();
  if (m_refuse_after) m_refuse = true;
  ++m_faults;
  return m_fault;
}

void TcpForwarder::accept_loop() {
  while (!m_stop) {
    pollfd listening{m_listen_fd, POLLIN, 0};
    if (::poll(&listening, 1, k_poll_ms) <= 0) continue;
    int client = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    ++m_connections;
    if (m_refuse) {
      ::close(client);
      continue;
    }
    std::lock_guard guard(m_mutex);
    m_relays.emplace_back([this, client] { relay(client); });
  }
}

void TcpForwarder::relay(int client) {
  int server = connect_to(m_target_host, m_target_port);
  if (server < 0) {
    ::close(client);
    return;
  }
  const int generation = m_drop_generation.load();
  char buffer[65536];
  bool open = true;
  std::optional<Fault> fault;
  while (open && !m_stop && !fault && m_drop_generation.load() == generation) {
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    int ready = ::poll(fds, 2, k_poll_ms);
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < 2 && open && !fault && ready > 0; ++i) {
      if (fds[i].revents == 0) continue;
      ssize_t n = ::recv(fds[i].fd, buffer, sizeof buffer, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        open = false;
        break;
      }
      const std::size_t size = static_cast<std::size_t>(n);
      if (i == 0) fault = take_fault(buffer, size);
      if (fault == Fault::drop_before) break;
      open = send_all(fds[1 - i].fd, buffer, size);
    }
  }
  if (fault && fault != Fault::drop_before) {
    if (fault == Fault::stall_then_drop) {
      std::chrono::milliseconds stall;
      {
        std::lock_guard guard(m_mutex);
        stall = m_stall;
      }
      const auto until = std::chrono::steady_clock::now() + stall;
      while (!m_stop && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(k_poll_ms));
      }
    }
    // The client learns nothing more; the server reads the packet, then end of file.
    ::close(client);
    client = -1;
    ::shutdown(server, SHUT_WR);
    while (!m_stop) {
      pollfd fds{server, POLLIN, 0};
      if (::poll(&fds, 1, k_poll_ms) <= 0) continue;
      if (::recv(server, buffer, sizeof buffer, 0) <= 0) break;
    }
  }
  if (client >= 0) ::close(client);
  ::close(server);
}

}  // namespace dbinit::test
