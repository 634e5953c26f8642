// GrpcHealthPublisher: turns HealthSnapshots into grpc.health.v1 statuses
// on gRPC's own health service (ServerBuilder with
// grpc::EnableDefaultHealthCheckService(true), then
// server->GetHealthCheckService()).
//
// Names:  ""              overall: the k-of-n rule, and with
//                         require_live_streams also every stream live
//         "rtsp"          the k-of-n rule alone
//         "rtsp:<port>"   one per listener
//         "stream:<path>" one per stream: SERVING while the stream is live
//         "control"       SERVING until draining
// Check answers from gRPC's in-memory table, so it costs no probing.
#ifndef RTSPTEST_HEALTH_PUBLISHER_GRPC_HEALTH_PUBLISHER_H_
#define RTSPTEST_HEALTH_PUBLISHER_GRPC_HEALTH_PUBLISHER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/health_check_service_interface.h"
#include "health/monitor/health_snapshot.h"

namespace rtsptest::health {

class GrpcHealthPublisher : public HealthPublisher {
 public:
  static constexpr char kOverallName[] = "";
  static constexpr char kRtspName[] = "rtsp";
  static constexpr char kControlName[] = "control";
  // "rtsp:8554".
  static std::string ListenerName(int port);
  // "stream:/cam1".
  static std::string StreamName(absl::string_view path);

  // Registers every name at once, so that Check never says NOT_FOUND for a
  // known name: "", "rtsp", "rtsp:<port>" and "stream:<path>" NOT_SERVING
  // until the first round (or stream evaluation), "control" SERVING.
  // `service` must outlive this publisher.
  GrpcHealthPublisher(grpc::HealthCheckServiceInterface* service,
                      const std::vector<ListenerSpec>& listeners,
                      const std::vector<std::string>& stream_paths = {},
                      bool require_live_streams = false);

  // Sets each name from the snapshot; a draining snapshot turns every name
  // NOT_SERVING for good (later snapshots change nothing), "" last.
  void Publish(const HealthSnapshot& snapshot) override;
  // Sets "stream:<path>" for every stream in `live` (path -> live), and
  // NOT_SERVING for streams published before but absent now (removed).
  // With require_live_streams, "" follows. May run concurrently with
  // Publish; ignored once drained.
  void PublishStreams(const std::map<std::string, bool>& live);

  // Every name and whether it is SERVING: what Check answers now.
  std::map<std::string, bool> Statuses() const;

  // Called at each change of a name's status, and when a name appears after
  // construction (e.g. a stream created at run time; `was` is then unset),
  // under the publisher's lock: it must not call back into the publisher or
  // block. Null for none. Set before publishing.
  using ChangeObserver =
      std::function<void(const std::string& name, std::optional<bool> was, bool serving)>;
  void SetChangeObserver(ChangeObserver observer);

  // One more after every probe round (Publish) and every change of a
  // name's status: what WatchHealthReport waits on.
  uint64_t generation() const;
  // Waits until generation() differs from `seen`, at most `timeout`, and
  // returns generation().
  uint64_t AwaitChange(uint64_t seen, absl::Duration timeout) const;

 private:
  // Calls SetServingStatus only when the value changes: gRPC sends every
  // call to Watch streams, and a Watch must see each transition once.
  void SetLocked(const std::string& name, bool serving) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // "" from the rule's last verdict and, if required, the streams.
  void SetOverallLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  grpc::HealthCheckServiceInterface* const service_;
  const bool require_live_streams_;
  mutable absl::Mutex mu_;
  std::map<std::string, bool> current_ ABSL_GUARDED_BY(mu_);
  bool drained_ ABSL_GUARDED_BY(mu_) = false;
  bool rule_serving_ ABSL_GUARDED_BY(mu_) = false;  // k-of-n, after the first round.
  bool streams_live_ ABSL_GUARDED_BY(mu_) = false;  // Every stream live (none: true).
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  ChangeObserver observer_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rtsptest::health

#endif  // RTSPTEST_HEALTH_PUBLISHER_GRPC_HEALTH_PUBLISHER_H_
