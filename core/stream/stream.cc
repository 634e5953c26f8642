// Stream: names of event types.
#include "core/stream/stream.h"

namespace rtsptest::core {

const char* StreamEventTypeName(StreamEvent::Type type) {
  switch (type) {
    case StreamEvent::Type::kCreated:
      return "created";
    case StreamEvent::Type::kCreateFailed:
      return "create_failed";
    case StreamEvent::Type::kStateChanged:
      return "state_changed";
    case StreamEvent::Type::kRemoved:
      return "removed";
  }
  return "unknown";
}

}  // namespace rtsptest::core
