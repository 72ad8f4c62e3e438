#include "generator.h"

#include <random>
#include <string>

#include "test_util.h"
#include "wire/message_type.h"

namespace cxs::diff {
namespace {

using test::ty;
using wire::MsgType;
using namespace std::string_view_literals;

class Gen {
 public:
  explicit Gen(std::uint64_t seed) : rng_(seed) {}

  Op next();

 private:
  std::uint32_t below(std::uint32_t n) { return rng_() % n; }
  bool chance(int percent) {
    return below(100) < static_cast<unsigned>(percent);
  }
  template <typename T, std::size_t N>
  const T& pick(const T (&a)[N]) {
    return a[below(N)];
  }

  Actor actor();
  std::string path(Actor a);
  std::string domid();
  std::string value();
  std::string perms();
  std::string token();
  // Most payloads end with the NUL of their last argument; a few do not.
  std::string args(std::vector<std::string> parts);
  Op request(Actor a);
  Op host();

  std::mt19937_64 rng_;
};

Actor Gen::actor() {
  std::uint32_t r = below(100);
  if (r < 35) return kSockA;
  if (r < 45) return kSockB;
  static const Actor kG[] = {5, 5, 6, 6, 7, 7, 8};
  return pick(kG);
}

std::string Gen::path(Actor a) {
  static const char* kAbs[] = {"/t",
                               "/t/p",
                               "/t/p/q",
                               "/t/p/missing/x",
                               "/t/shared",
                               "/t/shared/x",
                               "/t/shared/x/y",
                               "/t/shared/z",
                               "/t/a",
                               "/t/a/b",
                               "/local",
                               "/local/domain",
                               "/tool/xenstored",
                               "/",
                               "@introduceDomain",
                               "@releaseDomain",
                               "/nonexistent/deep"};
  static const char* kRel[] = {"data", "data/k",       "data/k/z",
                               "x",    "device/vif/0", "t"};
  static const char* kSub[] = {"", "/data", "/data/k", "/x", "/missing/y"};
  std::uint32_t r = below(100);
  if (r < 55) return pick(kAbs);
  if (r < 70) return pick(kRel);
  if (r < 92) {
    static const char* kDoms[] = {"5", "6", "7", "8", "9", "0"};
    std::string d = a >= 2 && chance(50) ? std::to_string(a) : pick(kDoms);
    return "/local/domain/" + d + pick(kSub);
  }
  static const char* kBad[] = {"",   "/t/bad path", "/t//x",    "/t/",
                               "t*", "@other",      "/t/p\x01", "//"};
  if (chance(85)) return pick(kBad);
  // Around the path-length limits: 2048 under a domain's home, 3072 whole.
  std::size_t n = chance(50) ? 2040 + below(20) : 3060 + below(20);
  return "/t/" + std::string(n - 3, 'l');
}

std::string Gen::domid() {
  // No DOMID_ANY (32757): a Xen 4.22 feature 4.17 stores as an entry that
  // names nobody, so the stores would part silently (docs/compat.md).
  static const char* kIds[] = {"0", "5",     "6",   "7", "8",  "9",   "5", "6",
                               "7", "70000", "abc", "",  "-1", "0x5", "05"};
  return chance(85) ? pick(kIds) : std::to_string(below(12));
}

std::string Gen::value() {
  static const char* kVals[] = {"", "v", "old", "new", "a\x01z", "0"};
  std::uint32_t r = below(100);
  if (r < 80) return pick(kVals);
  if (r < 90) return std::string(1 + below(30), 'a' + below(26));
  static const std::size_t kSizes[] = {2047, 2048, 2049, 3000, 4000};
  return std::string(pick(kSizes), 'q');
}

std::string Gen::perms() {
  static const char kLetters[] = "nrwbnrwbnrwbxN";
  static const char* kOdd[] = {"n 0", "n0x0", "r", "", "b-1", "r05"};
  std::string out;
  std::uint32_t n = 1 + below(chance(10) ? 7 : 3);
  for (std::uint32_t i = 0; i < n; ++i) {
    if (chance(4))
      out += pick(kOdd);
    else
      out += kLetters[below(sizeof kLetters - 1)] + domid().substr(0, 5);
    out += '\0';
  }
  return out;
}

std::string Gen::token() {
  static const char* kTokens[] = {"tA", "tB", "W", "tok-a", "x", ""};
  return pick(kTokens);
}

std::string Gen::args(std::vector<std::string> parts) {
  std::string out;
  for (const auto& p : parts) out += p + '\0';
  if (chance(6) && !out.empty()) out.pop_back();
  return out;
}

Op Gen::request(Actor a) {
  Op op;
  op.actor = a;
  if (chance(30)) op.tx = static_cast<int>(below(kTxSlots));
  if (chance(2)) op.tx = kBogusTx;
  std::uint32_t r = below(1000);
  auto set = [&](MsgType t, std::string payload) {
    op.type = ty(t);
    op.payload = std::move(payload);
  };
  if (r < 120) {
    set(MsgType::XS_READ, args({path(a)}));
  } else if (r < 270) {
    std::string p = path(a) + '\0' + value();
    set(MsgType::XS_WRITE, p);
  } else if (r < 330) {
    set(MsgType::XS_MKDIR, args({path(a)}));
  } else if (r < 390) {
    set(MsgType::XS_RM, args({path(a)}));
  } else if (r < 450) {
    set(MsgType::XS_DIRECTORY, args({path(a)}));
  } else if (r < 475) {
    static const char* kOff[] = {"0", "0", "1", "3", "9999", "abc", "", "-1"};
    set(MsgType::XS_DIRECTORY_PART, args({path(a), pick(kOff)}));
  } else if (r < 535) {
    set(MsgType::XS_GET_PERMS, args({path(a)}));
  } else if (r < 645) {
    std::string p = path(a) + '\0' + perms();
    if (chance(8)) p.pop_back();
    set(MsgType::XS_SET_PERMS, p);
  } else if (r < 705) {
    op.tx = kNoTx;
    set(MsgType::XS_WATCH, args({path(a), token()}));
  } else if (r < 735) {
    op.tx = kNoTx;
    set(MsgType::XS_UNWATCH, args({path(a), token()}));
  } else if (r < 785) {
    op.tx = chance(95) ? static_cast<int>(below(kTxSlots)) : kBogusTx;
    set(MsgType::XS_TRANSACTION_START, chance(95) ? std::string(1, '\0') : "");
  } else if (r < 840) {
    static const char* kEnd[] = {"T", "T", "T", "F", "", "X"};
    if (op.tx == kNoTx) op.tx = static_cast<int>(below(kTxSlots));
    set(MsgType::XS_TRANSACTION_END, args({pick(kEnd)}));
  } else if (r < 860) {
    set(MsgType::XS_GET_DOMAIN_PATH, args({domid()}));
  } else if (r < 880) {
    set(MsgType::XS_IS_DOMAIN_INTRODUCED, args({domid()}));
  } else if (r < 890) {
    // Real introductions are host ops (the ring must be prepared); these
    // are the malformed ones and those of known domains.
    static const std::string_view kIntro[] = {
        "5\0"sv, "abc\0004101\0001\0"sv, "5\0004101\0000\0"sv, "x\0"sv, ""sv};
    set(MsgType::XS_INTRODUCE, std::string(pick(kIntro)));
  } else if (r < 905) {
    set(MsgType::XS_RELEASE, args({domid()}));
  } else if (r < 915) {
    set(MsgType::XS_RESUME, args({domid()}));
  } else if (r < 930) {
    set(MsgType::XS_SET_TARGET, args({domid(), domid()}));
  } else if (r < 940) {
    set(MsgType::XS_RESET_WATCHES, chance(80) ? std::string(1, '\0') : "");
  } else if (r < 950) {
    static const char* kCtl[] = {"nonsense", "print", "check", ""};
    set(MsgType::XS_CONTROL, args({pick(kCtl)}));
  } else if (r < 960) {
    static const std::uint32_t kTypes[] = {15, 16, 20, 27, 99, 0xffff};
    op.type = pick(kTypes);
    op.payload = args({path(a)});
  } else if (r < 970) {
    static const std::uint32_t kNew[] = {23, 24, 25, 26};
    op.type = pick(kNew);
    op.payload = a >= 2 ? args({"5", "nodes"}) : args({"junk"});
  } else {
    // A one-argument request with a payload that is not one string.
    static const MsgType kOne[] = {MsgType::XS_READ, MsgType::XS_RM,
                                   MsgType::XS_MKDIR, MsgType::XS_DIRECTORY,
                                   MsgType::XS_GET_PERMS};
    static const std::string_view kMal[] = {""sv, "/t"sv, "/t\0/x\0"sv, "\0"sv};
    set(pick(kOne), std::string(pick(kMal)));
  }
  return op;
}

Op Gen::host() {
  Op op;
  op.actor = kHost;
  static const OpKind kKinds[] = {OpKind::kCreate, OpKind::kKill,
                                  OpKind::kDestroy, OpKind::kIntroduce,
                                  OpKind::kIntroduce};
  op.kind = pick(kKinds);
  static const std::uint32_t kDoms[] = {5, 6, 7, 8, 8};
  op.domid = pick(kDoms);
  return op;
}

Op Gen::next() {
  std::uint32_t r = below(1000);
  if (r < 25) return host();
  Actor a = actor();
  if (r < 28) {
    Op op;
    op.kind = OpKind::kOversize;
    op.actor = a;
    return op;
  }
  return request(a);
}

}  // namespace

std::vector<Op> generate(std::uint64_t seed, std::size_t count) {
  Gen g(seed);
  std::vector<Op> ops;
  ops.reserve(count);
  for (std::size_t i = 0; i < count; ++i) ops.push_back(g.next());
  return ops;
}

}  // namespace cxs::diff
