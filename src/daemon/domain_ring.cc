#include "daemon/domain_ring.h"

namespace cxs::daemon {

DomainRing::DomainRing(std::unique_ptr<xen::MappedRing> mapping,
                       std::function<void()> notify) noexcept
    : mapping_(std::move(mapping)) {
  if (mapping_) ring_.emplace(mapping_->page(), std::move(notify));
}

transport::IoResult DomainRing::read(char* buf, std::size_t len) noexcept {
  return ring_ ? ring_->read(buf, len) : transport::IoResult{};
}

transport::IoResult DomainRing::write(const char* buf,
                                      std::size_t len) noexcept {
  return ring_ ? ring_->write(buf, len) : transport::IoResult{};
}

bool DomainRing::on_protocol_fault(transport::Fault f) noexcept {
  return ring_ && ring_->on_protocol_fault(f);
}

void DomainRing::end_batch() noexcept {
  if (ring_) ring_->end_batch();
}

const char* DomainRing::kind() const noexcept {
  return ring_ ? "ring" : "ring (unmapped)";
}

bool DomainRing::reconnect_requested() const noexcept {
  return ring_ && ring_->reconnect_requested();
}

void DomainRing::finish_reconnect() noexcept {
  if (ring_) ring_->finish_reconnect();
}

void DomainRing::advertise_features(std::uint32_t features) noexcept {
  if (mapping_) mapping_->page()->server_features = features;
}

}  // namespace cxs::daemon
