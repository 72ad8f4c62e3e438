// An event channel that passes every call to another (the simulated one):
// a test derives from it to watch or count the calls it cares about.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "xen/hypervisor.h"

namespace cxs::test {

class ForwardingEvents : public xen::EventChannel {
 public:
  explicit ForwardingEvents(std::unique_ptr<xen::EventChannel> inner)
      : inner_(std::move(inner)) {}

  int fd() const noexcept override { return inner_->fd(); }
  Result<xen::Port> bind_interdomain(DomId dom,
                                     xen::Port remote) noexcept override {
    return inner_->bind_interdomain(dom, remote);
  }
  Result<xen::Port> bind_dom_exc_virq() noexcept override {
    return inner_->bind_dom_exc_virq();
  }
  void unbind(xen::Port local) noexcept override { inner_->unbind(local); }
  void notify(xen::Port local) noexcept override { inner_->notify(local); }
  std::vector<xen::Port> take_pending() noexcept override {
    return inner_->take_pending();
  }

 private:
  std::unique_ptr<xen::EventChannel> inner_;
};

}  // namespace cxs::test
