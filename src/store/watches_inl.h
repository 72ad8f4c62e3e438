// Template parts of WatchIndex; included by watches.h only.
#pragma once

#include <algorithm>

#include "store/path.h"

namespace cxs::store {

template <typename Fn>
void WatchIndex::match(const Event& ev, Fn&& fn) const {
  std::vector<const WatchRecord*> hits;
  collect_on_path(ev.path, hits);
  const std::size_t ev_depth = depth_of(ev.path);
  for (const WatchRecord* w : hits) {
    std::string_view wp = w->path();
    if (ev.exact && wp.size() != ev.path.size()) continue;
    if (!within_depth(w->depth(), ev_depth - depth_of(wp))) continue;
    std::string_view p = ev.path;
    // Special events ("@releaseDomain/5"): a watch on the bare special path
    // sees the bare path, unless it asked for depth 1 (Xen 4.22 semantics).
    if (is_special(p) && wp.size() != p.size() && w->depth() != 1) p = wp;
    fn(*w, w->strip() <= p.size() ? p.substr(w->strip()) : p);
  }
  if (!ev.recursive) return;
  hits.clear();
  if (const TrieNode* n = find_node(ev.path)) collect_below(n, hits);
  for (const WatchRecord* w : hits) {
    std::string_view p = w->path();
    fn(*w, w->strip() <= p.size() ? p.substr(w->strip()) : p);
  }
}

template <typename Fn>
void WatchIndex::for_each(Fn&& fn) const {
  std::vector<const WatchRecord*> all;
  all.reserve(total_);
  for (const auto& kv : by_conn_)
    for (const WatchRecord* r = kv.second.head; r; r = r->conn_next_)
      all.push_back(r);
  std::sort(all.begin(), all.end(),
            [](const WatchRecord* a, const WatchRecord* b) {
              return a->seq() < b->seq();
            });
  for (const WatchRecord* r : all) fn(*r);
}

}  // namespace cxs::store
