#include "runner.h"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>

#include "allowed_differences.h"
#include "test_util.h"
#include "wire/message_type.h"

namespace cxs::diff {
namespace {

using test::ty;
using wire::MsgType;

bool is_guest(Actor a) { return a >= 2; }

HostModel initial_model() {
  HostModel m;
  for (std::uint32_t d : kGuests) m.introduced.insert(d);
  return m;
}

// A guest whose ring is not served cannot act: the op is skipped on both.
bool can_act(const Op& op, const HostModel& m) {
  if (op.kind != OpKind::kRequest && op.kind != OpKind::kOversize) return true;
  if (!is_guest(op.actor)) return true;
  auto d = static_cast<std::uint32_t>(op.actor);
  return m.introduced.count(d) && !m.broken.count(d);
}

void forget_guest(HostModel& m, std::uint32_t d) {
  if (m.introduced.count(d)) m.gone.insert(d);
  m.introduced.erase(d);
  m.broken.erase(d);
  m.watching.erase(static_cast<Actor>(d));
}

// What both daemons agreed on changes who may act next.
void update_model(const Op& op, const Observation& o, HostModel& m) {
  if (op.kind == OpKind::kOversize) {
    if (is_guest(op.actor))
      m.broken.insert(static_cast<std::uint32_t>(op.actor));
    else
      m.watching.erase(op.actor);
    return;
  }
  if (op.kind == OpKind::kKill || op.kind == OpKind::kDestroy) {
    forget_guest(m, op.domid);
    m.gone.insert(op.domid);
    if (op.kind == OpKind::kKill)
      m.dying.insert(op.domid);
    else
      m.dying.erase(op.domid);
    return;
  }
  if (op.kind == OpKind::kCreate) m.dying.erase(op.domid);
  if (op.kind == OpKind::kIntroduce) {
    m.dying.erase(op.domid);
    if (o.reply == "OK") {
      m.introduced.insert(op.domid);
      m.broken.erase(op.domid);
    }
    return;
  }
  if (op.kind != OpKind::kRequest) return;
  if (o.reply == "closed") m.watching.erase(op.actor);
  if (op.type == ty(MsgType::XS_WATCH) && o.reply == "WATCH OK")
    m.watching.insert(op.actor);
  if (op.type == ty(MsgType::XS_SET_TARGET) && o.reply == "SET_TARGET OK") {
    std::size_t nul = op.payload.find('\0');
    if (nul != std::string::npos)
      m.targeted.insert(static_cast<std::uint32_t>(
          std::strtoul(op.payload.c_str() + nul + 1, nullptr, 10)));
  }
  if (op.type == ty(MsgType::XS_SET_PERMS) && o.reply == "SET_PERMS OK" &&
      (op.payload.rfind(std::string("/\0", 2), 0) == 0)) {
    const char* owner = op.payload.c_str() + 3;  // "/\0" + letter
    if (op.payload.size() > 3)
      m.own_root.insert(
          static_cast<std::uint32_t>(std::strtoul(owner, nullptr, 10)));
  }
  if (op.type == ty(MsgType::XS_RELEASE) && o.reply == "RELEASE OK")
    forget_guest(m, static_cast<std::uint32_t>(
                        std::strtoul(op.payload.c_str(), nullptr, 10)));
}

// A C daemon dying on an assertion closes its sockets before /proc shows
// it dead: a socket closed where no fault was sent is given a moment.
bool saw_close(const Observation& o) {
  if (o.reply == "closed") return true;
  for (const auto& [chan, evs] : o.events)
    for (const auto& e : evs)
      if (e == "sync: closed") return true;
  return false;
}

class Lockstep {
 public:
  Lockstep(const RunOptions& options) : options_(options) { start(); }

  void start() {
    ref_.reset();
    ours_.reset();
    ref_ =
        std::make_unique<Side>(test::Peer::kReferenceC, options_.daemon_args);
    ours_ =
        std::make_unique<Side>(test::Peer::kCxenstored, options_.daemon_args);
    model_ = initial_model();
  }

  bool ref_closed(const Observation& ref) const {
    if (!saw_close(ref)) return false;
    for (int i = 0; i < 100 && ref_->alive(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return !ref_->alive();
  }

  // Runs op `i`; returns a mismatch that is not accepted.
  std::optional<Mismatch> step(std::size_t i, const Op& op, RunStats& stats);

 private:
  const RunOptions& options_;
  std::unique_ptr<Side> ref_;
  std::unique_ptr<Side> ours_;
  HostModel model_;
};

std::optional<Mismatch> Lockstep::step(std::size_t i, const Op& op,
                                       RunStats& stats) {
  if (!can_act(op, model_)) {
    ++stats.skipped;
    return std::nullopt;
  }
  Observation ref = ref_->run(op, model_);
  Observation ours = ours_->run(op, model_);
  if (options_.verbose)
    std::cout << "#" << i << " " << to_text(op) << "\n  cxs: " << ours.text()
              << "\n  C:   " << ref.text() << "\n";
  Mismatch mm{i, op, ours, ref, ""};
  if (!ours_->alive()) {
    mm.note = "cxenstored died:\n" + ours_->log_tail();
    return mm;
  }
  if (ref.reply == "crashed" || !ref_->alive() || ref_closed(ref)) {
    stats.reference_faults.push_back(to_text(op) +
                                     " (cxenstored: " + ours.reply + ")");
    if (ours.reply.rfind("error ", 0) != 0) {
      mm.note = "the C daemon died on this op and cxenstored did not refuse it";
      return mm;
    }
    ++stats.restarts;
    start();
    return std::nullopt;
  }
  // The reference alive but silent past the reply timeout (seen once in
  // CI, on a loaded machine, for a request it answers at once when
  // replayed): its fault, not a difference of ours. Both start afresh.
  if (ref.reply == "no reply" && ours.reply != "no reply") {
    stats.reference_faults.push_back(
        to_text(op) + " (C: no reply; cxenstored: " + ours.reply + ")");
    ++stats.restarts;
    start();
    return std::nullopt;
  }
  ++stats.ops;
  for (const auto& [chan, evs] : ref.events) stats.events += evs.size();
  const AllowedDifference* a = find_allowed(op, ours, ref, model_);
  if (!(ours == ref)) {
    if (!a) return mm;
    ++stats.allowed[a->name];
  }
  // Some differences are in the stores, not in this op's answers.
  if (a && (a->restart || a->on_equal)) {
    ++stats.restarts;
    start();
    return std::nullopt;
  }
  update_model(op, ref, model_);
  ref_->after(op, model_);
  ours_->after(op, model_);
  return std::nullopt;
}

}  // namespace

std::string Mismatch::signature() const {
  std::string kind = op.kind == OpKind::kRequest ? type_name(op.type)
                                                 : to_text(op).substr(0, 9);
  std::string what = ours.reply != ref.reply ? "reply" : "events";
  return kind + (is_guest(op.actor) ? " guest " : " dom0 ") + what;
}

std::string Mismatch::text() const {
  std::string s = "op " + std::to_string(index) + ": " + to_text(op) +
                  "\n  cxenstored: " + ours.text() +
                  "\n  C 4.17:     " + ref.text() + "\n";
  if (!note.empty()) s += "  " + note + "\n";
  return s;
}

void RunStats::add(const RunStats& o) {
  ops += o.ops;
  skipped += o.skipped;
  events += o.events;
  restarts += o.restarts;
  for (const auto& [k, v] : o.allowed) allowed[k] += v;
  reference_faults.insert(reference_faults.end(), o.reference_faults.begin(),
                          o.reference_faults.end());
}

RunResult run_ops(const std::vector<Op>& ops, const RunOptions& options) {
  RunResult result;
  Lockstep ls(options);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    auto mm = ls.step(i, ops[i], result.stats);
    if (!mm) continue;
    result.mismatches.push_back(std::move(*mm));
    if (!options.keep_going) break;
    ++result.stats.restarts;
    ls.start();
  }
  return result;
}

std::vector<Op> shrink(std::vector<Op> ops, const Mismatch& failure,
                       const RunOptions& options, int budget_s) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(budget_s);
  RunOptions quiet = options;
  quiet.keep_going = false;
  quiet.verbose = false;
  std::string want = failure.signature();
  ops.resize(failure.index + 1);
  // Still fails the same way? Then keep it, cut after the failing op.
  auto fails = [&](std::vector<Op>& candidate) {
    RunResult r = run_ops(candidate, quiet);
    if (r.mismatches.empty() || r.mismatches[0].signature() != want)
      return false;
    candidate.resize(r.mismatches[0].index + 1);
    return true;
  };
  std::size_t n = 2;
  while (ops.size() >= 2 && std::chrono::steady_clock::now() < deadline) {
    std::size_t chunk = (ops.size() + n - 1) / n;
    bool reduced = false;
    for (std::size_t start = 0; start < ops.size(); start += chunk) {
      if (std::chrono::steady_clock::now() >= deadline) break;
      std::vector<Op> candidate(ops.begin(), ops.begin() + start);
      candidate.insert(candidate.end(),
                       ops.begin() + std::min(ops.size(), start + chunk),
                       ops.end());
      if (candidate.empty() || !fails(candidate)) continue;
      ops = std::move(candidate);
      n = std::max<std::size_t>(n - 1, 2);
      reduced = true;
      break;
    }
    if (reduced) continue;
    if (n >= ops.size()) break;
    n = std::min(ops.size(), n * 2);
  }
  return ops;
}

}  // namespace cxs::diff
