// The FaultHandlers that make injected faults act: on a stream's shared
// media (StreamManager), on the RTSP requests of a stream (every listener's
// RtspFaults) and on a listening port (RtspListener).
#ifndef RTSPTEST_CORE_FAULTS_FAULT_HANDLERS_H_
#define RTSPTEST_CORE_FAULTS_FAULT_HANDLERS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/faults/fault_manager.h"
#include "core/listener/rtsp_listener.h"
#include "core/stream/stream_manager.h"

namespace rtsptest::core {

// freeze, black, stall, drop, jitter, reorder, bandwidth, bitrate_spike;
// eos and disconnect (one shot). See core/media/stream_faults.h.
class StreamFaultHandler : public FaultHandler {
 public:
  // `streams` must outlive the handler.
  explicit StreamFaultHandler(StreamManager* streams) : streams_(streams) {}
  absl::Status Start(const std::string& id, const FaultSpec& spec) override;
  void Stop(const std::string& id, const FaultSpec& spec) override;

 private:
  StreamManager* const streams_;
};

// rtsp_error, rtsp_delay: on every listener, for the stream's path.
class RtspFaultHandler : public FaultHandler {
 public:
  // `streams` and the listeners must outlive the handler.
  RtspFaultHandler(const StreamManager* streams, std::vector<RtspListener*> listeners)
      : streams_(streams), listeners_(std::move(listeners)) {}
  absl::Status Start(const std::string& id, const FaultSpec& spec) override;
  void Stop(const std::string& id, const FaultSpec& spec) override;

 private:
  const StreamManager* const streams_;
  const std::vector<RtspListener*> listeners_;
};

// close, stall, refuse: on the listener named by spec.listener.
class ListenerFaultHandler : public FaultHandler {
 public:
  // The listeners must outlive the handler.
  explicit ListenerFaultHandler(std::vector<RtspListener*> listeners)
      : listeners_(std::move(listeners)) {}
  absl::Status Start(const std::string& id, const FaultSpec& spec) override;
  void Stop(const std::string& id, const FaultSpec& spec) override;

 private:
  const std::vector<RtspListener*> listeners_;
};

// The three handlers of one server, registered for every kind they handle.
class ServerFaultHandlers {
 public:
  // `streams` and the listeners must outlive this object.
  ServerFaultHandlers(StreamManager* streams, const std::vector<RtspListener*>& listeners)
      : stream_(streams), rtsp_(streams, listeners), listener_(listeners) {}
  // This object must outlive `faults`.
  void RegisterOn(FaultManager* faults);

 private:
  StreamFaultHandler stream_;
  RtspFaultHandler rtsp_;
  ListenerFaultHandler listener_;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_FAULTS_FAULT_HANDLERS_H_
