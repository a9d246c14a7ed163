#include <flow/exchange.hpp>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

namespace aetherflow {
namespace {

enum Kind : std::uint32_t { kItems = 0, kEnd = 1 };

struct Header {
  std::uint32_t kind = kItems;
  std::uint32_t items = 0;
  std::uint64_t run = 0;
};
static_assert(sizeof(Header) == 16);

void write_header(Bytes& bytes, Kind kind, std::size_t items, std::uint64_t run) {
  const Header header{kind, static_cast<std::uint32_t>(items), run};
  std::memcpy(bytes.data(), &header, sizeof header);
}

}  // namespace

Exchange::Exchange(const ClusterPlace& place, ExchangeLimits limits)
    : cluster_(*place.cluster),
      rank_(place.rank),
      ranks_(place.ranks),
      channel_(place.channel),
      stop_(place.stop),
      run_(place.run),
      limits_(limits),
      out_(std::make_unique<Outgoing[]>(place.ranks)),
      credits_(std::make_shared<Credits>()),
      inbox_(place.ranks),
      ended_(place.ranks, false) {
  credits_->in_flight.assign(ranks_, 0);
  cluster_.open(channel_, *this);
}

Exchange::~Exchange() {
  cluster_.close(channel_, *this);
}

std::shared_ptr<Bytes> Exchange::take_buffer(Outgoing& o) {
  std::shared_ptr<Bytes> full;
  {
    const std::lock_guard lock(credits_->mutex);
    auto& spare = credits_->spare;
    // A spare the transport still holds (its send just completed) is left for later.
    const auto it =
        std::find_if(spare.begin(), spare.end(), [](const auto& b) { return b.use_count() == 1; });
    if (it != spare.end()) {
      full = std::move(*it);
      spare.erase(it);
    }
  }
  if (!full) full = std::make_shared<Bytes>();
  full->swap(o.bytes);
  write_header(*full, kItems, o.items, run_);
  o.bytes.clear();
  o.items = 0;
  return full;
}

void Exchange::send(std::size_t to, std::shared_ptr<Bytes> bytes, const Help& help) {
  {
    std::unique_lock lock(credits_->mutex);
    std::optional<Cluster::Waiting> waiting;
    while (credits_->in_flight[to] >= limits_.sends_in_flight && !stopping()) {
      if (!waiting) waiting.emplace(cluster_);
      lock.unlock();
      if (help) help();
      lock.lock();
      if (credits_->in_flight[to] >= limits_.sends_in_flight)
        credits_->returned.wait_for(lock, std::chrono::milliseconds(1));
    }
    ++credits_->in_flight[to];
  }
  std::shared_ptr<const Bytes> sending = bytes;
  cluster_.send(to, channel_, std::move(sending),
                [credits = credits_, to, spare = std::move(bytes),
                 most = limits_.sends_in_flight * ranks_]() mutable {
                  {
                    const std::lock_guard lock(credits->mutex);
                    --credits->in_flight[to];
                    if (credits->spare.size() < most) credits->spare.push_back(std::move(spare));
                  }
                  credits->returned.notify_all();
                });
}

void Exchange::send_all(const Help& help) {
  for (std::size_t to = 0; to < ranks_; ++to) {
    std::shared_ptr<Bytes> full;
    {
      const std::lock_guard lock(out_[to].mutex);
      if (out_[to].items > 0) full = take_buffer(out_[to]);
    }
    if (full) send(to, std::move(full), help);
  }
}

void Exchange::end_stream(const Help& help) {
  send_all(help);
  for (std::size_t to = 0; to < ranks_; ++to) {
    if (to == rank_) continue;
    auto end = std::make_shared<Bytes>(kHeader);
    write_header(*end, kEnd, 0, run_);
    send(to, std::move(end), help);
  }
}

bool Exchange::has_room() const {
  const std::lock_guard lock(inbox_mutex_);
  return limits_.inbox == 0 || inbox_size_ < limits_.inbox;
}

void Exchange::deliver(std::size_t from, Bytes bytes) {
  Header header;
  if (bytes.size() >= kHeader) std::memcpy(&header, bytes.data(), sizeof header);
  if (header.run != run_) return;  // what a previous run on this channel left on its way
  {
    const std::lock_guard lock(inbox_mutex_);
    if (header.kind == kEnd) {
      if (!ended_[from]) ++ends_;
      ended_[from] = true;
    } else {
      inbox_[from].push_back(
          {from, std::make_shared<const Bytes>(std::move(bytes)), kHeader, header.items});
      ++inbox_size_;
    }
  }
  arrived_.notify_all();
}

std::optional<Exchange::Message> Exchange::take(std::optional<std::size_t> from) {
  const std::lock_guard lock(inbox_mutex_);
  for (std::size_t k = 0; k < ranks_; ++k) {
    const std::size_t r = from ? *from : (next_from_ + k) % ranks_;
    if (inbox_[r].empty()) {
      if (from) break;
      continue;
    }
    Message m = std::move(inbox_[r].front());
    inbox_[r].pop_front();
    --inbox_size_;
    next_from_ = r + 1;
    return m;
  }
  return std::nullopt;
}

void Exchange::wait(std::chrono::milliseconds timeout, std::optional<std::size_t> from) {
  const Cluster::Waiting waiting(cluster_);
  std::unique_lock lock(inbox_mutex_);
  arrived_.wait_for(lock, timeout, [&] {
    if (stopping()) return true;
    if (from) return !inbox_[*from].empty() || ended_[*from];
    return inbox_size_ > 0 || ends_ + 1 >= ranks_;
  });
}

bool Exchange::ended(std::optional<std::size_t> from) const {
  const std::lock_guard lock(inbox_mutex_);
  if (from) return ended_[*from] && inbox_[*from].empty();
  return ends_ + 1 >= ranks_ && inbox_size_ == 0;
}

std::uint64_t Exchange::items_held() const {
  std::uint64_t held = 0;
  for (std::size_t to = 0; to < ranks_; ++to) {
    const std::lock_guard lock(out_[to].mutex);
    held += out_[to].items;
  }
  const std::lock_guard lock(inbox_mutex_);
  for (const auto& queue : inbox_)
    for (const auto& m : queue) held += m.items;
  return held;
}

}  // namespace aetherflow
