// CONTROL commands: see control.h.
#include "daemon/control.h"

#include <fstream>
#include <limits>
#include <new>
#include <sstream>

#include <spdlog/spdlog.h>

#include "daemon/server.h"
#include "daemon/version.h"
#include "ops/handlers.h"
#include "store/path.h"

namespace cxs::daemon {
namespace {

constexpr std::size_t kAny = std::numeric_limits<std::size_t>::max();

std::string ok() { return std::string("OK\0", 3); }

std::string quota_report(const store::Quota& q, bool soft) {
  std::ostringstream out;
  if (soft) {
    out << "memory: " << q.soft_memory << "\n";
    return out.str();
  }
  store::for_each_hard_quota([&](const store::QuotaSpec& spec) {
    out << spec.name << ": " << q.*spec.field << "\n";
  });
  return out.str();
}

std::string rss_line() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return line;
  return "VmRSS: unknown";
}

}  // namespace

// C 4.17's commands, in its order, and "version", cxenstored's own (C
// answers it EINVAL): which build serves, as `cxenstored --version`
// prints it. live-update checks its own arguments (live_update.h).
const std::array<Control::Command, 10> Control::kCommands = {{
    {"check", "", 0, kAny, &Control::check},
    {"log", "on|off", 1, 1, &Control::log},
    {"live-update",
     "[-c <cmdline>] [-F] [-t <timeout>] <file> | -s | -a\n"
     "    The update is not started before -s; it waits up to <timeout> "
     "seconds (60)\n    for transactions to end, -F then ends them.",
     0, kAny, &Control::live_update},
    {"logfile", "<file>", 1, 1, &Control::logfile},
    {"memreport", "", 0, kAny, &Control::memreport},
    {"print", "<string>", 1, 1, &Control::print},
    {"quota", "[set <name> <val>|<domid>]", 0, 3, &Control::quota},
    {"quota-soft", "[set memory <val>]", 0, 3, &Control::quota_soft},
    {"version", "", 0, 0, &Control::version},
    {"help", "", 0, kAny, &Control::show_help},
}};

Result<std::string> Control::run(const ops::Session& s, const Args& args) {
  std::size_t nargs = args.size() - 1;
  for (const Command& c : kCommands) {
    if (c.name != args[0]) continue;
    if (nargs < c.min_args || nargs > c.max_args) return XsErr::kEINVAL;
    return (this->*c.handler)(s, args);
  }
  return XsErr::kEINVAL;
}

std::string Control::help() {
  std::string out;
  for (const Command& c : kCommands)
    ((((out += c.name) += '\t') += c.params) += '\n');
  return out;
}

Result<std::string> Control::show_help(const ops::Session&, const Args&) {
  return reply_text(help());
}

Result<std::string> Control::check(const ops::Session&, const Args&) {
  std::string problems = server_.check_store();
  if (problems.empty()) return ok();
  spdlog::error("store check: {}", problems);
  return reply_text(problems);
}

Result<std::string> Control::log(const ops::Session&, const Args& args) {
  if (args[1] != "on" && args[1] != "off") return XsErr::kEINVAL;
  spdlog::set_level(args[1] == "on" ? spdlog::level::debug
                                    : spdlog::level::info);
  return ok();
}

Result<std::string> Control::live_update(const ops::Session& s,
                                         const Args& args) {
  return server_.live_update_control(s, args);
}

Result<std::string> Control::logfile(const ops::Session&, const Args& args) {
  if (!server_.trace_.open(std::string(args[1]))) return XsErr::kEIO;
  return ok();
}

// What the memory quota charges, summed: every domain's nodes, and what
// each connection holds (watches, transactions, queues).
Result<std::string> Control::memreport(const ops::Session&, const Args&) {
  std::size_t held = 0;
  for (const auto& kv : server_.clients_)
    held += server_.memory_held(kv.second);
  const store::Store& st = server_.store_;
  std::ostringstream out;
  out << rss_line() << "\nnodes: " << st.tree().size()
      << "\nwatches: " << server_.watches_.total()
      << "\ntransactions: " << st.open_transactions()
      << "\nconnections: " << server_.clients_.size()
      << "\ncharged-nodes: " << st.tree().total_usage().bytes
      << "\ncharged-connections: " << held << "\n";
  spdlog::info("memreport: {}", out.str());
  return reply_text(out.str());
}

Result<std::string> Control::print(const ops::Session&, const Args& args) {
  spdlog::info("control print: {}", args[1]);
  return ok();
}

// quota: the defaults in force; quota set <name> <value>; quota <domid>:
// what the domain uses.
Result<std::string> Control::quota(const ops::Session&, const Args& args) {
  std::size_t nargs = args.size() - 1;
  if (nargs == 0)
    return reply_text(quota_report(server_.quotas_.defaults(), false));
  if (nargs == 3 && args[1] == "set") {
    auto value = ops::parse_decimal<std::size_t>(args[3]);
    if (!value) return XsErr::kEINVAL;
    CXS_TRY(server_.set_quota(std::nullopt, args[2], *value));
    return ok();
  }
  if (nargs != 1) return XsErr::kEINVAL;
  auto domid = ops::parse_domid(args[1]);
  if (!domid) return XsErr::kEINVAL;
  store::Tree::Usage u = server_.store_.tree().usage(*domid);
  std::size_t watches = 0;
  std::size_t memory = u.bytes;  // as the memory quota counts it
  for (const auto& [id, c] : server_.clients_) {
    if (c.session.caller.dom.value != domid->value) continue;
    watches += server_.watches_.count(id);
    memory += server_.memory_held(c);
  }
  std::ostringstream out;
  out << "nodes: " << u.nodes << "\nmemory: " << memory
      << "\nwatches: " << watches << "\n";
  return reply_text(out.str());
}

Result<std::string> Control::quota_soft(const ops::Session&, const Args& args) {
  std::size_t nargs = args.size() - 1;
  if (nargs == 0)
    return reply_text(quota_report(server_.quotas_.defaults(), true));
  if (nargs != 3 || args[1] != "set" || args[2] != "memory")
    return XsErr::kEINVAL;
  auto value = ops::parse_decimal<std::size_t>(args[3]);
  if (!value) return XsErr::kEINVAL;
  server_.quotas_.set_soft_memory(*value);
  return ok();
}

Result<std::string> Control::version(const ops::Session&, const Args&) {
  return reply_text("cxenstored " + std::string(version_string()) + "\n");
}

// No exception may leave a hook (noexcept): out of memory is a refusal.
Result<std::string> Server::control(
    const ops::Session& s, const std::vector<std::string_view>& args) noexcept {
  try {
    return Control(*this).run(s, args);
  } catch (const std::bad_alloc&) {
    return XsErr::kENOMEM;
  }
}

// CONTROL live-update (see live_update.h). As in the C daemon, a step that
// cannot be taken is answered with a text, not an error: xenstore-control
// prints it. A -s gets no reply here: the new daemon sends the "OK".
Result<std::string> Server::live_update_control(
    const ops::Session& s, const std::vector<std::string_view>& args) {
  auto parsed = parse_live_update_args(args);
  if (!parsed) return XsErr::kEINVAL;
  bool owner = lu_ && lu_->owner == s.conn;
  switch (parsed->step) {
    case LiveUpdateArgs::Step::kFile: {
      std::string binary(parsed->value);
      if (auto why = check_target_file(binary)) return reply_text(*why);
      if (lu_) return reply_text("live-update session already active.");
      lu_.emplace();
      lu_->owner = s.conn;
      lu_->binary = std::move(binary);
      spdlog::info("live update: session opened by conn {} for {}",
                   s.conn.value, lu_->binary);
      return ok();
    }
    case LiveUpdateArgs::Step::kCmdline:
      if (!owner || lu_->started)
        return reply_text("Not in live-update session.");
      lu_->cmdline = std::string(parsed->value);
      return ok();
    case LiveUpdateArgs::Step::kAbort:
      if (!owner) return reply_text("No live-update session active.");
      spdlog::info("live update: aborted by conn {}", s.conn.value);
      end_live_update(std::nullopt);
      return ok();
    case LiveUpdateArgs::Step::kStart:
      if (!owner || lu_->started)
        return reply_text("Not in live-update session.");
      lu_->started = true;
      lu_->force = parsed->force;
      lu_->timeout_s = parsed->timeout_s;
      lu_->version = parsed->version;
      lu_->start_request = *handling_;
      lu_->started_at = LiveUpdateSession::Clock::now();
      reply_deferred_ = true;
      spdlog::info("live update: pending (timeout {} s{})", lu_->timeout_s,
                   lu_->force ? ", forced" : "");
      return std::string();
  }
  return XsErr::kEINVAL;
}

// Every child named by a node exists, and every node but the root and the
// special nodes is named by its parent.
std::string Server::check_store() const {
  std::ostringstream problems;
  std::vector<std::string> stack{"/"};
  std::size_t reachable = 0;
  while (!stack.empty()) {
    std::string path = std::move(stack.back());
    stack.pop_back();
    store::NodeView n = store_.tree().find(path);
    if (!n) {
      problems << "missing child " << path << "; ";
      continue;
    }
    ++reachable;
    n.children().for_each([&](std::string_view name) {
      stack.push_back(store::join(path, name));
    });
  }
  std::size_t specials = 2;
  if (reachable + specials != store_.tree().size())
    problems << "unreachable nodes: "
             << store_.tree().size() - specials - reachable << "; ";
  return problems.str();
}

}  // namespace cxs::daemon
