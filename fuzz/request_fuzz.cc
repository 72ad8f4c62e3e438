#include "request_fuzz.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "fuzz_hooks.h"
#include "ops/dispatch.h"
#include "store/path.h"
#include "wire/framer.h"

namespace cxs::fuzz {
namespace {

struct Player {
  ops::Session session;
  wire::Framer framer;
  bool faulted = false;
};

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "request fuzzer: store broken: %s\n", what.c_str());
  std::abort();
}

}  // namespace

void check_store(const store::Store& st) {
  const store::Tree& tree = st.tree();
  std::vector<std::string> stack{"/"};
  std::size_t reachable = 0;
  while (!stack.empty()) {
    std::string path = std::move(stack.back());
    stack.pop_back();
    store::NodeView n = tree.find(path);
    if (!n) broken("listed child missing: " + path);
    ++reachable;
    n.children().for_each([&](std::string_view name) {
      stack.push_back(store::join(path, name));
    });
  }
  if (reachable + 2 != tree.size()) broken("unreachable nodes");
  if (!st.transaction_bytes_agree()) broken("transaction byte count drifted");
  std::map<std::uint32_t, store::Tree::Usage> recount;
  tree.for_each([&](std::string_view path, store::NodeView n) {
    // The path the tree spells for a record leads back to that record.
    if (tree.find(path).generation() != n.generation())
      broken("path spelled wrong: " + std::string(path));
    if (n.perms().empty()) broken("no owner: " + std::string(path));
    auto& u = recount[n.perms().front().dom.value];
    u.nodes += 1;
    u.bytes += store::Tree::node_bytes(path, n);
  });
  for (std::uint32_t dom : {0u, 5u, 6u}) {
    store::Tree::Usage want = recount[dom];
    store::Tree::Usage got = tree.usage(DomId{dom});
    if (want.nodes != got.nodes || want.bytes != got.bytes)
      broken("usage of dom" + std::to_string(dom) + ": " +
             std::to_string(got.nodes) + "/" + std::to_string(got.bytes) +
             " recounted " + std::to_string(want.nodes) + "/" +
             std::to_string(want.bytes));
  }
}

RunStats run_input(const std::uint8_t* data, std::size_t size) {
  store::Store st;
  store::WatchIndex watches;
  FuzzHooks hooks;
  store::Quota privileged_limits;
  store::Quota limits = guest_quota();
  std::array<Player, 3> players{
      Player{ops::Session{ConnId{1}, store::Caller{DomId{0}, true, std::nullopt}}, {}},
      Player{ops::Session{ConnId{5}, store::Caller{DomId{5}, false, std::nullopt}}, {}},
      Player{ops::Session{ConnId{6}, store::Caller{DomId{6}, false, DomId{5}}}, {}}};
  make_guest_home(st);
  RunStats stats;
  std::size_t pos = 0;
  while (pos + 2 <= size) {
    Player& p = players[data[pos] % players.size()];
    std::size_t len = std::min<std::size_t>(data[pos + 1] * 8 + 1, size - pos - 2);
    pos += 2;
    const char* bytes = reinterpret_cast<const char*>(data + pos);
    pos += len;
    if (p.faulted) continue;  // the daemon stops reading a faulted stream
    std::size_t off = 0;
    while (off < len) {
      off += p.framer.feed(bytes + off, len - off);
      if (p.framer.state() == wire::Framer::State::kFault) {
        p.faulted = true;
        break;
      }
      auto msg = p.framer.take();
      if (!msg) break;
      const store::Quota& q =
          p.session.caller.privileged ? privileged_limits : limits;
      ops::Ctx ctx(st, watches, p.session, q, &hooks);
      auto reply = ops::dispatch(ctx, ops::Request{msg->hdr, msg->payload});
      ++stats.dispatched;
      if (reply) ++stats.succeeded;
      check_store(st);
    }
  }
  for (Player& p : players) st.drop_transactions(p.session.conn);
  check_store(st);
  return stats;
}

}  // namespace cxs::fuzz
