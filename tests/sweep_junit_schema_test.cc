// `sweep --junit` validates against the JUnit XML schema CI systems read
// (tests/fixtures/junit.xsd, checked with xmllint from Debian's libxml2-utils, which
// scripts/setup installs), for a violating and a passing sweep; and the schema is not a
// rubber stamp: a test case without its name is rejected.
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/test_support.h"

namespace rehearse {
namespace {

using testing::run_rehearse;

// xmllint's exit code for `xml` against the JUnit schema (0 = valid).
int validate(const std::string& xml_path) {
  const std::string schema = std::string(REHEARSE_SOURCE_DIR) + "/tests/fixtures/junit.xsd";
  const std::string command = "xmllint --noout --schema " + schema + " " + xml_path + " >" + xml_path + ".log 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SweepJunitSchema, ViolatingAndPassingSweepsValidate) {
  if (std::system("command -v xmllint >/dev/null 2>&1") != 0) GTEST_FAIL() << "xmllint missing: run scripts/setup";
  const std::string violating = testing::temp_dir() + "junit-schema-violating.xml";
  ASSERT_EQ(run_rehearse("sweep all-at-once-bad-up --count 3 --junit " + violating).exit_code, 1);
  EXPECT_EQ(validate(violating), 0) << testing::read_whole_file(violating + ".log");

  const std::string passing = testing::temp_dir() + "junit-schema-passing.xml";
  ASSERT_EQ(run_rehearse("sweep rollback-with-down --count 2 --junit " + passing).exit_code, 0);
  EXPECT_EQ(validate(passing), 0) << testing::read_whole_file(passing + ".log");
}

TEST(SweepJunitSchema, SchemaRejectsATestCaseWithoutAName) {
  const std::string broken = testing::temp_dir() + "junit-schema-broken.xml";
  std::ofstream(broken) << "<?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"s\" tests=\"1\">"
                           "<testcase classname=\"c\"><failure message=\"m\">x</failure></testcase>"
                           "</testsuite></testsuites>\n";
  EXPECT_NE(validate(broken), 0);
}

}  // namespace
}  // namespace rehearse
