// restore_data on streams cxenstored's reader took without its tree checks
// (what the new daemon of a live update does): a node without its parent
// before it, or named twice, is still refused, by the tree being built.
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

std::string restore_error(const std::vector<std::string>& paths) {
  std::string bytes = stream_of(paths);
  migrate::Stream s = parse_state(bytes, /*check_tree=*/false);
  store::Store store;
  store::WatchIndex watches;
  try {
    restore_data(s, kDom0, QuotaDefaults{}, store, watches);
  } catch (const RestoreError& e) {
    return e.what();
  }
  return "restored";
}

TEST(RestoreData, ANodeWithoutItsParentBeforeItIsRefused) {
  EXPECT_EQ(restore_error({"/", "/a/b"}),
            "node /a/b: its parent is not before it, or it comes twice");
  EXPECT_EQ(restore_error({"/a", "/"}),
            "node /a: its parent is not before it, or it comes twice");
}

TEST(RestoreData, ANodeNamedTwiceIsRefused) {
  EXPECT_EQ(restore_error({"/", "/a", "/a"}),
            "node /a: its parent is not before it, or it comes twice");
  EXPECT_EQ(restore_error({"/", "/a", "/b", "/a"}),
            "node /a: its parent is not before it, or it comes twice");
  EXPECT_EQ(restore_error({"@releaseDomain", "/", "@releaseDomain"}),
            "node @releaseDomain: its parent is not before it, or it comes "
            "twice");
}

TEST(RestoreData, AStreamInOrderIsRestored) {
  EXPECT_EQ(restore_error({"@releaseDomain", "/", "/a", "/a/b", "/c"}),
            "restored");
}

}  // namespace
}  // namespace cxs::daemon
