// One step of a differential run: a request sent by one actor (a dom0
// socket or a guest's ring), a frame that breaks the protocol, or a
// hypervisor event (a domain created, dying, gone, introduced). A sequence
// of them is what the generator makes, both daemons replay and the shrinker
// cuts down; its text form (one op per line) is what a failure prints and
// what --replay reads back, so a reproduction can be pasted into a test.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cxs::diff {

// Who acts. Dom0 has two socket connections (kSockA, kSockB) so that one
// dom0 client can watch what the other does; a guest acts on its ring.
using Actor = int;
inline constexpr Actor kSockA = 0;
inline constexpr Actor kSockB = 1;
inline constexpr Actor kHost = -1;  // the hypervisor / toolstack

// The domains of the simulated host: 5, 6 and 7 are introduced at set-up,
// 8 exists but is never introduced by the set-up, 9 never exists.
inline constexpr std::uint32_t kGuests[] = {5, 6, 7};
inline constexpr std::uint32_t kUnintroduced = 8;
inline constexpr std::uint32_t kNonexistent = 9;

enum class OpKind {
  kRequest,   // a well-framed message; the payload may be anything
  kOversize,  // a header announcing len > 4096: a protocol fault
  kCreate,    // host: domain exists (alive), not introduced
  kKill,      // host: domain dying (-D), VIRQ_DOM_EXC
  kDestroy,   // host: domain gone, VIRQ_DOM_EXC
  kIntroduce  // host: domain alive, ring zeroed, home made, XS_INTRODUCE
};

// Which transaction a request runs in: none, a slot of the actor's own
// (filled by its TRANSACTION_START with that slot), or an id no daemon
// gave out.
inline constexpr int kNoTx = -1;
inline constexpr int kBogusTx = -2;
inline constexpr std::uint32_t kBogusTxId = 0x7ffffff0;
inline constexpr int kTxSlots = 3;

struct Op {
  OpKind kind = OpKind::kRequest;
  Actor actor = kSockA;
  std::uint32_t type = 0;
  std::string payload;
  int tx = kNoTx;           // tx slot, kNoTx or kBogusTx
  std::uint32_t domid = 0;  // host ops
};

// One line: `A WRITE tx1 "/t/p\0old"`, `g5 READ "x\0"`,
// `host kill 6`, `B oversize`. Payloads use C escapes (\0, \xNN, \", \\).
std::string to_text(const Op& op);
std::optional<Op> from_text(std::string_view line);

std::string actor_name(Actor a);
// "WRITE" for XS_WRITE, "T20" for a type without a name.
std::string type_name(std::uint32_t type);
std::string escape(std::string_view bytes);

std::string to_text(const std::vector<Op>& ops);
// Ignores blank lines and lines starting with '#'; nullopt on a bad line.
std::optional<std::vector<Op>> ops_from_text(std::string_view text);

}  // namespace cxs::diff
