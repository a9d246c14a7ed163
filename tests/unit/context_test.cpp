// Resources reach nodes from a Context; the provider decides isolation, sharing and lifetime.
#include <flow/aetherflow.hpp>
#include <flow/detail/type_name.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <ranges>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

// Remembers which threads used each instance.
struct Recorder {
  std::mutex m;
  std::map<const void*, std::set<std::thread::id>> threads_of;
  void saw(const void* instance) {
    std::lock_guard lock(m);
    threads_of[instance].insert(std::this_thread::get_id());
  }
};

struct Counter {
  long n = 0;
};

// A deliberately non-thread-safe counter: a read, a pause, then a write.
struct RacyCounter {
  long value = 0;
  void add() {
    const long seen = value;
    std::this_thread::yield();
    value = seen + 1;
  }
};

// Counts its constructions and destructions.
struct Tracked {
  static inline std::atomic<int> alive{0};
  static inline std::atomic<int> made{0};
  Tracked() {
    ++alive;
    ++made;
  }
  Tracked(const Tracked&) = delete;
  ~Tracked() { --alive; }
};

Flow counting_flow(int items) {
  Flow flow("count");
  auto src = flow.source("numbers", std::views::iota(0, items));
  auto count = flow.node("count", [](int, Counter& c) { ++c.n; }, {.concurrency = unlimited});
  src >> count;
  return flow;
}

TEST(PerThread, EachThreadHasItsOwnInstanceAndCombineSeesThemAll) {
  Recorder recorder;
  Context ctx;
  ctx.per_thread<Counter>();
  Flow flow("isolated");
  auto src = flow.source("numbers", std::views::iota(0, 20000));
  auto count = flow.node("count",
                         [&](int, Counter& c) {
                           recorder.saw(&c);
                           ++c.n;
                         },
                         {.concurrency = unlimited});
  src >> count;

  const std::size_t threads = 4;
  flow.run(ctx, {.threads = threads, .batch_size = 16});

  for (const auto& [instance, seen_by] : recorder.threads_of)
    EXPECT_EQ(seen_by.size(), 1u) << "an instance was used by two threads";
  EXPECT_LE(ctx.instances<Counter>(), threads);
  EXPECT_EQ(ctx.instances<Counter>(), recorder.threads_of.size());
  long visited = 0;
  ctx.each<Counter>([&](const Counter& c) { visited += c.n; });
  EXPECT_EQ(visited, 20000);
  const Counter total =
      ctx.combine<Counter>([](Counter a, const Counter& b) { return Counter{a.n + b.n}; });
  EXPECT_EQ(total.n, 20000);
}

TEST(PerThread, AFreshContextStartsFromFreshState) {
  Flow flow = counting_flow(1000);
  Context first;
  first.per_thread<Counter>();
  flow.run(first);
  flow.run(first);  // the same context keeps its instances: they add up
  long twice = 0;
  first.each<Counter>([&](const Counter& c) { twice += c.n; });
  EXPECT_EQ(twice, 2000);

  Context second;
  second.per_thread<Counter>();
  flow.run(second);
  long once = 0;
  second.each<Counter>([&](const Counter& c) { once += c.n; });
  EXPECT_EQ(once, 1000);
}

TEST(Shared, ANonThreadSafeCounterStaysExact) {
  Context ctx;
  ctx.shared<RacyCounter>();
  Flow flow("shared");
  auto src = flow.source("numbers", std::views::iota(0, 5000));
  auto add = flow.node("add", [](int, RacyCounter& c) { c.add(); }, {.concurrency = unlimited});
  src >> add;
  const RunReport report = flow.run(ctx, {.threads = 4, .batch_size = 8});

  const ResourceStats stats = ctx.stats().front();
  EXPECT_EQ(stats.kind, ProviderKind::shared);
  EXPECT_EQ(stats.acquisitions, 5000u);  // one lock per call
  EXPECT_EQ(report.node("add").waits, stats.waits);
  long value = -1;  // the instance is reachable only through nodes: read it with one more run
  Flow read("read");
  auto one = read.source("one", std::views::iota(0, 1));
  auto get = read.node("get", [&value](int, RacyCounter& c) { value = c.value; });
  one >> get;
  read.run(ctx);
  EXPECT_EQ(value, 5000);
}

TEST(SharedConcurrent, OneInstanceAndNoLock) {
  Recorder recorder;
  Context ctx;
  ctx.shared_concurrent<std::atomic<long>>();
  Flow flow("concurrent");
  auto src = flow.source("numbers", std::views::iota(0, 5000));
  auto add = flow.node("add",
                       [&](int, std::atomic<long>& c) {
                         recorder.saw(&c);
                         ++c;
                       },
                       {.concurrency = unlimited});
  src >> add;
  const RunReport report = flow.run(ctx, {.threads = 4});
  EXPECT_EQ(recorder.threads_of.size(), 1u);  // one instance for everyone
  const ResourceStats stats = ctx.stats().front();
  EXPECT_EQ(stats.acquisitions, 0u);  // no lock was ever taken
  EXPECT_EQ(report.node("add").waits, 0u);
}

TEST(Pooled, NeverMoreLeasesThanTheCapacityAndResetOnReturn) {
  struct Connection {
    int resets = 0;
  };
  std::atomic<int> in_use{0}, peak{0}, resets{0};
  Context ctx;
  ctx.pooled<Connection>(3, PoolSettings<Connection>{.reset = [&](Connection& c) {
                           ++c.resets;
                           ++resets;
                         }});
  Flow flow("pooled");
  auto src = flow.source("numbers", std::views::iota(0, 3000));
  auto use = flow.node("use",
                       [&](int, Connection&) {
                         const int now = ++in_use;
                         int seen = peak.load();
                         while (now > seen && !peak.compare_exchange_weak(seen, now)) {
                         }
                         std::this_thread::yield();
                         --in_use;
                       },
                       {.concurrency = unlimited});
  src >> use;
  flow.run(ctx, {.threads = 8, .batch_size = 4});
  EXPECT_LE(peak.load(), 3);
  EXPECT_EQ(resets.load(), 3000);  // every lease ends with a reset
  EXPECT_LE(ctx.instances<Connection>(), 3u);
}

TEST(Pooled, ALeaseParameterGetsThePoolsLease) {
  Context ctx;
  ctx.pooled<std::string>(2, [] { return std::string("conn"); });
  Flow flow("lease");
  std::atomic<int> discarded{0};
  auto src = flow.source("numbers", std::views::iota(0, 100));
  auto use = flow.node("use", [&](int x, Lease<std::string>& conn) {
    EXPECT_EQ(*conn, "conn");
    if (x % 10 == 0) {
      conn.discard();  // a broken connection: the pool makes a new one later
      ++discarded;
    }
  });
  src >> use;
  flow.run(ctx);
  EXPECT_EQ(discarded.load(), 10);
  EXPECT_LE(ctx.instances<std::string>(), 2u);
}

TEST(PerCall, AFreshInstanceForEveryCall) {
  Tracked::alive = 0;
  Tracked::made = 0;
  Context ctx;
  ctx.per_call<Tracked>();
  Flow flow("per_call");
  std::set<const Tracked*> seen;
  auto src = flow.source("numbers", std::views::iota(0, 500));
  auto use = flow.node("use", [&](int, Tracked& t) {
    EXPECT_EQ(Tracked::alive.load(), 1);  // only this call's instance is alive (serial node)
    seen.insert(&t);
  });
  src >> use;
  flow.run(ctx);
  EXPECT_EQ(Tracked::made.load(), 500);
  EXPECT_EQ(Tracked::alive.load(), 0);  // each destroyed when its call ended
}

TEST(Lifetimes, SharedAndPerThreadInstancesLiveAsLongAsTheContext) {
  Tracked::alive = 0;
  Tracked::made = 0;
  {
    Context ctx;
    ctx.shared<Tracked>();
    EXPECT_EQ(Tracked::alive.load(), 1);  // made when bound
    Flow flow("lifetime");
    auto src = flow.source("numbers", std::views::iota(0, 100));
    auto use = flow.node("use", [](int, Tracked&) {});
    src >> use;
    flow.run(ctx);
    flow.run(ctx);
    EXPECT_EQ(Tracked::made.load(), 1);  // the same one across runs
  }
  EXPECT_EQ(Tracked::alive.load(), 0);  // destroyed with the context
}

struct Config {
  int threshold = 0;
};

TEST(Value, AGivenObjectIsReadByNodes) {
  Context ctx;
  ctx.value(Config{.threshold = 50});
  Flow flow("value");
  std::vector<int> kept;
  auto src = flow.source("numbers", std::views::iota(0, 100));
  auto above = flow.node("above", [](int x, const Config& c) -> std::optional<int> {
    if (x < c.threshold) return std::nullopt;
    return x;
  });
  auto sink = flow.node("collect", [&kept](int x) { kept.push_back(x); });
  src >> above >> sink;
  flow.run(ctx);
  EXPECT_EQ(kept.size(), 50u);
}

struct Database {
  std::string host;
};

TEST(Named, TwoBindingsOfOneTypeAreToldApartByName) {
  Context ctx;
  ctx.shared<Database>("primary", [] { return Database{"db-1"}; });
  ctx.shared<Database>("replica", [] { return Database{"db-2"}; });
  Flow flow("named");
  std::vector<std::string> hosts;
  auto src = flow.source("numbers", std::views::iota(0, 1));
  auto use = flow.node("use", [&](int, Named<Database, "primary"> p, Named<Database, "replica"> r) {
    hosts = {p->host, r->host};
  });
  src >> use;
  flow.run(ctx);
  EXPECT_EQ(hosts, (std::vector<std::string>{"db-1", "db-2"}));
}

TEST(Resources, OneToManyNodesTakeResourcesBeforeTheEmitter) {
  Context ctx;
  ctx.value(std::string(" "));
  Flow flow("split");
  std::vector<std::string> words;
  auto src = flow.source("lines", std::vector<std::string>{"a b", "c"});
  auto split = flow.node("split", [](const std::string& line, const std::string& separator,
                                     Emitter<std::string>& emit) {
    std::size_t start = 0;
    for (auto at = line.find(separator); at != std::string::npos;
         at = line.find(separator, start)) {
      emit(line.substr(start, at - start));
      start = at + separator.size();
    }
    emit(line.substr(start));
  });
  auto sink = flow.node("collect", [&](std::string w) { words.push_back(w); }, {.ordered = true});
  src >> split >> sink;
  flow.run(ctx);
  EXPECT_EQ(words, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Resources, MissingAndMismatchedBindingsAreFlowErrorsBeforeAnyDataMoves) {
  Context ctx;
  ctx.value(Config{});
  ctx.per_thread<Counter>();
  Flow flow("bad_bindings");
  std::atomic<int> calls{0};
  auto src = flow.source("numbers", std::views::iota(0, 10));
  auto a = flow.node("needs_database", [&](int x, Database&) {
    ++calls;
    return x;
  });
  auto b = flow.node("changes_config", [&](int x, Config&) {
    ++calls;
    return x;
  });
  auto c = flow.node("leases_counter", [&](int, Lease<Counter>&) { ++calls; });
  src >> a >> b >> c;
  try {
    flow.run(ctx);
    FAIL() << "expected a FlowError";
  } catch (const FlowError& e) {
    const std::string what = e.what();
    const std::string database = detail::type_name(typeid(Database));
    const std::string config = detail::type_name(typeid(Config));
    const std::string counter = detail::type_name(typeid(Counter));
    EXPECT_NE(what.find("node 'needs_database' needs " + database + ", but the context binds no " +
                        database),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("node 'changes_config' takes " + config + "& to change it, but " + config +
                        " is bound as value(), which is read-only: take const " + config + "&"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("node 'leases_counter' takes Lease<" + counter + ">&, but " + counter +
                        " is bound per_thread: a lease needs a pooled binding"),
              std::string::npos)
        << what;
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST(Resources, BindingOneTypeTwiceIsAnError) {
  Context ctx;
  ctx.per_thread<Counter>();
  try {
    ctx.shared<Counter>();
    FAIL() << "expected a ContextError";
  } catch (const ContextError& e) {
    EXPECT_NE(std::string(e.what()).find("already binds " + detail::type_name(typeid(Counter)) +
                                         " (bound per_thread)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_NO_THROW(ctx.shared<Counter>("other"));  // under a name, it is another resource
  EXPECT_THROW(ctx.each<Counter>([](Counter&) {}, "other"), ContextError);  // not per_thread
}

TEST(Resources, SwappingTheContextChangesNoNodeCode) {
  Flow flow = counting_flow(3000);
  Context isolated;
  isolated.per_thread<Counter>();
  Context shared;
  shared.shared<Counter>();
  flow.run(isolated, {.threads = 2});
  flow.run(shared, {.threads = 2});
  long total = 0;
  isolated.each<Counter>([&](const Counter& c) { total += c.n; });
  EXPECT_EQ(total, 3000);
  EXPECT_EQ(shared.stats().front().acquisitions, 3000u);
}

}  // namespace
}  // namespace aetherflow

namespace aetherflow {
namespace {

struct First {
  long n = 0;
};
struct Second {
  long n = 0;
};

// Two nodes naming the same two shared resources in opposite orders: taking their locks in
// declaration order could deadlock; the framework takes them in one global order.
TEST(Shared, TwoResourcesInOppositeOrdersNeverDeadlock) {
  Context ctx;
  ctx.shared<First>();
  ctx.shared<Second>();
  Flow flow("lock_order");
  auto src = flow.source("numbers", std::views::iota(0, 20000));
  auto ab = flow.node("ab",
                      [](int x, First& a, Second& b) {
                        ++a.n;
                        std::this_thread::yield();
                        ++b.n;
                        return x;
                      },
                      {.concurrency = unlimited});
  auto ba = flow.node("ba",
                      [](int x, Second& b, First& a) {
                        ++b.n;
                        std::this_thread::yield();
                        ++a.n;
                        return x;
                      },
                      {.concurrency = unlimited});
  auto sink = flow.node("sink", [](int) {});
  auto sink2 = flow.node("sink2", [](int) {});
  src >> fan_out(ab, ba);
  ab >> sink;
  ba >> sink2;
  flow.run(ctx, {.threads = 4, .batch_size = 4});
  long a = 0, b = 0;
  Flow read("read");
  auto one = read.source("one", std::views::iota(0, 1));
  auto get = read.node("get", [&](int, const First& f, const Second& s) {
    a = f.n;
    b = s.n;
  });
  one >> get;
  read.run(ctx);
  EXPECT_EQ(a, 40000);  // both nodes, every item, no update lost
  EXPECT_EQ(b, 40000);
}

}  // namespace
}  // namespace aetherflow
