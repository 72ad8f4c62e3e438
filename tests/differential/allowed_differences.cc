#include "allowed_differences.h"

#include <algorithm>
#include <set>
#include <string>

#include "test_util.h"
#include "wire/message_type.h"

namespace cxs::diff {
namespace {

using test::ty;
using wire::MsgType;

bool is(const Op& op, MsgType t) {
  return op.kind == OpKind::kRequest && op.type == ty(t);
}

bool is_error(const Observation& o) { return o.reply.rfind("error ", 0) == 0; }

// The events are the same; only the replies differ.
bool same_events(const Observation& a, const Observation& b) {
  return a.events == b.events;
}

// A payload that is exactly one NUL-terminated string.
bool one_string(const std::string& p) {
  return !p.empty() && p.back() == '\0' && p.find('\0') == p.size() - 1;
}

bool one_argument_type(const Op& op) {
  static const MsgType kOne[] = {MsgType::XS_READ,
                                 MsgType::XS_RM,
                                 MsgType::XS_MKDIR,
                                 MsgType::XS_DIRECTORY,
                                 MsgType::XS_GET_PERMS,
                                 MsgType::XS_GET_DOMAIN_PATH,
                                 MsgType::XS_RELEASE,
                                 MsgType::XS_RESUME,
                                 MsgType::XS_IS_DOMAIN_INTRODUCED,
                                 MsgType::XS_TRANSACTION_START,
                                 MsgType::XS_TRANSACTION_END,
                                 MsgType::XS_RESET_WATCHES};
  return std::any_of(std::begin(kOne), std::end(kOne),
                     [&](MsgType t) { return is(op, t); });
}

// A domid as cxenstored accepts it: decimal, no sign, no leading zero,
// below 65536.
bool canonical_domid(std::string_view s) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return false;
  if (s.find_first_not_of("0123456789") != std::string_view::npos) return false;
  return std::stoul(std::string(s)) < 65536;
}

std::vector<std::string> nul_terminated_args(const std::string& p) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nul; (nul = p.find('\0', start)) != std::string::npos;
       start = nul + 1)
    out.push_back(p.substr(start, nul - start));
  return out;
}

bool is_domain_op(const Op& op) {
  static const MsgType kDom[] = {
      MsgType::XS_GET_DOMAIN_PATH, MsgType::XS_IS_DOMAIN_INTRODUCED,
      MsgType::XS_RELEASE,         MsgType::XS_RESUME,
      MsgType::XS_SET_TARGET,      MsgType::XS_INTRODUCE};
  return std::any_of(std::begin(kDom), std::end(kDom),
                     [&](MsgType t) { return is(op, t); });
}

// Some argument that must be a domid is not written as cxenstored reads
// domids ("abc", "-1", "0x5", "05", "70000"; C reads them with atoi or
// strtol).
bool has_sloppy_domid(const Op& op) {
  auto args = nul_terminated_args(op.payload);
  if (is_domain_op(op)) {
    std::size_t n = is(op, MsgType::XS_SET_TARGET) ? 2 : 1;
    if (args.size() < n) return false;
    for (std::size_t i = 0; i < n; ++i)
      if (!canonical_domid(args[i])) return true;
    return false;
  }
  if (!is(op, MsgType::XS_SET_PERMS)) return false;
  for (std::size_t i = 1; i < args.size(); ++i)
    if (args[i].empty() || !canonical_domid(args[i].substr(1))) return true;
  return false;
}

// The path an op names, made absolute for `dom` as the daemon would.
std::string absolute(std::string path, std::uint32_t dom) {
  if (path.empty() || path[0] == '/' || path[0] == '@') return path;
  return "/local/domain/" + std::to_string(dom) + "/" + path;
}

std::uint32_t dom_of(const std::string& channel) {
  return channel[0] == 'g' ? std::stoul(channel.substr(1)) : 0;
}

bool strictly_below(const std::string& path, const std::string& top) {
  return path.size() > top.size() && path.compare(0, top.size(), top) == 0 &&
         (top == "/" || path[top.size()] == '/');
}

// `ours` is `ref` plus events for watches below `top` (in order otherwise).
bool extra_events_below(const Observation& ours, const Observation& ref,
                        const std::string& top) {
  if (ours.reply != ref.reply) return false;
  bool extra = false;
  for (const auto& [chan, evs] : ours.events) {
    auto it = ref.events.find(chan);
    std::vector<std::string> none;
    const auto& want = it == ref.events.end() ? none : it->second;
    std::size_t j = 0;
    for (const auto& e : evs) {
      if (j < want.size() && e == want[j]) {
        ++j;
        continue;
      }
      std::string path = e.substr(0, e.find("\\0"));
      if (!strictly_below(absolute(path, dom_of(chan)), top)) return false;
      extra = true;
    }
    if (j != want.size()) return false;
  }
  for (const auto& [chan, evs] : ref.events)
    if (!ours.events.count(chan)) return false;
  return extra;
}

std::uint32_t actor_dom(const Op& op) {
  return op.actor >= 2 ? static_cast<std::uint32_t>(op.actor) : 0;
}

std::string first_arg(const Op& op) {
  return op.payload.substr(0, op.payload.find('\0'));
}

// The entries of a shown GET_PERMS reply ("GET_PERMS \"n0\\0r6\\0\""),
// empty if it is not one.
std::vector<std::string> shown_perms(const Observation& o) {
  const std::string kHead = "GET_PERMS \"";
  std::vector<std::string> out;
  if (o.reply.rfind(kHead, 0) != 0) return out;
  std::string body = o.reply.substr(kHead.size());
  std::size_t start = 0;
  for (std::size_t at; (at = body.find("\\0", start)) != std::string::npos;
       start = at + 2)
    out.push_back(body.substr(start, at - start));
  return out;
}

// An entry naming one of `doms` ("r05" names 5, as both daemons read it).
bool names_one_of(const std::string& entry,
                  const std::set<std::uint32_t>& doms) {
  std::string d = entry.substr(std::min<std::size_t>(1, entry.size()));
  return !d.empty() && d.size() <= 5 &&
         d.find_first_not_of("0123456789") == std::string::npos &&
         doms.count(std::stoul(d));
}

// The request succeeded and is one that changes the store, a watch list
// or the domains.
bool changes_state(const Op& op, const Observation& o) {
  static const MsgType kChanging[] = {
      MsgType::XS_WRITE,          MsgType::XS_MKDIR,      MsgType::XS_RM,
      MsgType::XS_SET_PERMS,      MsgType::XS_WATCH,      MsgType::XS_RELEASE,
      MsgType::XS_RESUME,         MsgType::XS_SET_TARGET, MsgType::XS_INTRODUCE,
      MsgType::XS_TRANSACTION_END};
  return !is_error(o) && std::any_of(std::begin(kChanging), std::end(kChanging),
                                     [&](MsgType t) { return is(op, t); });
}

// `a` is `b` with some elements left out, in order.
bool is_subsequence(const std::vector<std::string>& a,
                    const std::vector<std::string>& b) {
  std::size_t j = 0;
  for (const auto& x : b)
    if (j < a.size() && a[j] == x) ++j;
  return j == a.size();
}

const std::vector<AllowedDifference> kTable = {
    {"xen-4.22-message-types", "Rings and domains",
     "GET/SET_QUOTA and GET/SET_FEATURE are Xen 4.22; 4.17 answers ENOSYS",
     false, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       return op.kind == OpKind::kRequest && op.type >= 23 && op.type <= 26 &&
              ref.reply == "error ENOSYS" && same_events(ours, ref) &&
              (is_error(ours) || op.type == 23 || op.type == 25);
     }},
    {"introduce-malformed-domid", "Rings and domains",
     "C atoi's the domid of INTRODUCE (abc is dom0); a malformed domid is "
     "an error",
     false, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       return is(op, MsgType::XS_INTRODUCE) &&
              op.payload.rfind("abc", 0) == 0 && ours.reply == "error EINVAL" &&
              ref.reply == "INTRODUCE OK" && same_events(ours, ref);
     }},
    {"one-argument-payload", "Framing and errors",
     "a one-argument payload that is not one NUL-terminated string is "
     "EINVAL, never C's stale errno",
     false, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       return one_argument_type(op) && !one_string(op.payload) &&
              ours.reply == "error EINVAL" && is_error(ref) &&
              same_events(ours, ref);
     }},
    {"strict-domid", "Framing and errors",
     "a domid must be written in decimal, below 65536; C reads \"abc\" as "
     "0, \"0x5\" as 5 and \"-1\" as 4294967295",
     false, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       return has_sloppy_domid(op) && ours.reply == "error EINVAL" &&
              ref.reply != ours.reply && !changes_state(op, ref) &&
              same_events(ours, ref);
     }},
    {"strict-domid-c-acted", "Framing and errors",
     "the same, where C went on and changed its store or its domains", true,
     false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       return has_sloppy_domid(op) && ours.reply == "error EINVAL" &&
              changes_state(op, ref);
     }},
    {"directory-part-offset", "Framing and errors",
     "a DIRECTORY_PART offset must be a decimal number; C reads it with "
     "atoi",
     false, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       auto args = nul_terminated_args(op.payload);
       return is(op, MsgType::XS_DIRECTORY_PART) && args.size() == 2 &&
              (args[1].empty() ||
               args[1].find_first_not_of("0123456789") != std::string::npos) &&
              ours.reply == "error EINVAL" && ref.reply != ours.reply &&
              same_events(ours, ref);
     }},
    {"special-node-permissions", "Paths",
     "GET_PERMS of @introduceDomain/@releaseDomain shows what SET_PERMS "
     "set; C answers EINVAL",
     false, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       std::string p = first_arg(op);
       return is(op, MsgType::XS_GET_PERMS) &&
              (p == "@introduceDomain" || p == "@releaseDomain") &&
              ref.reply == "error EINVAL" && same_events(ours, ref);
     }},
    {"rm-fires-watches-below", "Watches",
     "removing a subtree also fires watches below it on paths that did not "
     "exist; C 4.17 tells them nothing",
     false, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       return is(op, MsgType::XS_RM) &&
              extra_events_below(ours, ref,
                                 absolute(first_arg(op), actor_dom(op)));
     }},
    {"release-fires-watches-below", "Watches",
     "the same when a domain's nodes go with it (RELEASE, death): watches "
     "below the nodes it owned, on paths that did not exist, fire here, "
     "not in C (which nodes went is not known here: any extra event is "
     "taken, C's must all be there in order)",
     false, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       if (op.kind != OpKind::kKill && op.kind != OpKind::kDestroy &&
           !is(op, MsgType::XS_RELEASE))
         return false;
       if (ours.reply != ref.reply) return false;
       for (const auto& [chan, evs] : ref.events) {
         auto it = ours.events.find(chan);
         if (it == ours.events.end() || !is_subsequence(evs, it->second))
           return false;
       }
       return true;
     }},
    {"set-perms-of-special-name-refused", "Permissions",
     "SET_PERMS of a special name the caller may not set (EACCES) or that "
     "names no special node (EINVAL); C 4.17 answers a stale errno (or "
     "dies, a fault recorded apart)",
     false, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       std::string p = first_arg(op);
       return is(op, MsgType::XS_SET_PERMS) && !p.empty() && p[0] == '@' &&
              (ours.reply == "error EACCES" || ours.reply == "error EINVAL") &&
              is_error(ref) && same_events(ours, ref);
     }},
    {"unintroduced-domain-death", "Permissions",
     "a domain named in permissions but not introduced is watched too: "
     "when it dies its nodes and entries go (XSA-417); C keeps them",
     true, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel& model) {
       return (op.kind == OpKind::kKill || op.kind == OpKind::kDestroy) &&
              !model.introduced.count(op.domid) && ours.reply == ref.reply &&
              ref.events.empty();
     }},
    {"dom0-path-length", "Paths",
     "privileged callers may use absolute paths up to 3072 bytes; C "
     "limits every caller to 2048 after the domain's home",
     true, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       // In a transaction even a read changes what the commit checks.
       return op.actor < 2 && first_arg(op).size() > 2048 &&
              ref.reply == "error EINVAL" && ours.reply != ref.reply &&
              (changes_state(op, ours) || op.tx >= 0);
     }},
    {"dom0-path-length-query", "Paths",
     "the same, for a request that changes nothing", false, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       return op.actor < 2 && first_arg(op).size() > 2048 &&
              ref.reply == "error EINVAL" && ours.reply != ref.reply &&
              !changes_state(op, ours) && op.tx < 0 && same_events(ours, ref);
     }},
    {"entries-of-gone-domains", "Permissions",
     "permission entries naming a domain are dropped when it is released "
     "or dies; C keeps listing them",
     false, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel& model) {
       if (!is(op, MsgType::XS_GET_PERMS)) return false;
       auto mine = shown_perms(ours);
       auto theirs = shown_perms(ref);
       if (mine.empty() || theirs.empty() || mine[0] != theirs[0]) return false;
       // Entries ours may have dropped: those naming a domain that is
       // gone, or that was never there (dropped at the next VIRQ).
       std::set<std::uint32_t> live(model.introduced);
       live.insert(0);
       live.insert(kUnintroduced);
       std::vector<std::string> kept;
       for (std::size_t i = 1; i < theirs.size(); ++i) {
         const std::string& e = theirs[i];
         bool droppable = names_one_of(e, model.gone) ||
                          (e.size() > 1 && !names_one_of(e, live));
         if (!droppable || std::find(mine.begin() + 1, mine.end(), e) !=
                               mine.end())
           kept.push_back(e);
       }
       return std::equal(mine.begin() + 1, mine.end(), kept.begin(),
                         kept.end()) &&
              same_events(ours, ref);
     }},
    {"entries-naming-dying-domains", "Permissions",
     "a domain the hypervisor lists as dying no longer exists for "
     "permission entries (XSA-322); C treats it as existing",
     true, true,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel& model) {
       if (!is(op, MsgType::XS_SET_PERMS)) return false;
       auto args = nul_terminated_args(op.payload);
       // Both refusing: only a dying owner (checked before the node here)
       // may make the errors differ.
       if (is_error(ours) && is_error(ref))
         return args.size() > 1 && names_one_of(args[1], model.dying) &&
                ours.reply == "error ENOENT";
       for (std::size_t i = 1; i < args.size(); ++i)
         if (names_one_of(args[i], model.dying)) return true;
       return false;
     }},
    {"watch-event-parent-readable", "Watches",
     "an event goes to a watcher that may read the node; C 4.17 also tells "
     "one that may read only its parent (XSA-115)",
     false, false,
     [](const Op&, const Observation& ours, const Observation& ref,
        const HostModel&) {
       if (ours.reply != ref.reply) return false;
       bool extra = false;
       for (const auto& [chan, evs] : ref.events) {
         auto it = ours.events.find(chan);
         std::vector<std::string> none;
         const auto& mine = it == ours.events.end() ? none : it->second;
         if (mine == evs) continue;
         // Only a guest may be told less, and only by dropping events.
         if (chan[0] != 'g' || !is_subsequence(mine, evs)) return false;
         extra = true;
       }
       for (const auto& [chan, evs] : ours.events)
         if (!ref.events.count(chan)) return false;
       return extra;
     }},
    {"transaction-survives-a-refusal", "Transactions",
     "a request refused on a quota inside a transaction changed nothing, so "
     "the transaction may still commit; C fails the commit with ENOMEM",
     true, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       return is(op, MsgType::XS_TRANSACTION_END) &&
              ours.reply == "TRANSACTION_END OK" && ref.reply == "error ENOMEM";
     }},
    {"transaction-survives-a-refusal-conflict", "Transactions",
     "the same transaction conflicting: EAGAIN here (retry), ENOMEM in C; "
     "neither commits",
     false, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       return is(op, MsgType::XS_TRANSACTION_END) &&
              ours.reply == "error EAGAIN" && ref.reply == "error ENOMEM" &&
              same_events(ours, ref);
     }},
    {"watch-quota", "Watches",
     "the watch quota refuses the watch that would pass it (ENOSPC); C 4.17 "
     "takes one more",
     true, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       return is(op, MsgType::XS_WATCH) && op.actor >= 2 &&
              ours.reply == "error ENOSPC" &&
              (ref.reply == "WATCH OK" || ref.reply == "error E2BIG");
     }},
    {"transaction-quota", "Transactions",
     "the transactions quota refuses the transaction that would pass it "
     "(ENOSPC); C 4.17 opens one more",
     true, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       return is(op, MsgType::XS_TRANSACTION_START) && op.actor >= 2 &&
              ours.reply == "error ENOSPC" &&
              ref.reply == "TRANSACTION_START \"<tx>\"";
     }},
    {"root-owner-goes", "Permissions",
     "when a domain dom0 made owner of \"/\" goes, \"/\" passes to dom0 "
     "here; C 4.17 removes what it can below it and refuses dom0 \"/\"",
     true, true,
     [](const Op& op, const Observation&, const Observation&,
        const HostModel& model) {
       std::uint32_t dom = op.domid;
       if (is(op, MsgType::XS_RELEASE))
         dom = static_cast<std::uint32_t>(std::strtoul(op.payload.c_str(),
                                                       nullptr, 10));
       else if (op.kind != OpKind::kKill && op.kind != OpKind::kDestroy)
         return false;
       return model.own_root.count(dom) != 0;
     }},
    {"target-never-released", "Rings and domains",
     "C 4.17 never releases a domain that SET_TARGET made some domain's "
     "target (its own too): no @releaseDomain, its nodes stay, when it "
     "dies; cxenstored releases it",
     true, true,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel& model) {
       return (op.kind == OpKind::kKill || op.kind == OpKind::kDestroy) &&
              model.targeted.count(op.domid) && ours.reply == ref.reply;
     }},
    {"no-conflict-without-read", "Transactions",
     "what the transaction only wrote, a child list it changed without "
     "listing it, and an ancestor it only looked at do not conflict with "
     "an outside change of them; C fails the commit with EAGAIN",
     true, false,
     [](const Op& op, const Observation& ours, const Observation& ref,
        const HostModel&) {
       return is(op, MsgType::XS_TRANSACTION_END) &&
              ours.reply == "TRANSACTION_END OK" &&
              ref.reply == "error EAGAIN";
     }},
};

}  // namespace

const std::vector<AllowedDifference>& allowed_differences() { return kTable; }

const AllowedDifference* find_allowed(const Op& op, const Observation& ours,
                                      const Observation& ref,
                                      const HostModel& model) {
  // The first match, unless a later one says the stores part (then both
  // daemons must start again whatever else explains the answers).
  bool equal = ours == ref;
  const AllowedDifference* found = nullptr;
  for (const auto& a : kTable) {
    if ((equal && !a.on_equal) || !a.matches(op, ours, ref, model)) continue;
    if (a.restart || a.on_equal) return &a;
    if (!found) found = &a;
  }
  return found;
}

}  // namespace cxs::diff
