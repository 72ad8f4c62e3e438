// The simulated hypervisor (open_sim) against the refd conventions, in a
// private temporary directory: FIFOs, ring files, xsd_port, the domains list.
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "cxenstored/unique_fd.h"
#include "temp_dir.h"
#include "xen/domain_list.h"
#include "xen/hypervisor.h"

namespace cxs::xen {
namespace {

namespace fs = std::filesystem;

using test::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void put(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

void write_ports(const std::string& fifo, std::initializer_list<Port> ports) {
  UniqueFd fd(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK));
  ASSERT_TRUE(fd.valid());
  for (Port p : ports) ASSERT_EQ(::write(fd.get(), &p, sizeof p), 4);
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

class SimBackend : public ::testing::Test {
 protected:
  TempDir dir_{"sim"};
};

TEST_F(SimBackend, StartUpCreatesFifosRingZeroAndXsdPort) {
  Hypervisor h = open_sim(dir_.path());
  EXPECT_TRUE(fs::is_fifo(dir_ / "evtchn"));
  EXPECT_TRUE(fs::is_fifo(dir_ / "notify"));
  EXPECT_EQ(slurp(dir_ / "ring-0"), std::string(4096, '\0'));
  EXPECT_EQ(slurp(dir_ / "xsd_port"), "1") << "no newline";
  EXPECT_EQ(h.rings->dom0_port(), Port{1});
}

TEST_F(SimBackend, StartUpCreatesAMissingDirectory) {
  Hypervisor h = open_sim(dir_ / "sub");
  EXPECT_TRUE(fs::is_fifo(dir_ / "sub/evtchn"));
}

TEST_F(SimBackend, StartUpKeepsWhatExists) {
  put(dir_ / "xsd_port", "7");
  std::string ring(4096, '\0');
  ring[5] = 'x';
  put(dir_ / "ring-0", ring);
  Hypervisor h = open_sim(dir_.path());
  EXPECT_EQ(h.rings->dom0_port(), Port{7});
  EXPECT_EQ(slurp(dir_ / "ring-0"), ring);
}

TEST_F(SimBackend, AGarbledXsdPortGivesNoPort) {
  Hypervisor h = open_sim(dir_.path());
  put(dir_ / "xsd_port", "nope");
  EXPECT_EQ(h.rings->dom0_port(), std::nullopt);
}

TEST_F(SimBackend, StartUpFailsWhenEvtchnIsNoFifo) {
  put(dir_ / "evtchn", "a plain file");
  EXPECT_THROW(open_sim(dir_.path()), std::runtime_error);
}

TEST_F(SimBackend, InterdomainPortIs100PlusDomidAndDomExcIsPort1) {
  Hypervisor h = open_sim(dir_.path());
  auto p = h.events->bind_interdomain(DomId{3}, 1);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, Port{103});
  auto v = h.events->bind_dom_exc_virq();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, Port{1});
  EXPECT_FALSE(h.events->bind_interdomain(DomId{kDomidFirstReserved}, 1).ok());
  h.events->unbind(103);  // a no-op, but callable
}

TEST_F(SimBackend, TakePendingReturnsThePortsWrittenIntoEvtchnOnceEach) {
  Hypervisor h = open_sim(dir_.path());
  EXPECT_FALSE(readable(h.events->fd()));
  EXPECT_TRUE(h.events->take_pending().empty());
  write_ports(dir_ / "evtchn", {103, 1, 103, 105});
  EXPECT_TRUE(readable(h.events->fd()));
  EXPECT_EQ(h.events->take_pending(), (std::vector<Port>{103, 1, 105}));
  EXPECT_FALSE(readable(h.events->fd()));
  EXPECT_TRUE(h.events->take_pending().empty());
}

TEST_F(SimBackend, EvtchnSeesNoEndOfFileWhenAWriterGoesAway) {
  Hypervisor h = open_sim(dir_.path());
  write_ports(dir_ / "evtchn", {101});  // opens, writes, closes
  EXPECT_EQ(h.events->take_pending(), (std::vector<Port>{101}));
  pollfd p{h.events->fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "no POLLHUP after the writer closed";
}

TEST_F(SimBackend, ManyKicksAreAllTaken) {
  Hypervisor h = open_sim(dir_.path());
  UniqueFd w(::open((dir_ / "evtchn").c_str(), O_WRONLY | O_NONBLOCK));
  ASSERT_TRUE(w.valid());
  for (Port i = 0; i < 3000; ++i) {
    Port p = 100 + i % 50;
    ASSERT_EQ(::write(w.get(), &p, sizeof p), 4);
  }
  EXPECT_EQ(h.events->take_pending().size(), 50u);
}

TEST_F(SimBackend, NotifyWritesThePortIntoTheNotifyFifo) {
  Hypervisor h = open_sim(dir_.path());
  UniqueFd r(::open((dir_ / "notify").c_str(), O_RDONLY | O_NONBLOCK));
  ASSERT_TRUE(r.valid());
  h.events->notify(105);
  Port p = 0;
  ASSERT_EQ(::read(r.get(), &p, sizeof p), 4);
  EXPECT_EQ(p, Port{105});
}

TEST_F(SimBackend, NotifyDropsKicksWhenTheFifoIsFullWithoutBlocking) {
  Hypervisor h = open_sim(dir_.path());
  for (int i = 0; i < 100000; ++i) h.events->notify(103);
  UniqueFd r(::open((dir_ / "notify").c_str(), O_RDONLY | O_NONBLOCK));
  std::size_t total = 0;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(r.get(), buf, sizeof buf)) > 0)
    total += static_cast<std::size_t>(n);
  EXPECT_GT(total, 0u);
  EXPECT_LT(total, 100000u * 4);
  EXPECT_EQ(total % 4, 0u) << "whole ports only";
}

TEST_F(SimBackend, MapDomainMapsTheRingFileShared) {
  Hypervisor h = open_sim(dir_.path());
  auto ring = h.rings->map_domain(DomId{3}, 0x1003);
  ASSERT_TRUE(ring);
  EXPECT_EQ(fs::file_size(dir_ / "ring-3"), 4096u);
  ring->page()->rsp_prod = 0x41424344;
  ring->page()->rsp[0] = 'Z';
  std::string file = slurp(dir_ / "ring-3");
  EXPECT_EQ(file[1024], 'Z');
  std::uint32_t v;
  std::memcpy(&v, file.data() + 2060, 4);
  EXPECT_EQ(v, 0x41424344u);
}

TEST_F(SimBackend, MapDomainSeesWhatTheGuestAlreadyWrote) {
  std::string page(4096, '\0');
  page[0] = 'q';
  put(dir_ / "ring-5", page);
  Hypervisor h = open_sim(dir_.path());
  auto ring = h.rings->map_domain(DomId{5}, 0);
  ASSERT_TRUE(ring);
  EXPECT_EQ(ring->page()->req[0], 'q');
}

TEST_F(SimBackend, MapDomainGrowsAShortFileToAPage) {
  put(dir_ / "ring-6", "short");
  Hypervisor h = open_sim(dir_.path());
  auto ring = h.rings->map_domain(DomId{6}, 0);
  ASSERT_TRUE(ring);
  EXPECT_EQ(fs::file_size(dir_ / "ring-6"), 4096u);
  EXPECT_EQ(ring->page()->req[0], 's');
}

TEST_F(SimBackend, TwoMappingsOfOneDomainShareThePage) {
  Hypervisor h = open_sim(dir_.path());
  auto a = h.rings->map_domain(DomId{4}, 0);
  auto b = h.rings->map_domain(DomId{4}, 0);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->page(), b->page());
  a->page()->req_prod = 17;
  EXPECT_EQ(b->page()->req_prod, 17u);
}

TEST_F(SimBackend, MapDom0MapsRingZero) {
  Hypervisor h = open_sim(dir_.path());
  auto ring = h.rings->map_dom0();
  ASSERT_TRUE(ring);
  ring->page()->req[3] = 'k';
  EXPECT_EQ(slurp(dir_ / "ring-0")[3], 'k');
}

TEST_F(SimBackend, MapDomainFailsCleanlyWhenTheFileCannotBeOpened) {
  Hypervisor h = open_sim(dir_.path());
  fs::create_directory(dir_ / "ring-8");
  EXPECT_EQ(h.rings->map_domain(DomId{8}, 0), nullptr);
}

TEST_F(SimBackend, WithoutADomainsFileOnlyDomainZeroExists) {
  Hypervisor h = open_sim(dir_.path());
  auto d0 = h.domains->query(DomId{0});
  ASSERT_TRUE(d0);
  EXPECT_FALSE(d0->dying);
  EXPECT_FALSE(h.domains->query(DomId{3}));
}

TEST_F(SimBackend, TheDomainsFileIsReadOnEveryQuery) {
  Hypervisor h = open_sim(dir_.path());
  put(dir_ / "domains", "0,3,5-9,-4");
  EXPECT_TRUE(h.domains->query(DomId{3}));
  EXPECT_FALSE(h.domains->query(DomId{3})->dying);
  EXPECT_TRUE(h.domains->query(DomId{7}));
  ASSERT_TRUE(h.domains->query(DomId{4}));
  EXPECT_TRUE(h.domains->query(DomId{4})->dying);
  EXPECT_FALSE(h.domains->query(DomId{10}));
  EXPECT_FALSE(h.domains->query(DomId{1}));

  put(dir_ / "domains", "0,-3");
  ASSERT_TRUE(h.domains->query(DomId{3}));
  EXPECT_TRUE(h.domains->query(DomId{3})->dying);
  EXPECT_FALSE(h.domains->query(DomId{7}));
  put(dir_ / "domains", "0");
  EXPECT_FALSE(h.domains->query(DomId{3}));
  fs::remove(dir_ / "domains");
  EXPECT_TRUE(h.domains->query(DomId{0}));
}

TEST_F(SimBackend, AnUnreadableDomainsFileKeepsTheLastList) {
  Hypervisor h = open_sim(dir_.path());
  put(dir_ / "domains", "0,3");
  EXPECT_TRUE(h.domains->query(DomId{3}));
  fs::remove(dir_ / "domains");
  fs::create_directory(dir_ / "domains");  // open works, read fails
  EXPECT_TRUE(h.domains->query(DomId{3})) << "not every domain died";
}

TEST(SimDomainList, ParsesSinglesRangesAndDyingMarks) {
  SimDomainList l = parse_domain_list("0,3,5-7,-4");
  EXPECT_EQ(l, (SimDomainList{{0, SimDomState::kAlive},
                              {3, SimDomState::kAlive},
                              {4, SimDomState::kDying},
                              {5, SimDomState::kAlive},
                              {6, SimDomState::kAlive},
                              {7, SimDomState::kAlive}}));
}

TEST(SimDomainList, AcceptsWhitespaceAndATrailingNewline) {
  SimDomainList l = parse_domain_list(" 0, 2\t,12\n");
  EXPECT_EQ(l.size(), 3u);
  EXPECT_TRUE(l.count(12));
}

TEST(SimDomainList, ADyingRangeMarksEachDomain) {
  SimDomainList l = parse_domain_list("-2-3");
  EXPECT_EQ(
      l, (SimDomainList{{2, SimDomState::kDying}, {3, SimDomState::kDying}}));
}

TEST(SimDomainList, TheLaterMentionWins) {
  EXPECT_EQ(parse_domain_list("3,-3").at(3), SimDomState::kDying);
  EXPECT_EQ(parse_domain_list("-3,3").at(3), SimDomState::kAlive);
}

TEST(SimDomainList, StopsAtTheFirstMalformedItemKeepingWhatCameBefore) {
  SimDomainList l = parse_domain_list("0,1,x,5");
  EXPECT_EQ(l.size(), 2u);
  EXPECT_FALSE(l.count(5));
  EXPECT_EQ(parse_domain_list("0,3-").size(), 1u);
}

TEST(SimDomainList, AReversedRangeListsNothing) {
  EXPECT_EQ(parse_domain_list("9-5").size(), 0u);
}

TEST(SimDomainList, AHugeRangeIsClipped) {
  SimDomainList l = parse_domain_list("1-4294967295");
  EXPECT_EQ(l.size(), kMaxSimRange - 1);
}

TEST(SimDomainList, EmptyTextListsNothing) {
  EXPECT_TRUE(parse_domain_list("").empty());
}

TEST(SimDomainList, FormatsOneItemPerDomainAndRoundTrips) {
  SimDomainList l = parse_domain_list("0,3,5-6,-4");
  EXPECT_EQ(format_domain_list(l), "0,3,-4,5,6");
  EXPECT_EQ(parse_domain_list(format_domain_list(l)), l);
}

}  // namespace
}  // namespace cxs::xen
