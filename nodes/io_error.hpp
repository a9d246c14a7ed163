#pragma once

#include <flow/errors.hpp>

namespace aetherflow {

// A file that cannot be opened or read. The message names the path, the reason (errno text)
// and, for errors in the middle of a file, the byte offset or line number.
class IoError : public Error {
 public:
  using Error::Error;
};

}  // namespace aetherflow
