// SmallBytes: a node's value in 16 bytes. Up to 15 bytes are kept inline
// (most xenstore values are short: "1", "4", a MAC, a backend path); longer
// ones go to the heap. std::string costs 32 bytes for the same inline
// capacity, and a store has one value per node.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace cxs::store {

class SmallBytes {
 public:
  SmallBytes() noexcept { set_inline_size(0); }
  SmallBytes(std::string_view s) {  // NOLINT: implicit, like std::string
    set_inline_size(0);
    assign(s);
  }
  SmallBytes(const char* s) : SmallBytes(std::string_view(s)) {}      // NOLINT
  SmallBytes(const std::string& s) : SmallBytes(std::string_view(s)) {}  // NOLINT
  SmallBytes(const SmallBytes& o) : SmallBytes(o.view()) {}
  SmallBytes(SmallBytes&& o) noexcept {
    std::memcpy(raw_, o.raw_, sizeof raw_);
    o.set_inline_size(0);
  }
  SmallBytes& operator=(const SmallBytes& o) {
    if (this != &o) assign(o.view());
    return *this;
  }
  SmallBytes& operator=(SmallBytes&& o) noexcept {
    if (this != &o) {
      release();
      std::memcpy(raw_, o.raw_, sizeof raw_);
      o.set_inline_size(0);
    }
    return *this;
  }
  ~SmallBytes() { release(); }

  // Strong: a failed allocation leaves the old bytes.
  SmallBytes& assign(std::string_view s) {
    if (s.size() <= kInline) {
      release();
      std::memcpy(raw_, s.data(), s.size());
      set_inline_size(s.size());
    } else {
      char* p = new char[s.size()];
      std::memcpy(p, s.data(), s.size());
      release();
      std::memcpy(raw_, &p, sizeof p);
      auto size = static_cast<std::uint32_t>(s.size());
      std::memcpy(raw_ + 8, &size, sizeof size);
      raw_[kTag] = static_cast<char>(kHeapTag);
    }
    return *this;
  }

  std::string_view view() const noexcept { return {data(), size()}; }
  operator std::string_view() const noexcept { return view(); }  // NOLINT
  std::string str() const { return std::string(view()); }
  const char* data() const noexcept {
    if (!on_heap()) return raw_;
    const char* p;
    std::memcpy(&p, raw_, sizeof p);
    return p;
  }
  std::size_t size() const noexcept {
    if (!on_heap()) return static_cast<unsigned char>(raw_[kTag]);
    std::uint32_t size;
    std::memcpy(&size, raw_ + 8, sizeof size);
    return size;
  }
  bool empty() const noexcept { return size() == 0; }

  friend bool operator==(const SmallBytes& a, std::string_view b) noexcept {
    return a.view() == b;
  }

 private:
  static constexpr std::size_t kInline = 15;
  static constexpr std::size_t kTag = 15;            // last byte
  static constexpr unsigned char kHeapTag = 0xFF;    // > kInline: on the heap

  bool on_heap() const noexcept {
    return static_cast<unsigned char>(raw_[kTag]) == kHeapTag;
  }
  void set_inline_size(std::size_t n) noexcept {
    raw_[kTag] = static_cast<char>(n);
  }
  void release() noexcept {
    if (on_heap()) delete[] data();
    set_inline_size(0);
  }

  char raw_[16] = {};
};
static_assert(sizeof(SmallBytes) == 16, "a node's value in 16 bytes");

}  // namespace cxs::store
