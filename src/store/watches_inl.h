// Template parts of WatchIndex; included by watches.h only.
#pragma once

#include <algorithm>

#include "store/path.h"

namespace cxs::store {

template <typename Fn>
void WatchIndex::match(const Event& ev, Fn&& fn) const {
  std::vector<const Watch*> hits;
  collect_on_path(ev.path, hits);
  const std::size_t ev_depth = depth_of(ev.path);
  for (const Watch* w : hits) {
    if (ev.exact && w->path.size() != ev.path.size()) continue;
    if (!within_depth(w->depth, ev_depth - depth_of(w->path))) continue;
    std::string_view p = ev.path;
    // Special events ("@releaseDomain/5"): a watch on the bare special path
    // sees the bare path, unless it asked for depth 1 (Xen 4.22 semantics).
    if (is_special(p) && w->path.size() != p.size() && w->depth != 1)
      p = w->path;
    fn(*w, w->strip <= p.size() ? p.substr(w->strip) : p);
  }
  if (!ev.recursive) return;
  hits.clear();
  if (const TrieNode* n = find_node(ev.path)) collect_below(n, hits);
  for (const Watch* w : hits) {
    std::string_view p = w->path;
    fn(*w, w->strip <= p.size() ? p.substr(w->strip) : p);
  }
}

template <typename Fn>
void WatchIndex::for_each(Fn&& fn) const {
  std::vector<WatchId> ids;
  ids.reserve(watches_.size());
  for (const auto& kv : watches_) ids.push_back(kv.first);
  std::sort(ids.begin(), ids.end());
  for (WatchId id : ids) fn(watches_.at(id));
}

}  // namespace cxs::store
