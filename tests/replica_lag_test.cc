// The live replica lag (real_backends/replica_lag.h): from a record of the primary's flushed
// position, the replica's replay position and its last replayed commit, not from
// pg_stat_replication.replay_lag's held measure.
#include "real_backends/replica_lag.h"

#include <gtest/gtest.h>

namespace rehearse::live {
namespace {

TEST(ReplicaLag, AReplicaThatKeepsUpUnderCommitsIsMillisecondsBehindWhateverReplayLagHolds) {
  // The engine read before a 72 ms batch and after it; the replica replayed all but the batch's
  // last bytes, and a commit 2 ms ago. replay_lag (the last standby reply's) says 200 ms.
  FlushTrack track;
  track.record({1'000, 0});
  track.record({5'000'000, 72 * kMs});
  EXPECT_EQ(track.lag(4'999'900, 70 * kMs, 72 * kMs, 200 * kMs), 2 * kMs);
  EXPECT_EQ(track.lag(5'000'000, 70 * kMs, 72 * kMs, 200 * kMs), 0) << "replayed all that was flushed";
  EXPECT_EQ(track.lag(6'000'000, 70 * kMs, 72 * kMs, 200 * kMs), 0);
}

TEST(ReplicaLag, APausedReplicaIsBehindSinceItsLastReplayedCommit) {
  // Replay paused just after the engine's read at 0; the next read 800 ms later.
  FlushTrack track;
  track.record({1'000, 0});
  track.record({50'000, 800 * kMs});
  EXPECT_EQ(track.lag(1'200, 5 * kMs, 800 * kMs, 0), 795 * kMs);
  // Without a replayed commit the reads bound it: at most since the read it had passed.
  EXPECT_EQ(track.lag(1'200, std::nullopt, 800 * kMs, 0), 800 * kMs);
}

TEST(ReplicaLag, BoundedByTheReadsAroundItsOldestUnreplayedByte) {
  FlushTrack track;
  track.record({1'000, 0});
  track.record({2'000, 100 * kMs});
  track.record({3'000, 200 * kMs});
  // Byte 1,501 was flushed after the read at 0 and by the read at 100 ms: 100..200 ms ago.
  EXPECT_EQ(track.lag(1'500, std::nullopt, 200 * kMs, 0), 200 * kMs);
  EXPECT_EQ(track.lag(1'500, 10 * kMs, 200 * kMs, 0), 190 * kMs);
  EXPECT_EQ(track.lag(1'500, 150 * kMs, 200 * kMs, 0), 100 * kMs) << "never less than since the read past it";
  track.record({2'500, 300 * kMs});  // behind the last read (one that overtook it): nothing recorded
  EXPECT_EQ(track.size(), 3u);
}

TEST(ReplicaLag, ARecordCutByAPageFlushIsNotLagUntilAFlushCompletesIt) {
  // Measured: an idle primary flushed up to 50,470,912 (a page boundary); the replica replayed to
  // 40 bytes short of it, the start of a record that goes on past the page, for 117 ms.
  FlushTrack track;
  track.record({50'462'720, 0});
  track.record({50'470'912, 10 * kMs});
  track.record({50'470'912, 125 * kMs});
  EXPECT_EQ(track.lag(50'470'872, std::nullopt, 127 * kMs, 0), 0);
  // Then a commit completes the record: lag counts from that flush, as after any other.
  track.record({50'471'100, 130 * kMs});
  EXPECT_EQ(track.lag(50'470'872, std::nullopt, 134 * kMs, 0), 9 * kMs);
  // A replica a page or more behind a page boundary is behind whole records: flushed after the
  // read at 0, by the read at 10 ms.
  track.set_page_bytes(4096);
  EXPECT_EQ(track.lag(50'462'720 + 100, std::nullopt, 134 * kMs, 0), 134 * kMs);
}

TEST(ReplicaLag, APositionReadAgainBoundsFromItsLastRead) {
  // An idle primary: the same position read for 10 s, then a flush just after the last of them.
  FlushTrack track;
  track.record({1'000, 0});
  track.record({1'000, 10 * kSec});
  track.record({2'000, 10 * kSec + 5 * kMs});
  EXPECT_EQ(track.size(), 2u);
  EXPECT_EQ(track.lag(1'500, std::nullopt, 10 * kSec + 7 * kMs, 0), 7 * kMs) << "flushed after 10 s, not after 0";
  EXPECT_EQ(track.lag(2'000, std::nullopt, 10 * kSec + 7 * kMs, 0), 0);
}

TEST(ReplicaLag, BehindTheFirstReadTheLargerOfSinceThenAndTheServersView) {
  FlushTrack track;
  track.record({1'000, 0});
  track.record({2'000, 100 * kMs});
  EXPECT_EQ(track.lag(500, 90 * kMs, 100 * kMs, 3 * kSec), 3 * kSec);
  EXPECT_EQ(track.lag(500, 90 * kMs, 100 * kMs, 0), 100 * kMs);
}

TEST(ReplicaLag, ReadsEveryReplicaPassedAreForgottenButTheNewestOfThem) {
  FlushTrack track;
  track.record({1'000, 0});
  track.record({2'000, 100 * kMs});
  track.record({3'000, 200 * kMs});
  track.forget_replayed(2'500);
  EXPECT_EQ(track.size(), 2u);
  // The kept read still bounds a replica at 2,500: flushed after 100 ms, by 200 ms.
  EXPECT_EQ(track.lag(2'500, std::nullopt, 250 * kMs, 0), 150 * kMs);
  track.forget_replayed(3'000);
  EXPECT_EQ(track.size(), 1u);
  EXPECT_EQ(track.lag(3'000, std::nullopt, 250 * kMs, 0), 0);
}

}  // namespace
}  // namespace rehearse::live
