// Side: one daemon of a differential run (cxenstored --sim-xen, or the C
// xenstored 4.17 under refd) with the set-up every run starts from and the
// channels the actors speak on: two dom0 sockets and the guests' rings. It
// executes one Op at a time and reports what came back as an Observation:
// the acting channel's messages up to its reply, then the watch events every
// watching channel received because of the op (each channel is synchronised
// by a request of its own after the op, so nothing arrives late).
// The Side owns its SimHost; the channels borrow its directory.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "op.h"
#include "sim_host.h"

namespace cxs::diff {

// What one daemon answered to one op, normalised where the two daemons may
// legitimately differ in bytes but not in meaning (transaction ids,
// DIRECTORY_PART generations).
struct Observation {
  std::string reply;  // "OK", "READ \"v\"", "error EACCES", "closed", ...
  // channel name -> watch events ("/t|tok|"), in arrival order.
  std::map<std::string, std::vector<std::string>> events;
  bool skipped = false;  // the actor could not act (its ring is not served)

  bool operator==(const Observation&) const = default;
  std::string text() const;
};

// What both sides agree happened to each guest (decided by the runner from
// both answers, so the two sides always act alike).
struct HostModel {
  std::set<std::uint32_t> introduced;  // rings served
  std::set<std::uint32_t> broken;      // rings in error
  std::set<Actor> watching;            // channels that may get events
  std::set<std::uint32_t> dying;       // listed by the hypervisor as dying
  // Domains released or dead since the set-up (their permission entries
  // are dropped by cxenstored, kept by C).
  std::set<std::uint32_t> gone;
  // Domains some SET_TARGET named as the target (C never releases them).
  std::set<std::uint32_t> targeted;
  // Domains dom0 made owner of "/" (C wipes the tree when they go).
  std::set<std::uint32_t> own_root;
};

class Channel;

class Side {
 public:
  Side(test::Peer peer, const std::vector<std::string>& daemon_args);
  ~Side();
  Side(const Side&) = delete;
  Side& operator=(const Side&) = delete;

  test::Peer peer() const noexcept { return host_.peer(); }
  bool alive() const { return host_.alive(); }
  std::string log_tail() const;

  // Runs `op` on this daemon; `model` says who may act and who watches.
  Observation run(const Op& op, const HostModel& model);
  // After the runner updated the model for an op (a socket closed by the
  // daemon is opened again; a ring that was released forgets its state).
  void after(const Op& op, const HostModel& model);

 private:
  void set_up();
  Channel& channel(Actor a);
  std::uint32_t tx_id(Actor a, int slot) const;
  void note_transaction(const Op& op, const Observation& o,
                        const wire::Message& reply);
  void request(const Op& op, Observation& o);
  void oversize(const Op& op, Observation& o);
  void host_op(const Op& op, const HostModel& model, Observation& o);
  void wait_evtchn_drained() const;
  void wait_released(std::uint32_t dom) const;
  void sync_watchers(const HostModel& model, Observation& o);
  std::string await_reply(Channel& c, std::uint32_t req_id,
                          std::vector<std::string>* events,
                          wire::Message* raw = nullptr);

  test::SimHost host_;
  std::map<Actor, std::unique_ptr<Channel>> channels_;
  std::map<Actor, std::array<std::uint32_t, kTxSlots>> tx_;
  std::uint32_t next_req_ = 1;
};

}  // namespace cxs::diff
