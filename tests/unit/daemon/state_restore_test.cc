// restore_bytes on streams cxenstored's reader takes without its tree
// checks (what the new daemon of a live update does): a node without its
// parent before it, or named twice, is still refused, by the tree being
// built, and the error names the record and its offset.
#include "daemon/state_restore.h"

#include <gtest/gtest.h>

#include "migrate/writer.h"

namespace cxs::daemon {
namespace {

std::string stream_of(const std::vector<std::string>& paths) {
  migrate::StreamWriter w;
  w.global({});
  for (const std::string& p : paths)
    w.node(migrate::NodeRec{0, 0, 0, {}, p, "v"}, PermList{{kDom0, kPermNone}});
  return w.finish();
}

std::string restore_bytes_error(const std::vector<std::string>& paths) {
  std::string bytes = stream_of(paths);
  migrate::Stream s;
  store::Store store;
  store::WatchIndex watches;
  try {
    restore_bytes(bytes, /*check_tree=*/false, kDom0, QuotaDefaults{}, store,
                  watches, s);
  } catch (const RestoreError& e) {
    return e.what();
  }
  return "restored";
}

// What follows "record N (NODE) at offset O: ".
std::string why(const std::string& error) {
  std::size_t at = error.find(": ");
  return at == std::string::npos ? error : error.substr(at + 2);
}

TEST(RestoreBytes, ANodeWithoutItsParentOrNamedTwiceIsRefusedAtItsRecord) {
  EXPECT_EQ(restore_bytes_error({"/", "/a/b"}),
            "record 2 (NODE) at offset 64: node /a/b: its parent is not "
            "before it, or it comes twice");
  EXPECT_EQ(restore_bytes_error({"/", "/a", "/b", "/a"}).substr(0, 19),
            "record 4 (NODE) at ");
  EXPECT_EQ(why(restore_bytes_error({"/a", "/"})),
            "node /a: its parent is not before it, or it comes twice");
  EXPECT_EQ(why(restore_bytes_error({"/", "/a", "/a"})),
            "node /a: its parent is not before it, or it comes twice");
  EXPECT_EQ(why(restore_bytes_error({"@releaseDomain", "/", "@releaseDomain"})),
            "node @releaseDomain: its parent is not before it, or it comes "
            "twice");
  EXPECT_EQ(restore_bytes_error({"@releaseDomain", "/", "/a", "/a/b", "/c"}),
            "restored");
}

TEST(RestoreBytes, RestoresValuesPermissionsAndGenerations) {
  // Generations, values and perms as the writer of a cxenstored stream
  // gives them.
  migrate::StreamWriter w;
  w.global({});
  w.cxs_daemon({1, 7, 40, 0, "test"});
  std::vector<std::string> paths = {"/", "/a", "/a/b", "/c", "@releaseDomain"};
  std::vector<std::uint64_t> gens = {3, 10, 20, 30, 2};
  for (std::size_t i = 0; i < paths.size(); ++i)
    w.node(migrate::NodeRec{0, 0, 0, {}, paths[i], "v" + std::to_string(i)},
           PermList{{DomId{static_cast<unsigned>(i)}, kPermRead}});
  w.cxs_generations(gens);
  std::string bytes = w.finish();

  store::Store streamed;
  store::WatchIndex watches_streamed;
  migrate::Stream rest;
  restore_bytes(bytes, /*check_tree=*/true, kDom0, QuotaDefaults{}, streamed,
                watches_streamed, rest);
  EXPECT_TRUE(rest.nodes.empty());
  EXPECT_EQ(rest.committed_nodes, paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    auto b = streamed.tree().find(paths[i]);
    ASSERT_TRUE(b) << paths[i];
    EXPECT_EQ(b.value(), "v" + std::to_string(i));
    EXPECT_EQ(b.generation(), gens[i]) << paths[i];
    EXPECT_EQ(b.perms().list(),
              (PermList{{DomId{static_cast<unsigned>(i)}, kPermRead}}));
  }
  // "/", "/a", "/a/b", "/c", both special nodes.
  EXPECT_EQ(streamed.tree().size(), paths.size() + 1);
  EXPECT_EQ(streamed.tree().generation_counter(), 40u);
}

}  // namespace
}  // namespace cxs::daemon
