// The request counts the live runner publishes for its engines' health gates.
#include "real_backends/app_monitor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace rehearse::live {
namespace {

std::string scratch_path(const char* name) {
  return (std::filesystem::temp_directory_path() / fmt::format("rehearse-{}-{}.json", name, ::getpid())).string();
}

TEST(AppMonitorTest, AnEngineReadsWhatTheRunnerPublished) {
  const std::string path = scratch_path("counts");
  FileApplicationMonitor monitor(path);
  std::filesystem::remove(path);
  EXPECT_FALSE(monitor.requests("us-east-1").is_ok()) << "nothing published yet: the gate cannot tell";
  ASSERT_TRUE(publish_request_counts(path, {{"us-east-1", {1200, 30}}, {"eu-west-1", {800, 0}}}).is_ok());
  const Result<RequestCounts> east = monitor.requests("us-east-1");
  ASSERT_TRUE(east.is_ok());
  EXPECT_EQ(east.value().requests, 1200);
  EXPECT_EQ(east.value().failed, 30);
  EXPECT_FALSE(monitor.requests("ap-south-1").is_ok()) << "a region without traffic is not judged";
  ASSERT_TRUE(publish_request_counts(path, {{"us-east-1", {1500, 31}}}).is_ok());  // replaced, not appended
  EXPECT_EQ(monitor.requests("us-east-1").value().requests, 1500);
  EXPECT_FALSE(monitor.requests("eu-west-1").is_ok());
  std::filesystem::remove(path);
}

TEST(AppMonitorTest, AMalformedFileIsUnavailableNotACrash) {
  const std::string path = scratch_path("malformed");
  {
    std::ofstream out(path);
    out << R"({"us-east-1": [12, "x"], "eu-west-1": 7)";
  }
  FileApplicationMonitor monitor(path);
  EXPECT_FALSE(monitor.requests("us-east-1").is_ok());
  {
    std::ofstream out(path, std::ios::trunc);
    out << R"({"us-east-1": [12, "x"]})";
  }
  EXPECT_FALSE(monitor.requests("us-east-1").is_ok());
  std::filesystem::remove(path);
  EXPECT_FALSE(publish_request_counts("/nonexistent-dir/counts.json", {}).is_ok());
}

}  // namespace
}  // namespace rehearse::live
