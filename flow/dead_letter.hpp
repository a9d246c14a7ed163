#pragma once
// What a node with OnError::dead_letter sends on its dead-letter port for each item that
// failed: connect it with `node.dead_letters() >> sink`.

#include <cstddef>
#include <string>

namespace aetherflow {

template <class T>
struct DeadLetter {
  T item;                // the item as the node received it
  std::string node;      // the node that failed on it
  std::string error;     // the exception's type and message
  std::size_t attempts;  // calls made on the item, retries included
};

}  // namespace aetherflow
