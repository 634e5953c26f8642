// FaultManager: ids, targets, one fault per kind and target, durations that
// clear themselves, and the events of it all. The handler here records what
// it is asked to do; what faults do to media is tested with real clients in
// tests/core/media, tests/core/listener and tests/control/faults.
#include "core/faults/fault_manager.h"

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rtsptest::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class RecordingHandler : public FaultHandler {
 public:
  absl::Status Start(const std::string& id, const FaultSpec& spec) override {
    absl::MutexLock lock(&mutex_);
    if (!fail_with_.ok()) return fail_with_;
    calls_.push_back("start " + id + " " + spec.kind());
    return absl::OkStatus();
  }
  void Stop(const std::string& id, const FaultSpec& spec) override {
    absl::MutexLock lock(&mutex_);
    calls_.push_back("stop " + id + " " + spec.kind());
  }
  std::vector<std::string> calls() const {
    absl::MutexLock lock(&mutex_);
    return calls_;
  }
  void FailWith(absl::Status status) {
    absl::MutexLock lock(&mutex_);
    fail_with_ = std::move(status);
  }

 private:
  mutable absl::Mutex mutex_;
  std::vector<std::string> calls_;
  absl::Status fail_with_;
};

FaultSpec StreamFault(const std::string& kind, const std::string& path = "/cam1") {
  FaultSpec spec;
  spec.set_kind(kind);
  spec.set_stream(path);
  return spec;
}

class FaultManagerTest : public ::testing::Test {
 protected:
  FaultManagerTest() {
    faults_.Register(FaultTarget::kStream, "freeze", &handler_);
    faults_.Register(FaultTarget::kStream, "stall", &handler_);
    faults_.Register(FaultTarget::kStream, "eos", &handler_, /*one_shot=*/true);
    faults_.Register(FaultTarget::kListener, "close", &handler_);
  }

  // The fault events published so far, as "type id reason".
  std::vector<std::string> FaultEvents(size_t at_least) {
    std::vector<std::string> seen;
    uint64_t after = 0;
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (seen.size() < at_least && absl::Now() < deadline) {
      for (const Event& event : events_.WaitAfter(after, deadline - absl::Now())) {
        after = event.sequence;
        if (event.kind != "fault") continue;
        std::string line = event.type + " " + event.fields.at("id");
        if (event.fields.count("reason")) line += " " + event.fields.at("reason");
        seen.push_back(line);
      }
    }
    return seen;
  }

  EventLog events_;
  RecordingHandler handler_;
  FaultManager faults_{&events_};
};

TEST_F(FaultManagerTest, InjectGivesAnIdAndAStartTimeAndCallsTheKindsHandler) {
  absl::StatusOr<control::v1::Fault> fault = faults_.Inject(StreamFault("freeze"));
  ASSERT_TRUE(fault.ok()) << fault.status();
  EXPECT_EQ(fault->id(), "f-1");
  EXPECT_GT(fault->started_at().seconds(), 0);
  EXPECT_FALSE(fault->has_expires_at());
  EXPECT_THAT(handler_.calls(), ElementsAre("start f-1 freeze"));
  ASSERT_EQ(faults_.List().size(), 1u);
  EXPECT_EQ(faults_.List()[0].id(), "f-1");
}

TEST_F(FaultManagerTest, UnknownKindNamesTheKindsOfThatTarget) {
  absl::StatusOr<control::v1::Fault> fault = faults_.Inject(StreamFault("melt"));
  EXPECT_EQ(fault.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(fault.status().message(), HasSubstr("fault.kind \"melt\" is not a stream fault"));
  EXPECT_THAT(fault.status().message(), HasSubstr("eos, freeze, stall"));
}

TEST_F(FaultManagerTest, ATargetIsRequiredAndOnlyOne) {
  FaultSpec none;
  none.set_kind("freeze");
  EXPECT_THAT(faults_.Inject(none).status().message(), HasSubstr("set fault.stream"));
  FaultSpec both = StreamFault("freeze");
  both.set_listener("rtsp-8554");
  EXPECT_EQ(faults_.Inject(both).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FaultManagerTest, SecondFaultOfOneKindOnOneTargetIsRefusedNamingTheFirst) {
  ASSERT_TRUE(faults_.Inject(StreamFault("freeze")).ok());
  absl::StatusOr<control::v1::Fault> again = faults_.Inject(StreamFault("freeze"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.status().message(), HasSubstr("stream /cam1 already has a freeze fault (f-1)"));
  // Another stream, or another kind, is fine.
  EXPECT_TRUE(faults_.Inject(StreamFault("freeze", "/cam2")).ok());
  EXPECT_TRUE(faults_.Inject(StreamFault("stall")).ok());
}

TEST_F(FaultManagerTest, NonPositiveDurationIsInvalid) {
  FaultSpec spec = StreamFault("freeze");
  spec.mutable_duration()->set_seconds(-1);
  absl::StatusOr<control::v1::Fault> fault = faults_.Inject(spec);
  EXPECT_EQ(fault.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(fault.status().message(), HasSubstr("fault.duration (seconds=-1, nanos=0)"));
}

TEST_F(FaultManagerTest, AFaultWithADurationClearsItselfAndSaysSo) {
  FaultSpec spec = StreamFault("stall");
  spec.mutable_duration()->set_nanos(200 * 1000 * 1000);
  absl::StatusOr<control::v1::Fault> fault = faults_.Inject(spec);
  ASSERT_TRUE(fault.ok()) << fault.status();
  ASSERT_TRUE(fault->has_expires_at());
  EXPECT_THAT(FaultEvents(2), ElementsAre("started f-1", "cleared f-1 expired"));
  EXPECT_THAT(handler_.calls(), ElementsAre("start f-1 stall", "stop f-1 stall"));
  EXPECT_TRUE(faults_.List().empty());
  // Its kind is free again.
  EXPECT_TRUE(faults_.Inject(StreamFault("stall")).ok());
}

TEST_F(FaultManagerTest, ClearByIdByStreamOrAll) {
  ASSERT_TRUE(faults_.Inject(StreamFault("freeze", "/a")).ok());  // f-1
  ASSERT_TRUE(faults_.Inject(StreamFault("stall", "/a")).ok());   // f-2
  ASSERT_TRUE(faults_.Inject(StreamFault("freeze", "/b")).ok());  // f-3
  control::v1::ClearFaultsRequest by_id;
  by_id.add_ids("f-2");
  ASSERT_EQ(faults_.Clear(by_id)->size(), 1u);
  control::v1::ClearFaultsRequest by_stream;
  by_stream.set_stream("/b");
  absl::StatusOr<std::vector<control::v1::Fault>> cleared = faults_.Clear(by_stream);
  ASSERT_EQ(cleared->size(), 1u);
  EXPECT_EQ((*cleared)[0].id(), "f-3");
  ASSERT_EQ(faults_.List().size(), 1u);
  EXPECT_EQ(faults_.Clear({})->size(), 1u);
  EXPECT_TRUE(faults_.List().empty());
}

TEST_F(FaultManagerTest, ClearingAnUnknownIdIsNotFoundAndClearsNothing) {
  ASSERT_TRUE(faults_.Inject(StreamFault("freeze")).ok());
  control::v1::ClearFaultsRequest request;
  request.add_ids("f-1");
  request.add_ids("f-99");
  absl::StatusOr<std::vector<control::v1::Fault>> cleared = faults_.Clear(request);
  EXPECT_EQ(cleared.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(cleared.status().message(), HasSubstr("fault f-99 is not active"));
  EXPECT_EQ(faults_.List().size(), 1u);
}

TEST_F(FaultManagerTest, OneShotFaultsFireAndAreNotKept) {
  ASSERT_TRUE(faults_.Inject(StreamFault("eos")).ok());
  ASSERT_TRUE(faults_.Inject(StreamFault("eos")).ok());
  EXPECT_TRUE(faults_.List().empty());
  EXPECT_THAT(FaultEvents(2), ElementsAre("fired f-1", "fired f-2"));
  FaultSpec timed = StreamFault("eos");
  timed.mutable_duration()->set_seconds(1);
  EXPECT_EQ(faults_.Inject(timed).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FaultManagerTest, AHandlersErrorIsTheCallersAndLeavesNoFault) {
  handler_.FailWith(absl::NotFoundError("stream /cam1 not found"));
  EXPECT_EQ(faults_.Inject(StreamFault("freeze")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(faults_.List().empty());
  handler_.FailWith(absl::OkStatus());
  EXPECT_TRUE(faults_.Inject(StreamFault("freeze")).ok());
}

TEST_F(FaultManagerTest, AStreamThatGoesTakesItsFaultsWithIt) {
  ASSERT_TRUE(faults_.Inject(StreamFault("freeze", "/a")).ok());
  ASSERT_TRUE(faults_.Inject(StreamFault("freeze", "/b")).ok());
  faults_.OnStreamGone("/a", "stream removed");
  ASSERT_EQ(faults_.List().size(), 1u);
  EXPECT_EQ(faults_.List()[0].spec().stream(), "/b");
  EXPECT_THAT(FaultEvents(3),
              ElementsAre("started f-1", "started f-2", "cleared f-1 stream removed"));
}

TEST_F(FaultManagerTest, ListFiltersByStream) {
  ASSERT_TRUE(faults_.Inject(StreamFault("freeze", "/a")).ok());
  FaultSpec listener;
  listener.set_kind("close");
  listener.set_listener("rtsp-8554");
  ASSERT_TRUE(faults_.Inject(listener).ok());
  EXPECT_EQ(faults_.List().size(), 2u);
  ASSERT_EQ(faults_.List("/a").size(), 1u);
}

}  // namespace
}  // namespace rtsptest::core
