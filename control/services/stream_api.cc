// StreamApi (see header).
#include "control/services/stream_api.h"

#include <map>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "control/services/listener_url.h"
#include "control/services/stream_report.h"
#include "control/services/stream_update.h"
#include "google/protobuf/util/message_differencer.h"

namespace rtsptest::control {
namespace {

// Page tokens are the last path of the previous page, base64 (web-safe) so
// that callers treat them as opaque.
std::string EncodeToken(absl::string_view last_path) {
  return absl::WebSafeBase64Escape(last_path);
}

absl::StatusOr<std::string> DecodeToken(absl::string_view token) {
  std::string path;
  if (!absl::WebSafeBase64Unescape(token, &path) || path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("page_token: '", absl::CHexEscape(token),
                                                   "' is not a token from a previous page"));
  }
  return path;
}

absl::Status CheckPath(absl::string_view path, absl::string_view field) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": is empty"));
  return absl::OkStatus();
}

v1::ApplyResult Failed(const std::string& path, const absl::Status& status) {
  v1::ApplyResult result;
  result.set_path(path);
  result.set_action(v1::ApplyResult::FAILED);
  result.set_code(static_cast<int32_t>(status.code()));
  result.set_message(std::string(status.message()));
  return result;
}

v1::ApplyResult Done(const std::string& path, v1::ApplyResult::Action action) {
  v1::ApplyResult result;
  result.set_path(path);
  result.set_action(action);
  return result;
}

}  // namespace

StreamApi::StreamApi(core::StreamManager* streams, const config::v1::ServerConfig* config,
                     std::vector<const core::RtspListener*> listeners, StateStore* state)
    : streams_(streams), config_(config), listeners_(std::move(listeners)), state_(state) {}

absl::Status StreamApi::Persist(const std::vector<std::string>& paths) {
  if (state_ == nullptr || paths.empty()) return absl::OkStatus();
  absl::Status status = state_->Record(paths, *streams_);
  if (status.ok()) return status;
  return absl::InternalError(absl::StrCat(
      "the change is in effect but was not saved, so a restart would lose it: ", status.message()));
}

absl::Status StreamApi::Validate(const config::v1::Stream& spec, absl::string_view field) const {
  return config::ConfigValidator().ValidateStream(*config_, spec, field);
}

v1::StreamStatus StreamApi::ToStatus(const core::Stream& stream,
                                     absl::string_view caller_host) const {
  v1::StreamStatus status;
  *status.mutable_spec() = stream.spec;
  // Method and username stay: they say how to connect. The password never
  // leaves the server.
  if (status.spec().has_auth()) status.mutable_spec()->mutable_auth()->clear_password();
  FillStreamReport(stream, status.mutable_report());
  for (const std::string& name : stream.status.listeners) {
    for (const core::RtspListener* listener : listeners_) {
      if (listener->name() == name) {
        status.add_urls(absl::StrCat(ListenerUrl(*listener, caller_host), stream.path()));
      }
    }
  }
  return status;
}

absl::StatusOr<v1::ListStreamsResponse> StreamApi::List(const v1::ListStreamsRequest& request,
                                                        absl::string_view caller_host) const {
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat("page_size: ", request.page_size(),
                                                   " is out of range (0..", kMaxPageSize,
                                                   "; 0 = ", kDefaultPageSize, ")"));
  }
  const size_t page_size =
      static_cast<size_t>(request.page_size() == 0 ? kDefaultPageSize : request.page_size());
  std::string after;
  if (!request.page_token().empty()) {
    absl::StatusOr<std::string> decoded = DecodeToken(request.page_token());
    if (!decoded.ok()) return decoded.status();
    after = *std::move(decoded);
  }
  v1::ListStreamsResponse response;
  // List() is ordered by path.
  std::vector<core::Stream> streams = streams_->List();
  size_t taken = 0;
  bool more = false;
  for (const core::Stream& stream : streams) {
    if (!after.empty() && stream.path() <= after) continue;
    if (taken == page_size) {
      more = true;
      break;
    }
    *response.add_streams() = ToStatus(stream, caller_host);
    ++taken;
  }
  if (more) {
    response.set_next_page_token(
        EncodeToken(response.streams(response.streams_size() - 1).spec().path()));
  }
  return response;
}

absl::StatusOr<v1::StreamStatus> StreamApi::Get(absl::string_view path,
                                                absl::string_view caller_host) const {
  if (absl::Status status = CheckPath(path, "path"); !status.ok()) return status;
  absl::StatusOr<core::Stream> stream = streams_->Get(path);
  if (!stream.ok()) return stream.status();
  return ToStatus(*stream, caller_host);
}

absl::StatusOr<v1::StreamStatus> StreamApi::Create(const config::v1::Stream& spec,
                                                   absl::string_view caller_host) {
  if (absl::Status status = Validate(spec, "stream"); !status.ok()) return status;
  if (absl::Status status = streams_->Create(spec); !status.ok()) return status;
  if (absl::Status status = Persist({spec.path()}); !status.ok()) return status;
  return Get(spec.path(), caller_host);
}

absl::StatusOr<v1::StreamStatus> StreamApi::Update(const v1::UpdateStreamRequest& request,
                                                   absl::string_view caller_host) {
  const std::string& path = request.stream().path();
  if (absl::Status status = CheckPath(path, "stream.path"); !status.ok()) return status;
  absl::StatusOr<core::Stream> current = streams_->Get(path);
  if (!current.ok()) return current.status();
  absl::StatusOr<config::v1::Stream> merged =
      ApplyUpdateMask(current->spec, request.stream(), request.update_mask());
  if (!merged.ok()) return merged.status();
  if (absl::Status status = Validate(*merged, "stream"); !status.ok()) return status;
  if (!google::protobuf::util::MessageDifferencer::Equals(*merged, current->spec)) {
    if (absl::Status status = streams_->Replace(*merged); !status.ok()) return status;
    if (absl::Status status = Persist({path}); !status.ok()) return status;
  }
  return Get(path, caller_host);
}

absl::Status StreamApi::Delete(absl::string_view path) {
  if (absl::Status status = CheckPath(path, "path"); !status.ok()) return status;
  if (absl::Status status = streams_->Remove(path); !status.ok()) return status;
  return Persist({std::string(path)});
}

v1::ApplyResult StreamApi::Upsert(const config::v1::Stream& spec, absl::string_view field) {
  if (absl::Status status = Validate(spec, field); !status.ok()) {
    return Failed(spec.path(), status);
  }
  absl::StatusOr<core::Stream> current = streams_->Get(spec.path());
  if (!current.ok()) {
    if (!absl::IsNotFound(current.status())) return Failed(spec.path(), current.status());
    absl::Status created = streams_->Create(spec);
    return created.ok() ? Done(spec.path(), v1::ApplyResult::CREATED)
                        : Failed(spec.path(), created);
  }
  if (google::protobuf::util::MessageDifferencer::Equals(spec, current->spec)) {
    return Done(spec.path(), v1::ApplyResult::UNCHANGED);
  }
  absl::Status replaced = streams_->Replace(spec);
  return replaced.ok() ? Done(spec.path(), v1::ApplyResult::REPLACED)
                       : Failed(spec.path(), replaced);
}

v1::ApplyResult StreamApi::DeleteItem(const std::string& path) {
  absl::Status removed = streams_->Remove(path);
  return removed.ok() ? Done(path, v1::ApplyResult::DELETED) : Failed(path, removed);
}

absl::StatusOr<v1::ApplyStreamsResponse> StreamApi::Apply(const v1::ApplyStreamsRequest& request) {
  // Malformed requests fail as a whole, before anything changes.
  std::map<std::string, std::string> seen;  // path -> the field that named it
  auto claim = [&seen](const std::string& path, std::string field) -> absl::Status {
    auto [it, inserted] = seen.emplace(path, field);
    if (inserted) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", path, "' is listed twice (also ", it->second, ")"));
  };
  for (int i = 0; i < request.upsert_size(); ++i) {
    const std::string field = absl::StrCat("upsert[", i, "].path");
    if (absl::Status status = claim(request.upsert(i).path(), field); !status.ok()) {
      return status;
    }
  }
  for (int i = 0; i < request.delete__size(); ++i) {
    const std::string field = absl::StrCat("delete[", i, "]");
    if (absl::Status status = CheckPath(request.delete_(i), field); !status.ok()) return status;
    if (absl::Status status = claim(request.delete_(i), field); !status.ok()) return status;
  }
  v1::ApplyStreamsResponse response;
  for (int i = 0; i < request.upsert_size(); ++i) {
    *response.add_results() = Upsert(request.upsert(i), absl::StrCat("upsert[", i, "]"));
  }
  for (const std::string& path : request.delete_()) *response.add_results() = DeleteItem(path);
  // One write for the whole batch; the per-item results are not answered
  // unless it succeeds.
  std::vector<std::string> changed;
  for (const v1::ApplyResult& result : response.results()) {
    if (result.action() != v1::ApplyResult::FAILED &&
        result.action() != v1::ApplyResult::UNCHANGED) {
      changed.push_back(result.path());
    }
  }
  if (absl::Status status = Persist(changed); !status.ok()) return status;
  return response;
}

}  // namespace rtsptest::control
