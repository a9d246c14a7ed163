#pragma once
// Everything a user of AetherFlow needs, in one include.

#include <flow/emitter.hpp>
#include <flow/errors.hpp>
#include <flow/flow.hpp>
#include <flow/node.hpp>
#include <flow/options.hpp>
#include <flow/report.hpp>
