#include <flow/detail/run/sources.hpp>

#include <algorithm>

namespace aetherflow::detail {
namespace {
// A source that runs on another rank of the cluster emits nothing here.
class NoItems final : public SourceCursor {
 public:
  BatchHandle next(std::size_t, BatchPool&) override { return {}; }
};
}  // namespace

SourceGate::SourceGate(Checkpointer* checkpointer, std::size_t source, std::size_t batch_size,
                       const AutoBatchSize& sizing)
    : checkpointer_(checkpointer), source_(source), batch_size_(batch_size) {
  if (batch_size == 0) sizer_.emplace(sizing);
}

Ref<InFlightToken> SourceGate::token(std::uint64_t seq, std::uint64_t first_item,
                                     std::uint64_t items, std::shared_ptr<const void> keep,
                                     std::uint64_t emitted) {
  InFlightToken* token = spent_.take();
  if (!token) token = new InFlightToken();
  token->reset(this, seq, first_item, items, std::move(keep), emitted);
  return Ref<InFlightToken>(token);
}

// On the thread that released the batch's last part, often inside a oneTBB task after the
// node's call ended: the run's end is ordered after it (for ThreadSanitizer: tsan.hpp).
void SourceGate::batch_done(std::uint64_t seq, const BatchCost& cost) noexcept {
  if (sizer_) sizer_->batch_done(cost);
  if (checkpointer_) checkpointer_->done(source_, seq);
  if (open_.load(std::memory_order_acquire)) {
    try {
      limiter_->decrementer().try_put(tf::continue_msg());
    } catch (...) {
      // Only a cancelled graph refuses the message, and then nothing waits for it.
    }
  }
  hand_over(this);
}

Wired Sources::wire(GraphNodes& graph, const NodeRuntime& rt) {
  const std::size_t number = gates_.size();
  auto& gate = gates_.emplace_back(checkpointer_, number, settings_.batch_size, settings_.sizing);
  auto& published = progress_.add_source();
  const ResumePoint start = checkpointer_ ? checkpointer_->start(number) : ResumePoint{};
  // Like every failure of a node during a run, one to open its input is a NodeError naming
  // it, with the cause (an IoError, say) nested.
  std::shared_ptr<SourceCursor> cursor;
  try {
    const std::optional<Shard> share =
        share_of(rt.node->on_ranks(), settings_.rank, settings_.ranks);
    cursor = share ? std::shared_ptr<SourceCursor>(rt.node->open(start, *share))
                   : std::make_shared<NoItems>();
  } catch (...) {
    std::throw_with_nested(NodeError(rt.node->name(), start.items, describe_current_exception(),
                                     NodeError::Stage::open));
  }
  cursor->configure({settings_.options.max_batch_delay, &state_.sources_stop_flag()});
  auto body = [this, &rt, &gate, &published, cursor, number, start, seq = std::uint64_t{0},
               emitted_items = std::uint64_t{0}](oneapi::tbb::flow_control& fc) mutable -> Msg {
    // oneTBB runs a source's body one call at a time, on any thread.
    take_over(cursor.get());
    struct Handover {
      const void *cursor, *calls_ended;
      ~Handover() {
        hand_over(cursor);
        hand_over(calls_ended);
      }
    } handover{cursor.get(), calls_.calls_ended_marker()};
    Msg batch;
    std::uint64_t emitted = 0;
    const bool stopped = state_.sources_stopping();
    // RunOptions::max_items: the sample ends here, like the input would.
    const std::size_t size = gate.batch_size();
    const std::uint64_t max_items = settings_.options.max_items;
    const std::uint64_t left = max_items ? max_items - emitted_items : size;
    const std::uint64_t read_began = gate.times_calls() ? CallClock::now() : 0;
    if (!stopped && left > 0)
      emitted = calls_.guarded(rt, {emitted_items}, [&](CallContext&) {
        try {
          batch = cursor->next(std::min<std::uint64_t>(size, left), batches_);
        } catch (...) {  // a read error: the sources stop, and the run drains what they made
          state_.fail_source(rt.node->name(), emitted_items, describe_current_exception());
        }
      });
    if (!batch) {
      // The end of its input, unless the source failed or the sources stopped before.
      if (checkpointer_ && !state_.sources_stopping() && left > 0) checkpointer_->exhausted(number);
      fc.stop();
      return {};
    }
    const SourcePosition position = cursor->position();
    const std::size_t items = batch->slots.size();
    batch->token = gate.token(seq, emitted_items, items, std::move(batch->keep), emitted);
    if (gate.times_calls())  // the read is the batch's first call
      batch->token->add_call(CallClock::ns(CallClock::now() - read_began));
    emitted_items += items;
    if (checkpointer_)
      checkpointer_->emitted(number, {position.bytes, start.items + emitted_items});
    batch->seq = seq++;
    // Hands the batch over to the graph (tsan.hpp): its contents are not read after this, as
    // a node may already be filtering it in place.
    Calls::prepare_outputs(rt, {&batch, 1}, emitted);
    ItemCounts sent;
    sent.out = items;
    rt.counts->add(sent);
    published.publish(items, position);
    progress_.maybe_report();
    return batch;
  };
  auto& input = graph.make<tf::input_node<Msg>>(std::move(body));
  auto& limiter = graph.make<tf::limiter_node<Msg>>(settings_.in_flight);
  gate.attach(limiter);
  tf::make_edge(input, limiter);
  inputs_.push_back(&input);
  return {{}, {&limiter}};
}

void Sources::activate() {
  for (auto* input : inputs_) input->activate();
}

void Sources::close() noexcept {
  for (const auto& g : gates_) take_over(&g);
  for (auto& g : gates_) g.close();
}

std::optional<std::size_t> Sources::first_batch_size() const {
  if (gates_.empty()) return std::nullopt;
  return gates_.front().batch_size();
}

}  // namespace aetherflow::detail
