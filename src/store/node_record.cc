#include "store/node_record.h"

#include <cstdlib>
#include <new>

namespace cxs::store {

void NameValue::assign(std::string_view name, std::string_view value) {
  release();
  if (name.size() + value.size() <= kInline) {
    // An empty string_view's data() may be null, which memcpy must not get
    // even for 0 bytes.
    if (!name.empty()) std::memcpy(raw_, name.data(), name.size());
    if (!value.empty())
      std::memcpy(raw_ + name.size(), value.data(), value.size());
    raw_[kNameLen] = static_cast<char>(name.size());
    raw_[kValueLen] = static_cast<char>(value.size());
    return;
  }
  // operator new, so that the allocation-failure tests can fail it too.
  void* mem = ::operator new(sizeof(Block) + name.size() + value.size());
  Block* b = new (mem) Block{static_cast<std::uint32_t>(name.size()),
                             static_cast<std::uint32_t>(value.size())};
  if (!name.empty()) std::memcpy(b->bytes(), name.data(), name.size());
  if (!value.empty())
    std::memcpy(b->bytes() + name.size(), value.data(), value.size());
  std::memcpy(raw_, &b, sizeof b);
  raw_[kValueLen] = static_cast<char>(kHeapTag);
}

void NameValue::set_value(std::string_view value) {
  NameValue fresh(name(), value);
  *this = std::move(fresh);
}

void NameValue::release() noexcept {
  if (on_heap()) ::operator delete(const_cast<Block*>(block()));
  set_empty();
}

}  // namespace cxs::store
