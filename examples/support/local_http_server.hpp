#pragma once
// A cpp-httplib server on 127.0.0.1, on a port the system picks, serving from a thread of its
// own until destroyed: the local service of examples/live_ticks.cpp and of the async node's
// HTTP test (tests/nodes/async_http_test.cpp).
//
//   LocalHttpServer server([](httplib::Server& s) { s.Get("/x", handler); });
//   httplib::Client client("127.0.0.1", server.port());

#include <chrono>
#include <functional>
#include <stdexcept>
#include <thread>

#include <httplib.h>

namespace aetherflow::examples {

class LocalHttpServer {
 public:
  // `routes` adds the handlers before the server starts.
  explicit LocalHttpServer(const std::function<void(httplib::Server&)>& routes) {
    routes(server_);
    server_.set_tcp_nodelay(true);  // else each small reply waits out the client's delayed ACK
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("cannot bind a port on 127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Connections wait in the bound socket's backlog; is_running() says the loop took over.
    for (int i = 0; i < 5000 && !server_.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;
  ~LocalHttpServer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace aetherflow::examples
