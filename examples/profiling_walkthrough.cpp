// A profiling walk-through: a review-scoring flow with a hidden hot spot. Every node looks
// cheap, but 'normalize' runs a regular expression through one shared, non-thread-safe
// formatter, so its calls take turns on a lock. The profile finds it, says why, and what to do.
//
//   aetherflow-examples profiling_walkthrough [--size REVIEWS] [--threads T]
//                                             [--profile-dir DIR] [--per-thread]
//
// --per-thread follows the profile's advice: the Formatter bound per_thread instead.
//
// Writes DIR/reviews.trace.json (open in https://ui.perfetto.dev or chrome://tracing),
// DIR/reviews.dot and, when Graphviz is installed, DIR/reviews.svg (default DIR: profile-out).

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

#include <examples/example.hpp>

namespace aetherflow::examples {

// Lower-cases and strips punctuation with a regular expression. Holds a compiled regex and a
// scratch string: not thread-safe, so the context binds it `shared` and calls take turns.
struct Formatter {
  std::regex punctuation{"[^a-z0-9 /]+"};
  std::string scratch;
  std::string normalize(std::string_view text) {
    scratch.assign(text);
    for (char& c : scratch) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return std::regex_replace(scratch, punctuation, "");
  }
};

namespace {

// Reviews like "Product 12: GREAT value!!! would buy again :) 5/5".
class Reviews {
 public:
  explicit Reviews(long n) : left_(n) {}
  std::optional<std::string> operator()() {
    static constexpr std::string_view words[] = {"GREAT", "value", "poor",  "fast",  "shipping",
                                                 "would", "buy",   "again", "never", "love"};
    if (left_-- == 0) return std::nullopt;
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    std::string review = "Product " + std::to_string(state_ % 100) + ":";
    for (int i = 0; i < 8; ++i) (review += ' ') += words[(state_ >> (i * 4)) % 10];
    return review + "!!! " + std::to_string(1 + state_ % 5) + "/5";
  }

 private:
  long left_;
  unsigned long long state_ = 7;
};

struct Scored {
  std::string text;
  int stars = 0;
  int score = 0;
};

int run(const CommonOptions& options, bool per_thread) {
  const auto reviews = static_cast<long>(options.size);
  const std::string out = options.profile_dir.empty() ? "profile-out" : options.profile_dir;
  aetherflow::Flow flow("reviews");
  auto source = flow.source("reviews", Reviews(reviews));
  auto normalize =
      flow.node("normalize", [](const std::string& r, Formatter& f) { return f.normalize(r); },
                {.concurrency = aetherflow::unlimited});
  auto stars = flow.node("stars", [](std::string text) {
    const auto slash = text.rfind('/');
    const int n = slash == std::string::npos ? 0 : text[slash - 1] - '0';
    return Scored{std::move(text), n, 0};
  });
  auto score = flow.node("score", [](Scored s) {
    for (std::string_view good : {"great", "love", "fast"})
      for (auto at = s.text.find(good); at != std::string::npos; at = s.text.find(good, at + 1))
        ++s.score;
    s.score += s.stars;
    return s;
  });
  long total = 0;
  auto sum = flow.node("total", [&total](const Scored& s) { total += s.score; });
  source >> normalize >> stars >> score >> sum;

  aetherflow::Context ctx;
  if (per_thread)
    ctx.per_thread<Formatter>();  // the fix the profile advises: one formatter per thread
  else
    ctx.shared<Formatter>();  // the hidden hot spot: one formatter, every call takes its lock

  RunOptions run = run_options(options, "reviews");
  run.profile = true;
  const aetherflow::RunReport report = flow.run(ctx, run);
  const aetherflow::Profile& profile = *report.profile;
  std::cout << "total score " << total << "\n\n" << profile << "\n";

  for (const auto& clause :
       aetherflow::check(profile, {.max_p99_latency_ns = 50'000'000, .min_items_per_second = 1e5}))
    std::cout << "SLA " << clause.name << ": " << clause.text << "\n";

  write_profile(flow, profile, out);  // reviews.profile.json, .trace.json, .prom, .dot
  std::cout << "\ntrace: " << out << "/reviews.trace.json (open in https://ui.perfetto.dev)\n";
  if (std::system(
          ("dot -Tsvg " + out + "/reviews.dot -o " + out + "/reviews.svg 2>/dev/null").c_str()) ==
      0)
    std::cout << "graph: " << out << "/reviews.svg\n";
  else
    std::cout << "graph: " << out << "/reviews.dot (install graphviz for the SVG)\n";
  // Expensive either way; contended if shared.
  return profile.hot_spot == "normalize" ? kExitOk : kExitWrongResult;
}

}  // namespace

Example profiling_walkthrough() {
  return {"profiling_walkthrough",
          "a hidden hot spot (a regex behind a shared lock) found by the profiler; writes the "
          "trace and a heat-coloured graph",
          false,
          "reviews",
          20'000,
          [](CLI::App& app) -> ExampleMain {
            auto per_thread = std::make_shared<bool>(false);
            app.add_flag("--per-thread", *per_thread,
                         "apply the profile's advice: a Formatter per thread, not one shared");
            return [per_thread](const CommonOptions& o) { return run(o, *per_thread); };
          }};
}

}  // namespace aetherflow::examples
