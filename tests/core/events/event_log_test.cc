// EventLog: numbering, order, waiting, and the bound on what it keeps.
#include "core/events/event_log.h"

#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace rtsptest::core {
namespace {

Event Named(const std::string& type) {
  Event event;
  event.kind = "stream";
  event.type = type;
  return event;
}

TEST(EventLogTest, NumbersEventsInOrderAndReturnsThoseAfterASequence) {
  EventLog log;
  log.Publish(Named("created"));
  log.Publish(Named("state_changed"));
  log.Publish(Named("removed"));
  EXPECT_EQ(log.last_sequence(), 3u);
  std::vector<Event> after_one = log.WaitAfter(1, absl::ZeroDuration());
  ASSERT_EQ(after_one.size(), 2u);
  EXPECT_EQ(after_one[0].sequence, 2u);
  EXPECT_EQ(after_one[0].type, "state_changed");
  EXPECT_EQ(after_one[1].sequence, 3u);
  EXPECT_LE(after_one[0].time, after_one[1].time);
}

TEST(EventLogTest, WaitReturnsWhenAnEventArrivesAndIsEmptyOnTimeout) {
  EventLog log;
  EXPECT_TRUE(log.WaitAfter(0, absl::Milliseconds(10)).empty());
  std::thread publisher([&log] { log.Publish(Named("created")); });
  std::vector<Event> events = log.WaitAfter(0, absl::Seconds(10));
  publisher.join();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].sequence, 1u);
}

TEST(EventLogTest, KeepsOnlyTheLastCapacityEvents) {
  EventLog log;
  for (size_t i = 0; i < EventLog::kCapacity + 10; ++i) log.Publish(Named("created"));
  std::vector<Event> kept = log.WaitAfter(0, absl::ZeroDuration());
  ASSERT_EQ(kept.size(), EventLog::kCapacity);
  EXPECT_EQ(kept.front().sequence, 11u);
  EXPECT_EQ(kept.back().sequence, EventLog::kCapacity + 10);
}

}  // namespace
}  // namespace rtsptest::core
