// An async node against a real HTTP server: cpp-httplib (libcpp-httplib-dev) serving on
// 127.0.0.1, on a port the system picks, started and stopped by each test (the examples'
// LocalHttpServer). The client side is what a user would write: blocking httplib::Client
// calls on a small pool of threads of the user's own (DelayedService with no delay), each
// thread with its own keep-alive connection, completing the node's Completions.

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include <examples/support/local_http_server.hpp>
#include <flow/aetherflow.hpp>
#include <flow/testing/delayed_service.hpp>

namespace aetherflow {
namespace {

using namespace std::chrono_literals;
using testing::DelayedService;

// GET /echo/<word> answers "<word>:<length>"; /echo/fail-* answers 503; /echo/slow-* waits
// 500 ms first.
void echo_routes(httplib::Server& server) {
  server.Get(R"(/echo/([\w-]+))", [](const httplib::Request& req, httplib::Response& res) {
    const std::string word = req.matches[1];
    if (word.starts_with("fail-")) {
      res.status = 503;
      res.set_content("unavailable", "text/plain");
      return;
    }
    if (word.starts_with("slow-")) std::this_thread::sleep_for(500ms);
    res.set_content(word + ":" + std::to_string(word.size()), "text/plain");
  });
}

// The flow: words -> an async GET per word -> the bodies, in order; failures dead-lettered.
struct Fetched {
  std::vector<std::string> bodies;
  std::vector<DeadLetter<std::string>> failed;
  RunReport report;
};
Fetched fetch(const std::vector<std::string>& words, int port, NodeOptions options) {
  Fetched f;
  DelayedService clients(0ms, 8);  // the user's client threads
  Flow flow("http");
  auto get = flow.node(
      "get", async([&clients, port](std::string word, Completion<std::string> done) {
        clients.call([port, word, done]() mutable {
          thread_local httplib::Client client("127.0.0.1", port);
          client.set_read_timeout(5s);
          client.set_tcp_nodelay(true);
          const auto res = client.Get("/echo/" + word);
          if (!res)
            done.set_error(std::make_exception_ptr(
                std::runtime_error("GET /echo/" + word + ": " + httplib::to_string(res.error()))));
          else if (res->status != 200)
            done.set_error(std::make_exception_ptr(std::runtime_error(
                "GET /echo/" + word + ": status " + std::to_string(res->status))));
          else
            done.set_value(res->body);
        });
      }),
      options);
  flow.source("words", words) >> get >>
      flow.node("keep", [&](std::string body) { f.bodies.push_back(std::move(body)); },
                {.ordered = true});
  get.dead_letters() >>
      flow.node("failed", [&](DeadLetter<std::string> d) { f.failed.push_back(std::move(d)); });
  f.report = flow.run({.threads = 2});
  return f;
}

TEST(AsyncHttp, RoundTripsToALocalServerInOrderWithFailuresDeadLettered) {
  const examples::LocalHttpServer server(echo_routes);
  std::vector<std::string> words, expected;
  for (int i = 0; i < 400; ++i) {
    const std::string word = (i % 50 == 7 ? "fail-" : "w") + std::to_string(i);
    words.push_back(word);
    if (!word.starts_with("fail-")) expected.push_back(word + ":" + std::to_string(word.size()));
  }
  const Fetched f =
      fetch(words, server.port(), {.on_error = OnError::dead_letter, .max_in_flight = 16});
  EXPECT_EQ(f.bodies, expected);
  ASSERT_EQ(f.failed.size(), 8u);
  EXPECT_TRUE(std::all_of(f.failed.begin(), f.failed.end(), [](const auto& d) {
    return d.item.starts_with("fail-") && d.error.find("status 503") != std::string::npos;
  }));
  const NodeReport& get = f.report.node("get");
  EXPECT_EQ(get.operations->completed, 400u);
  EXPECT_EQ(get.out + get.dead_lettered, 400u);
}

TEST(AsyncHttp, ASlowReplyPastTheTimeoutFailsItsItem) {
  const examples::LocalHttpServer server(echo_routes);
  const Fetched f = fetch({"a", "slow-b", "c"}, server.port(),
                          {.on_error = OnError::dead_letter, .operation_timeout = 100ms});
  EXPECT_EQ(f.bodies, (std::vector<std::string>{"a:1", "c:1"}));
  ASSERT_EQ(f.failed.size(), 1u);
  EXPECT_EQ(f.failed[0].item, "slow-b");
  EXPECT_NE(f.failed[0].error.find("OperationTimedOut"), std::string::npos) << f.failed[0].error;
  EXPECT_EQ(f.report.node("get").operations->timed_out, 1u);
}

}  // namespace
}  // namespace aetherflow
