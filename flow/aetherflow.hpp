#pragma once
// Everything a user of AetherFlow needs, in one include.

#include <contexts/buffer_pool.hpp>
#include <contexts/context.hpp>
#include <contexts/object_pool.hpp>
#include <flow/async.hpp>
#include <flow/checkpoint.hpp>
#include <flow/completion.hpp>
#include <flow/dead_letter.hpp>
#include <flow/emitter.hpp>
#include <flow/errors.hpp>
#include <flow/flow.hpp>
#include <flow/node.hpp>
#include <flow/options.hpp>
#include <flow/report.hpp>
#include <flow/source.hpp>
#include <flow/tune.hpp>
#include <nodes/batch.hpp>
#include <nodes/cache.hpp>
#include <nodes/keyed.hpp>
#include <nodes/partition.hpp>
#include <nodes/progress_bar.hpp>
#include <nodes/read_chunks.hpp>
#include <nodes/read_lines.hpp>
#include <nodes/sinks.hpp>
#include <nodes/throttle.hpp>
#include <nodes/top_k.hpp>
