// The simulated platform. See include/sarab/platform/simulated.hpp for what it models.
#include <sarab/base/format.hpp>
#include <sarab/platform/simulated.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <unistd.h>

namespace sarab::platform {

namespace {

struct Nic {
    std::string name;
    MacAddress mac {};
    u16 mtu = 1500;
    bool acquired = false;
    Handle handle = 0;
    std::unique_ptr<FramePool> pool;
    sim::NicOffloads offloads;
    std::unique_ptr<FramePool> segmentation_pool; // with offloads.segmentation
    std::deque<std::vector<std::byte>> rx;
    int peer = -1;          // index of the NIC at the other end
    sim::LinkConfig out;    // the direction from this NIC
    u64 rng = 0;
    u64 link_free_at = 0;   // when the outgoing link has sent what it was given
    std::deque<u64> ring;   // when each frame in the transmit ring is on the wire (ring_frames)
};

struct Disk {
    std::string name;
    u32 sector_size = 512;
    bool read_only = false;
    bool acquired = false;
    std::vector<std::byte> bytes;
    std::vector<std::byte> durable; // the contents as of the last flush
    std::vector<u64> unflushed;     // sectors written since, in the order written (repeats too)
    u64 flushes = 0;
};

struct InFlight {
    int to;
    std::vector<std::byte> bytes;
};

struct Handles {
    enum class Kind : u8 { free, nic, disk } kind = Kind::free;
    usize index = 0;
};

struct World {
    u64 now = 0;
    u64 seed = 1;
    u64 entropy = 0x5eed;
    u64 disk_rng = 0xd15c; // crash_disk's choices
    u64 sequence = 0;
    std::vector<std::unique_ptr<Nic>> nics;
    std::vector<std::unique_ptr<Disk>> disks;
    std::array<Handles, max_handles> handles {};
    std::multimap<std::pair<u64, u64>, InFlight> in_flight; // (time, sequence) -> frame
    std::vector<std::string> words;
    std::vector<std::string_view> word_views;
    std::string image_name = "simulated";
    std::string console;
    bool echo = false;
    std::vector<std::string> trace;
    u64 trace_hash = 1469598103934665603ull;
    bool keep_trace = true;
    sim::Counters counters;
    std::FILE* pcap = nullptr;
    u32 pcap_snap = 65535;
    bool sealed = false; // seal() was called: no more acquisitions
};

World& world()
{
    static World w;
    return w;
}

u64 next_random(u64& state)
{
    // xorshift64*: small, fast and the same everywhere.
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ull;
}

double next_unit(u64& state) { return double(next_random(state) >> 11) * (1.0 / 9007199254740992.0); }

template<class... Args>
void record(FormatString<Args...> fmt, const Args&... args)
{
    World& w = world();
    InlineFormatBuffer<256> line;
    format_to(line, "{}.{:09} ", w.now / 1'000'000'000, w.now % 1'000'000'000);
    format_to<Args...>(line, fmt, args...);
    for (char c : line.view())
        w.trace_hash = (w.trace_hash ^ u8(c)) * 1099511628211ull;
    w.trace_hash = (w.trace_hash ^ '\n') * 1099511628211ull;
    if (w.keep_trace)
        w.trace.emplace_back(line.view());
}

void write_pcap_record(std::span<const std::byte> bytes)
{
    World& w = world();
    if (!w.pcap)
        return;
    u32 kept = std::min<u32>(u32(bytes.size()), w.pcap_snap);
    u32 header[4] = { u32(w.now / 1'000'000'000), u32((w.now % 1'000'000'000) / 1000), kept, u32(bytes.size()) };
    std::fwrite(header, sizeof header, 1, w.pcap);
    std::fwrite(bytes.data(), 1, kept, w.pcap);
}

// ---- the devices' offloads (sim::NicOffloads) -----------------------------------------------


u32 load_be(std::span<const std::byte> b, usize at, usize n)
{
    u32 v = 0;
    for (usize i = 0; i < n; ++i)
        v = v << 8 | u32(b[at + i]);
    return v;
}

void store_be(std::span<std::byte> b, usize at, usize n, u32 v)
{
    for (usize i = n; i-- > 0; v >>= 8)
        b[at + i] = std::byte(v & 0xff);
}

// RFC 1071: the ones'-complement sum of 16-bit words, folded, before the final complement.
u32 ones_sum(std::span<const std::byte> b, u32 sum = 0)
{
    for (usize i = 0; i + 1 < b.size(); i += 2)
        sum += load_be(b, i, 2);
    if (b.size() % 2)
        sum += u32(b.back()) << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

// The device's checksum: the field holds the pseudo-header's sum; the sum runs from `start` to
// the end (virtio's NEEDS_CSUM).
void complete_checksum(std::span<std::byte> bytes, usize start, usize field)
{
    u32 sum = ones_sum(bytes.subspan(start));
    store_be(bytes, start + field, 2, (~sum & 0xffff) ? (~sum & 0xffff) : 0xffff);
}

// What a device puts on the wire for a frame that asks for TCP segmentation: segments of
// `mss` payload bytes behind copies of the frame's headers (the virtio specification, 5.1.6.2).
std::vector<std::vector<std::byte>> cut_tcp(std::span<const std::byte> frame, usize tcp_start, usize headers, u16 mss)
{
    usize ip_start = load_be(frame, 12, 2) == 0x8100 ? 18 : 14;
    auto payload = frame.subspan(headers);
    u32 id = load_be(frame, ip_start + 4, 2);
    u32 sequence = load_be(frame, tcp_start + 4, 4);
    std::vector<std::vector<std::byte>> out;
    for (usize at = 0, i = 0; at < payload.size() || at == 0; at += mss, ++i) {
        usize n = std::min<usize>(mss, payload.size() - at);
        std::vector<std::byte> f(frame.begin(), frame.begin() + std::ptrdiff_t(headers));
        f.insert(f.end(), payload.begin() + std::ptrdiff_t(at), payload.begin() + std::ptrdiff_t(at + n));
        std::span<std::byte> b(f);
        store_be(b, ip_start + 2, 2, u32(f.size() - ip_start));
        store_be(b, ip_start + 4, 2, (id + u32(i)) & 0xffff);
        store_be(b, ip_start + 10, 2, 0);
        store_be(b, ip_start + 10, 2, ~ones_sum(b.subspan(ip_start, tcp_start - ip_start)) & 0xffff);
        store_be(b, tcp_start + 4, 4, sequence + u32(at));
        u8 flags = u8(b[tcp_start + 13]);
        if (at + n < payload.size())
            flags &= u8(~0x09); // FIN and PSH on the last segment only
        if (i > 0)
            flags &= u8(~0x80); // CWR on the first only
        b[tcp_start + 13] = std::byte(flags);
        // The TCP checksum over the pseudo-header (addresses, protocol, length) and the segment.
        u32 pseudo = ones_sum(b.subspan(ip_start + 12, 8), 6 + u32(f.size() - tcp_start));
        store_be(b, tcp_start + 16, 2, 0);
        u32 sum = ones_sum(b.subspan(tcp_start), pseudo);
        store_be(b, tcp_start + 16, 2, (~sum & 0xffff) ? (~sum & 0xffff) : 0xffff);
        out.push_back(std::move(f));
        if (payload.empty())
            break;
    }
    return out;
}

Nic* nic_by_name(std::string_view name)
{
    for (auto& n : world().nics) {
        if (n->name == name)
            return n.get();
    }
    return nullptr;
}

int nic_index(const std::string& name)
{
    auto& nics = world().nics;
    for (usize i = 0; i < nics.size(); ++i) {
        if (nics[i]->name == name)
            return int(i);
    }
    return -1;
}

Handle take_handle(Handles::Kind kind, usize index)
{
    World& w = world();
    for (Handle h = 0; h < max_handles; ++h) {
        if (w.handles[h].kind == Handles::Kind::free) {
            w.handles[h] = { kind, index };
            return h;
        }
    }
    VERIFY_NOT_REACHED();
}

Nic& nic_of(Handle h)
{
    World& w = world();
    VERIFY(h < max_handles && w.handles[h].kind == Handles::Kind::nic, "not a simulated NIC handle");
    return *w.nics[w.handles[h].index];
}

Disk& disk_of(Handle h)
{
    World& w = world();
    VERIFY(h < max_handles && w.handles[h].kind == Handles::Kind::disk, "not a simulated disk handle");
    return *w.disks[w.handles[h].index];
}

// Moves frames whose arrival time has come into their NIC's receive queue.
void deliver_due()
{
    World& w = world();
    while (!w.in_flight.empty() && w.in_flight.begin()->first.first <= w.now) {
        auto node = w.in_flight.extract(w.in_flight.begin());
        Nic& to = *w.nics[usize(node.mapped().to)];
        std::vector<std::byte>& bytes = node.mapped().bytes;
        if (bytes.size() > usize(to.mtu) + 14) {
            ++w.counters.too_big;
            record("{} drop-too-big {}B", to.name, bytes.size());
            continue;
        }
        ++w.counters.delivered;
        record("{} receive {}B", to.name, bytes.size());
        write_pcap_record(bytes);
        to.rx.push_back(std::move(bytes));
    }
}

HandleSet ready_of_interest(HandleSet interest)
{
    HandleSet ready;
    interest.for_each([&](Handle h) {
        if (world().handles[h].kind == Handles::Kind::nic && !nic_of(h).rx.empty())
            ready.add(h);
    });
    return ready;
}

} // namespace

namespace sim {
Instant now();
}

// ---- the platform seam ---------------------------------------------------------------------

void console_write(std::string_view text)
{
    World& w = world();
    w.console.append(text);
    if (w.echo)
        (void)!::write(STDOUT_FILENO, text.data(), text.size());
}

u64 monotonic_ns() { return world().now; }

// 2026-01-01T00:00:00Z plus virtual time.
u64 wall_ns() { return 1'767'225'600'000'000'000ull + world().now; }

void random_fill(std::span<std::byte> out)
{
    World& w = world();
    for (auto& b : out)
        b = std::byte(next_random(w.entropy) >> 56);
}

HandleSet yield(u64 deadline_ns, HandleSet interest)
{
    World& w = world();
    for (;;) {
        deliver_due();
        HandleSet ready = ready_of_interest(interest);
        if (!ready.empty() || w.now >= deadline_ns)
            return ready;
        u64 next = deadline_ns;
        if (!w.in_flight.empty() && w.in_flight.begin()->first.first < next)
            next = w.in_flight.begin()->first.first;
        VERIFY(next != ~u64(0), "simulation deadlock: tasks wait for devices, and no frame is on any wire");
        w.now = next;
    }
}

ErrorOr<NetInfo, NetError> net_acquire(std::string_view name)
{
    Nic* nic = nic_by_name(name);
    if (!nic)
        return failure(NetError::not_bound);
    if (nic->acquired || world().sealed)
        return failure(NetError::unavailable);
    auto pool = FramePool::create(256, FramePool::default_buffer_size);
    if (!pool)
        return failure(NetError::no_buffers);
    nic->pool = pool.release_value();
    nic->pool->set_device_checksums(nic->offloads.checksums || nic->offloads.segmentation);
    if (nic->offloads.segmentation) {
        auto large = FramePool::create(nic->offloads.segmentation_frames, 256 + 65535);
        if (!large)
            return failure(NetError::no_buffers);
        nic->segmentation_pool = large.release_value();
        nic->segmentation_pool->set_device_checksums(true);
    }
    nic->acquired = true;
    World& w = world();
    usize index = 0;
    while (w.nics[index].get() != nic)
        ++index;
    nic->handle = take_handle(Handles::Kind::nic, index);
    return NetInfo { nic->handle, nic->mac, nic->mtu, nic->segmentation_pool ? max_segmentation_frame : 0 };
}

ErrorOr<Frame, NetError> net_receive(Handle h)
{
    Nic& nic = nic_of(h);
    if (nic.rx.empty())
        return failure(NetError::empty);
    auto frame = nic.pool->allocate(0);
    if (!frame)
        return failure(NetError::no_buffers);
    std::vector<std::byte>& bytes = nic.rx.front();
    usize n = bytes.size() < frame->capacity() ? bytes.size() : frame->capacity();
    std::memcpy(frame->buffer(), bytes.data(), n);
    frame->set_window(0, n);
    nic.rx.pop_front();
    return std::move(*frame);
}

namespace {

// One frame onto the wire, through the link's faults.
void send_on_link(Nic& nic, std::vector<std::byte> bytes)
{
    World& w = world();
    ++w.counters.transmitted;
    record("{} transmit {}B", nic.name, bytes.size());
    if (nic.peer < 0)
        return; // an unplugged cable

    sim::LinkConfig& link = nic.out;
    sim::FaultAction action;
    if (!link.up)
        action.drop = true;
    if (link.loss > 0 && next_unit(nic.rng) < link.loss)
        action.drop = true;
    if (link.duplicate > 0 && next_unit(nic.rng) < link.duplicate)
        action.copies = 2;
    if (link.reorder > 0 && next_unit(nic.rng) < link.reorder)
        action.extra_delay = link.reorder_delay;
    if (link.corrupt > 0 && next_unit(nic.rng) < link.corrupt)
        action.corrupt = true;
    if (link.hook)
        link.hook(bytes, sim::now(), action);

    // The link is busy while it serialises earlier frames.
    u64 start = w.now > nic.link_free_at ? w.now : nic.link_free_at;
    if (link.rate_bps)
        nic.link_free_at = start + bytes.size() * 8 * 1'000'000'000ull / link.rate_bps;
    else
        nic.link_free_at = start;

    if (action.drop || action.copies == 0) {
        ++w.counters.dropped;
        record("{} drop {}B", nic.name, bytes.size());
        return;
    }
    if (action.corrupt && !bytes.empty()) {
        u64 bit = next_random(nic.rng) % (bytes.size() * 8);
        bytes[bit / 8] ^= std::byte(1u << (bit % 8));
        ++w.counters.corrupted;
        record("{} corrupt bit {}", nic.name, bit);
    }
    u64 arrival = nic.link_free_at + u64(link.latency.count()) + u64(action.extra_delay.count());
    for (u32 copy = 0; copy < action.copies; ++copy) {
        if (copy > 0) {
            ++w.counters.duplicated;
            record("{} duplicate {}B", nic.name, bytes.size());
        }
        w.in_flight.emplace(std::pair { arrival, w.sequence++ }, InFlight { nic.peer, bytes });
    }
}

} // namespace

ErrorOr<void, NetError> net_transmit(Handle h, Frame&& given)
{
    Nic& nic = nic_of(h);
    Frame frame = std::move(given);
    bool segmented = frame.segment_size() && nic.segmentation_pool;
    if (frame.size() > (segmented ? max_segmentation_frame : usize(nic.mtu) + 14))
        return failure(NetError::too_big);
    if (net_transmit_room(h) == 0) {
        ++world().counters.refused;
        record("{} ring full", nic.name);
        return failure(NetError::full);
    }
    std::vector<std::byte> bytes(frame.bytes().begin(), frame.bytes().end());
    if (segmented) {
        for (auto& piece : cut_tcp(bytes, frame.device_checksum_start(), frame.segmentation_headers(), frame.segment_size()))
            send_on_link(nic, std::move(piece));
    } else {
        if (frame.wants_device_checksum())
            complete_checksum(bytes, frame.device_checksum_start(), frame.device_checksum_field());
        send_on_link(nic, std::move(bytes));
    }
    if (nic.out.ring_frames)
        nic.ring.push_back(nic.link_free_at);
    return {};
}

FramePool& net_frame_pool(Handle h)
{
    return *nic_of(h).pool;
}

FramePool* net_segmentation_pool(Handle h) { return nic_of(h).segmentation_pool.get(); }

usize net_transmit_room(Handle h)
{
    Nic& nic = nic_of(h);
    if (nic.out.ring_frames == 0)
        return ~usize(0);
    while (!nic.ring.empty() && nic.ring.front() <= world().now)
        nic.ring.pop_front();
    return nic.out.ring_frames > nic.ring.size() ? nic.out.ring_frames - nic.ring.size() : 0;
}

ErrorOr<BlockInfo, BlockError> block_acquire(std::string_view name)
{
    World& w = world();
    for (usize i = 0; i < w.disks.size(); ++i) {
        Disk& d = *w.disks[i];
        if (d.name != name)
            continue;
        if (d.acquired || w.sealed)
            return failure(BlockError::unavailable);
        d.acquired = true;
        Handle h = take_handle(Handles::Kind::disk, i);
        return BlockInfo { h, d.sector_size, d.bytes.size() / d.sector_size, d.read_only };
    }
    return failure(BlockError::not_bound);
}

static ErrorOr<void, BlockError> check_block(const Disk& d, u64 sector, usize bytes)
{
    if (bytes % d.sector_size != 0)
        return failure(BlockError::unaligned);
    u64 sectors = d.bytes.size() / d.sector_size;
    if (sector > sectors || bytes / d.sector_size > sectors - sector)
        return failure(BlockError::out_of_range);
    return {};
}

ErrorOr<void, BlockError> block_read(Handle h, u64 sector, std::span<std::byte> buffer)
{
    Disk& d = disk_of(h);
    TRY(check_block(d, sector, buffer.size()));
    std::memcpy(buffer.data(), d.bytes.data() + sector * d.sector_size, buffer.size());
    return {};
}

ErrorOr<void, BlockError> block_write(Handle h, u64 sector, std::span<const std::byte> buffer)
{
    Disk& d = disk_of(h);
    TRY(check_block(d, sector, buffer.size()));
    if (d.read_only)
        return failure(BlockError::read_only);
    std::memcpy(d.bytes.data() + sector * d.sector_size, buffer.data(), buffer.size());
    for (u64 s = sector; s < sector + buffer.size() / d.sector_size; ++s)
        d.unflushed.push_back(s);
    return {};
}

ErrorOr<void, BlockError> block_flush(Handle h)
{
    Disk& d = disk_of(h);
    for (u64 s : d.unflushed)
        std::memcpy(d.durable.data() + s * d.sector_size, d.bytes.data() + s * d.sector_size, d.sector_size);
    d.unflushed.clear();
    ++d.flushes;
    record("disk {} flush", d.name);
    return {};
}

void seal() { world().sealed = true; }

std::span<const std::string_view> boot_arguments() { return world().word_views; }
std::string_view image_name() { return world().image_name; }

void exit(int status)
{
    std::fflush(stdout);
    std::_Exit(status & 0xff);
}

void abort(std::string_view message)
{
    (void)!::write(STDERR_FILENO, message.data(), message.size());
    (void)!::write(STDERR_FILENO, "\n", 1);
    std::abort();
}

// ---- the test-facing side ------------------------------------------------------------------

namespace sim {

void reset(u64 seed)
{
    World& w = world();
    if (w.pcap)
        std::fclose(w.pcap);
    w.~World();
    new (&w) World;
    w.seed = seed ? seed : 1;
    w.entropy = w.seed * 0xD1B54A32D192ED03ull + 0x5eed;
    w.disk_rng = w.seed * 0x9E3779B97F4A7C15ull + 0xd15c;
}

void set_boot_arguments(std::vector<std::string> words)
{
    World& w = world();
    w.words = std::move(words);
    w.word_views.assign(w.words.begin(), w.words.end());
}

void set_image_name(std::string name) { world().image_name = std::move(name); }

void add_nic(std::string name, MacAddress mac, u16 mtu, NicOffloads offloads)
{
    World& w = world();
    VERIFY(!nic_by_name(name), "two simulated NICs with one name");
    auto nic = std::make_unique<Nic>();
    nic->name = std::move(name);
    nic->mac = mac;
    nic->mtu = mtu;
    nic->offloads = offloads;
    nic->rng = w.seed * 0x9E3779B97F4A7C15ull + w.nics.size() + 1;
    w.nics.push_back(std::move(nic));
}

void connect(const std::string& a, const std::string& b, LinkConfig a_to_b, LinkConfig b_to_a)
{
    int ia = nic_index(a);
    int ib = nic_index(b);
    VERIFY(ia >= 0 && ib >= 0 && ia != ib, "connect() needs two existing, different NICs");
    auto& nics = world().nics;
    nics[usize(ia)]->peer = ib;
    nics[usize(ia)]->out = std::move(a_to_b);
    nics[usize(ib)]->peer = ia;
    nics[usize(ib)]->out = std::move(b_to_a);
}

LinkConfig& link(const std::string& from)
{
    int i = nic_index(from);
    VERIFY(i >= 0, "no such simulated NIC");
    return world().nics[usize(i)]->out;
}

void add_disk(std::string name, u64 sectors, u32 sector_size, bool read_only)
{
    auto disk = std::make_unique<Disk>();
    disk->name = std::move(name);
    disk->sector_size = sector_size;
    disk->read_only = read_only;
    disk->bytes.resize(sectors * sector_size);
    disk->durable = disk->bytes;
    world().disks.push_back(std::move(disk));
}

static Disk& disk_named(const std::string& name)
{
    for (auto& d : world().disks) {
        if (d->name == name)
            return *d;
    }
    VERIFY_NOT_REACHED();
}

void crash_disk(const std::string& name, double survival)
{
    Disk& d = disk_named(name);
    World& w = world();
    for (u64 s : d.unflushed) {
        // Each sector written since the last flush survives on its own, or is as it was then.
        if (next_unit(w.disk_rng) >= survival)
            std::memcpy(d.bytes.data() + s * d.sector_size, d.durable.data() + s * d.sector_size, d.sector_size);
    }
    d.unflushed.clear();
    d.durable = d.bytes;
}

u64 disk_flushes(const std::string& name) { return disk_named(name).flushes; }

std::span<std::byte> disk_contents(const std::string& name) { return disk_named(name).bytes; }

const std::string& console_output() { return world().console; }
void set_console_echo(bool echo) { world().echo = echo; }
Instant now() { return Instant(Duration(i64(world().now))); }
Counters counters() { return world().counters; }
const std::vector<std::string>& trace() { return world().trace; }
void keep_trace(bool keep) { world().keep_trace = keep; }
u64 trace_hash() { return world().trace_hash; }

bool start_pcap(const std::string& path, u32 snap_length)
{
    World& w = world();
    stop_pcap();
    w.pcap = std::fopen(path.c_str(), "wb");
    if (!w.pcap)
        return false;
    w.pcap_snap = snap_length;
    // Microsecond pcap, Ethernet link type.
    u32 header[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, snap_length, 1 };
    std::fwrite(header, sizeof header, 1, w.pcap);
    return true;
}

void stop_pcap()
{
    World& w = world();
    if (w.pcap)
        std::fclose(w.pcap);
    w.pcap = nullptr;
}

} // namespace sim

} // namespace sarab::platform
