// Tests of the state file on disk: atomic write with mode 0600, parse
// errors as DataLoss naming the file, and the set-aside name.
#include "control/state/state_file.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace rtsptest::control {
namespace {

std::string TempPath(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

state::v1::StateFile OneStream(const std::string& path) {
  state::v1::StateFile state;
  config::v1::Stream* stream = state.add_streams();
  stream->set_path(path);
  stream->set_plugin("testpattern");
  stream->mutable_auth()->set_method(config::v1::StreamAuth::BASIC);
  stream->mutable_auth()->set_username("alice");
  stream->mutable_auth()->set_password("pw");
  return state;
}

TEST(StateFileTest, WriteThenReadRoundTripsWithVersionAndMode0600) {
  const std::string path = TempPath("round.json");
  ASSERT_TRUE(WriteStateFile(path, OneStream("/a")).ok());
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  absl::StatusOr<state::v1::StateFile> read = ReadStateFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->version(), kStateFileVersion);
  ASSERT_EQ(read->streams_size(), 1);
  EXPECT_EQ(read->streams(0).auth().password(), "pw");
  EXPECT_EQ(read->streams(0).auth().method(), config::v1::StreamAuth::BASIC);
}

TEST(StateFileTest, RewriteReplacesAndLeavesNoTemporaryFile) {
  const std::string dir = TempPath("rewrite");
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  const std::string path = dir + "/state.json";
  ASSERT_TRUE(WriteStateFile(path, OneStream("/a")).ok());
  ASSERT_TRUE(WriteStateFile(path, OneStream("/b")).ok());
  EXPECT_EQ(ReadStateFile(path)->streams(0).path(), "/b");
  int entries = 0;
  DIR* listing = opendir(dir.c_str());
  ASSERT_NE(listing, nullptr);
  while (dirent* entry = readdir(listing)) entries += entry->d_name[0] != '.';
  closedir(listing);
  EXPECT_EQ(entries, 1);
}

TEST(StateFileTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadStateFile(TempPath("absent.json")).status().code(), absl::StatusCode::kNotFound);
}

TEST(StateFileTest, BadJsonIsDataLossNamingTheFile) {
  const std::string path = TempPath("bad.json");
  std::ofstream(path) << "{\"version\": 1, \"streams\": [";
  absl::Status status = ReadStateFile(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(status.message(), path)) << status;
}

TEST(StateFileTest, UnknownFieldIsDataLoss) {
  const std::string path = TempPath("unknown.json");
  std::ofstream(path) << "{\"version\": 1, \"stremas\": []}";
  EXPECT_EQ(ReadStateFile(path).status().code(), absl::StatusCode::kDataLoss);
}

TEST(StateFileTest, OtherVersionIsDataLoss) {
  const std::string path = TempPath("v2.json");
  std::ofstream(path) << "{\"version\": 2}";
  absl::Status status = ReadStateFile(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(status.message(), "version 2")) << status;
}

TEST(StateFileTest, WriteIntoMissingDirectoryFailsNamingTheFile) {
  const std::string path = TempPath("no-such-dir/state.json");
  absl::Status status = WriteStateFile(path, OneStream("/a"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(absl::StrContains(status.message(), path)) << status;
}

TEST(StateFileTest, SetAsideRenamesWithUtcTime) {
  const std::string path = TempPath("aside.json");
  std::ofstream(path) << "junk";
  absl::StatusOr<std::string> aside = SetStateFileAside(path, absl::FromUnixSeconds(0));
  ASSERT_TRUE(aside.ok()) << aside.status();
  EXPECT_EQ(*aside, path + ".corrupt-19700101T000000Z");
  struct stat info;
  EXPECT_NE(stat(path.c_str(), &info), 0);
  EXPECT_EQ(stat(aside->c_str(), &info), 0);
}

}  // namespace
}  // namespace rtsptest::control
