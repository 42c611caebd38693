// Text form of a Status, for logs, history details and error messages.
#include "core/status.h"

namespace rehearse {

std::string Status::to_string() const {
  const char* name = "ok";
  switch (code_) {
    case Code::ok: return "ok";
    case Code::stale_token: name = "stale token"; break;
    case Code::timeout: name = "timeout"; break;
    case Code::unavailable: name = "unavailable"; break;
    case Code::conflict: name = "conflict"; break;
    case Code::invalid: name = "invalid"; break;
    case Code::failed: name = "failed"; break;
  }
  return message_.empty() ? std::string(name) : std::string(name) + ": " + message_;
}

}  // namespace rehearse
