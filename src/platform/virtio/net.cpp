// virtio-net, over virtio-mmio (microvm) and modern virtio-pci (q35, pc): the net devices of
// the seam.
//
// Contract, in addition to platform.hpp's:
// - At the first net_acquire (at start-up, before sealing), every virtio-net device is found
//   (transport.cpp) and brought up, and yield and exit are given the driver's hooks, so that
//   an image that acquires no net device links none of this. Features: VIRTIO_F_VERSION_1,
//   VIRTIO_NET_F_MAC (the address is read from the device), VIRTIO_NET_F_MTU and
//   VIRTIO_NET_F_STATUS when offered, VIRTIO_F_EVENT_IDX when offered, VIRTIO_NET_F_CSUM
//   when offered (the device completes the TCP and UDP checksums of what is sent, and the
//   NIC's FramePool tells the stack so: platform/frame.hpp), and VIRTIO_NET_F_GUEST_CSUM when
//   offered (a received frame whose header says DATA_VALID, or NEEDS_CSUM for a packet the
//   host made itself, is marked transport_checksum_ok and not checked again). QEMU offers
//   both with a tap backend, not with `--net user`. VIRTIO_NET_F_HOST_TSO4 when offered with
//   VIRTIO_NET_F_CSUM: the NIC then has a second pool of 64 KiB frames
//   (net_segmentation_pool), and a frame that asks for segmentation (platform/frame.hpp) goes
//   with gso_type TCPV4, gso_size and hdr_len set. VIRTIO_NET_F_GUEST_TSO4 with
//   VIRTIO_NET_F_MRG_RXBUF and GUEST_CSUM, when all three are offered (and never one of the
//   first two without the others): the host may then send TCP segments of up to 64 KiB, as
//   its own stack made them or as it joined them (Linux's GRO), spread over several receive
//   buffers; the driver joins such a segment into one frame of a small pool of 64 KiB frames
//   (the one copy of the receive path, paid once per segment instead of a device trip per
//   MTU-sized frame), and the stack takes it as it takes any frame. Queue 0 receives, queue 1
//   transmits; every frame carries the 12-byte virtio_net_hdr of version 1 in front.
// - NICs are numbered in the order they are found (the order of `sarab run --net`). A name is
//   bound to NIC N by the boot argument --dev=NAME=net:N; a name that no --dev names gets the
//   first NIC that no --dev names and no other name has taken, in the order names are
//   acquired (declaration order).
// - Zero copy both ways, but for the joined segments above. Receive buffers are whole frames
//   of the device's FramePool: the device writes the header and the frame into one, and
//   net_receive hands that very buffer up with the header skipped (its window starts 12 bytes
//   in). net_transmit writes the header
//   into the frame's headroom and gives the device one descriptor; a frame with less than 12
//   bytes of headroom goes as a two-descriptor chain behind a header of the NIC's own, one
//   for each head descriptor. A transmitted frame goes back to its pool when the device has
//   used it.
// - Room: net_transmit_room says how many descriptors are free once what the device has sent
//   is taken back (and the device kicked when none are), so that the stack holds data back
//   instead of having frames refused with NetError::full.
// - Batching: transmitted frames are published at once but the device is notified (kicked)
//   when the image yields, when kick_batch frames have gone without a kick, or when the ring
//   is full; the receive ring is refilled a quarter at a time, with one kick. Kicks happen only
//   when the device asked for them (EVENT_IDX's avail_event, or the NO_NOTIFY flag).
// - Interrupts: the receive queue raises one (EVENT_IDX: used_event at the next entry, or the
//   flags) only while the image is about to halt in yield; the transmit queue never does (its
//   buffers are reclaimed whenever the driver runs, and the pool has room for both full rings).
//   virtio-mmio's line is acknowledged before the rings are looked at, so that every later
//   completion is a new edge.
#include "transport.hpp"

#include <sarab/base/boot_args.hpp>
#include <sarab/base/log.hpp>
#include <sarab/base/verify.hpp>
#include <sarab/platform/platform.hpp>

#include <cstring>
#include <memory>
#include <new>

extern "C" volatile sarab::u32 sarab_device_interrupts;

namespace sarab::platform::virtio {

namespace {

BootArgList g_dev { "dev", "NAME=net:N", "bind the declared net device NAME to the N-th virtio-net device (from 0, in the order of `sarab run --net`)", ArgGroup::platform };

constexpr u64 feature_net_csum = u64(1) << 0;
constexpr u64 feature_net_guest_csum = u64(1) << 1;
constexpr u64 feature_net_guest_tso4 = u64(1) << 7;
constexpr u64 feature_net_mrg_rxbuf = u64(1) << 15;
constexpr u64 feature_net_host_tso4 = u64(1) << 11;
constexpr u64 feature_net_mtu = u64(1) << 3;
constexpr u64 feature_net_mac = u64(1) << 5;
constexpr u64 feature_net_status = u64(1) << 16;
constexpr u32 config_mac = 0, config_status = 6, config_mtu = 10;
constexpr u16 net_status_link_up = 1;
constexpr u16 receive_queue = 0, transmit_queue = 1;
constexpr u16 ring_entries = 256;
constexpr usize stack_frames = 256; // pool frames beyond what both rings can hold
constexpr u32 kick_batch = 32;
// TCP segmentation offload: frames of the longest IPv4 packet behind the stack's headroom, a
// few, because each goes back to the pool as soon as the device has sent it.
constexpr usize segmentation_frames = 8;
constexpr usize segmentation_buffer = 256 + 65535;
// Receive segmentation offload: frames that a TCP segment spread over several receive buffers
// is joined into. The stack is done with a received TCP segment before it takes the next
// frame, so two would do; four leave room for a frame the stack keeps a moment (a reply
// built in it).
constexpr usize joined_frames = 4;
constexpr usize max_nics = 8;

struct NetHeader {
    static constexpr u8 needs_checksum = 1; // VIRTIO_NET_HDR_F_NEEDS_CSUM
    static constexpr u8 data_valid = 2; // VIRTIO_NET_HDR_F_DATA_VALID
    static constexpr u8 gso_tcpv4 = 1;  // VIRTIO_NET_HDR_GSO_TCPV4
    u8 flags;
    u8 gso_type;
    u16 header_length;
    u16 gso_size;
    u16 checksum_start;
    u16 checksum_offset;
    u16 buffers; // present with VIRTIO_F_VERSION_1; more than 1 only with MRG_RXBUF
};
static_assert(sizeof(NetHeader) == 12);
constexpr usize header_size = sizeof(NetHeader);
constexpr usize ethernet_header = 14, vlan_tag = 4;

struct Counters {
    u64 received = 0;
    u64 transmitted = 0;
    u64 runts = 0;    // received with less than a header and an Ethernet header
    u64 joined = 0;   // received over several buffers and joined into one frame
    u64 unjoined = 0; // the same, dropped: no frame free, too long, or not a long TCP segment
    u64 tx_full = 0;  // transmits refused: no descriptors
    u64 chained = 0;  // transmits without headroom for the header
    u64 segmented = 0; // transmits the device cut into TCP segments
};

struct Nic {
    Transport transport;
    Virtqueue* rx = nullptr;
    Virtqueue* tx = nullptr;
    std::unique_ptr<FramePool> pool;
    std::unique_ptr<FramePool> segmentation_pool; // with VIRTIO_NET_F_HOST_TSO4
    std::unique_ptr<FramePool> joined_pool; // with VIRTIO_NET_F_GUEST_TSO4 (and MRG_RXBUF)
    std::unique_ptr<Frame[]> rx_frames; // by descriptor: the buffer the device may fill
    std::unique_ptr<Frame[]> tx_frames; // by head descriptor: the frame being sent
    std::unique_ptr<NetHeader[]> tx_headers; // by head descriptor: for a frame without headroom
    MacAddress mac {};
    u16 mtu = 0; // (all zero: the table of NICs is in bss)
    u64 features = 0;
    bool acquired = false;
    u32 unkicked = 0; // transmits since the last kick
    Counters counters;
    char where[32] = {};
    char name[32] = {};
};

Nic g_nics[max_nics];
usize g_nic_count = 0;
u32 g_acknowledged_interrupts = 0; // sarab_device_interrupts when the lines were last acknowledged

// The features that come only with others: HOST_TSO4 needs CSUM, GUEST_TSO4 needs GUEST_CSUM
// (the specification, 5.1.3.1); and this driver takes TCP segments longer than a receive
// buffer only spread over several (MRG_RXBUF), and wants mergeable buffers only for them.
u64 consistent_features(u64 accepted)
{
    if (!(accepted & feature_net_csum))
        accepted &= ~feature_net_host_tso4;
    constexpr u64 receive_offload = feature_net_guest_csum | feature_net_guest_tso4 | feature_net_mrg_rxbuf;
    if ((accepted & receive_offload) != receive_offload)
        accepted &= ~(feature_net_guest_tso4 | feature_net_mrg_rxbuf);
    return accepted;
}

bool bring_up(Nic& n)
{
    Transport& t = n.transport;
    u64 wanted = feature_net_csum | feature_net_guest_csum | feature_net_host_tso4 | feature_net_mac | feature_net_mtu | feature_net_status | feature_event_idx;
    // Long received segments only with frames to join them in: made now, before the device
    // may send any, and given up again when it does not join segments.
    auto joined = FramePool::create(joined_frames, header_size + max_segmentation_frame + vlan_tag);
    if (joined)
        wanted |= feature_net_guest_tso4 | feature_net_mrg_rxbuf;
    else
        log::warn(platform_log, "virtio-net at {}: no memory for {} KiB of frames to join received TCP segments in: the host sends them cut to the MTU", std::string_view(n.where),
            joined_frames * (header_size + max_segmentation_frame + vlan_tag) / 1024);
    auto accepted = t.negotiate(wanted, consistent_features);
    if (!accepted)
        return false;
    n.features = *accepted;
    if ((n.features & feature_net_guest_tso4) && joined) {
        joined.value()->set_device_checksums(n.features & feature_net_csum);
        n.joined_pool = joined.release_value();
    }
    bool event_idx = n.features & feature_event_idx;
    n.rx = Virtqueue::create(t, receive_queue, ring_entries, event_idx);
    n.tx = n.rx ? Virtqueue::create(t, transmit_queue, ring_entries, event_idx) : nullptr;
    if (!n.rx || !n.tx || n.tx->size() < 2)
        return false;
    n.rx_frames.reset(new (std::nothrow) Frame[n.rx->size()]);
    n.tx_frames.reset(new (std::nothrow) Frame[n.tx->size()]);
    n.tx_headers.reset(new (std::nothrow) NetHeader[n.tx->size()]);
    if (!n.rx_frames || !n.tx_frames || !n.tx_headers)
        return false;
    if (n.features & feature_net_mac) {
        for (;;) {
            u32 generation = t.config_generation();
            for (usize i = 0; i < 6; ++i)
                n.mac[i] = t.config8(config_mac + u32(i));
            if (t.config_generation() == generation)
                break;
        }
    } else {
        // No address from the device: a locally administered one, different per NIC.
        n.mac = { 0x02, 0x53, 0x52, 0x76, 0x6e, u8(g_nic_count) };
    }
    n.mtu = 1500;
    if (n.features & feature_net_mtu) {
        u16 mtu = t.config16(config_mtu);
        if (mtu >= 68)
            n.mtu = mtu;
    }
    t.driver_ok();
    return true;
}

bool link_up(const Nic& n) { return !(n.features & feature_net_status) || (n.transport.config16(config_status) & net_status_link_up); }

Nic& nic_of(Handle h)
{
    VERIFY(h >= net_handle_base && h - net_handle_base < g_nic_count && g_nics[h - net_handle_base].acquired,
        "net I/O on a handle that is not an open net device");
    return g_nics[h - net_handle_base];
}

// Takes back what the device has sent: the frames return to the pool.
void reclaim_transmitted(Nic& n)
{
    while (auto used = n.tx->take_used())
        n.tx_frames[used->id] = Frame {};
}

void kick_transmit(Nic& n)
{
    n.tx->kick();
    n.unkicked = 0;
}

// Fills the receive ring with empty buffers from the pool, then one kick.
void refill(Nic& n)
{
    bool added = false;
    while (n.rx->free_descriptors() > 0) {
        auto frame = n.pool->allocate(0);
        if (!frame)
            break; // the stack holds the rest; the next refill tries again
        u16 id = *n.rx->allocate_descriptor();
        n.rx->descriptor(id) = Descriptor { u64(frame->buffer()), u32(frame->capacity()), descriptor_write, 0 };
        n.rx_frames[id] = std::move(*frame);
        n.rx->make_available(id);
        added = true;
    }
    if (added)
        n.rx->kick();
}

// A packet the device spread over `buffers` receive buffers (MRG_RXBUF; the first, holding the
// header, is `first`, `length` bytes used): joined into one frame of the NIC's joined pool,
// header and all, or dropped when no frame is free or it would not fit. Only a TCP segment
// the host made long (gso_type TCPV4) is joined: the stack is done with one before it takes
// the next frame, while a UDP socket keeps its datagrams' frames until they are read, and a
// frame longer than the MTU that is no such segment has no business here. The device uses
// the buffers of one packet together (5.1.6.4), so the other buffers-1 are in the used ring
// already; all of them are taken off it either way.
std::optional<Frame> join_buffers(Nic& n, Frame& first, u32 length, u16 buffers)
{
    std::optional<Frame> joined;
    if (n.joined_pool && length <= first.capacity() && reinterpret_cast<const NetHeader*>(first.buffer())->gso_type == NetHeader::gso_tcpv4)
        joined = n.joined_pool->allocate(0);
    usize at = 0;
    if (joined) {
        std::memcpy(joined->buffer(), first.buffer(), length);
        at = length;
    }
    for (u16 i = 1; i < buffers; ++i) {
        auto used = n.rx->take_used();
        if (!used) {
            joined.reset(); // fewer buffers than the header says: not a packet to trust
            break;
        }
        Frame part = std::move(n.rx_frames[used->id]);
        if (joined && used->length <= part.capacity() && at + used->length <= joined->capacity()) {
            std::memcpy(joined->buffer() + at, part.buffer(), used->length);
            at += used->length;
        } else {
            joined.reset();
        }
    }
    if (!joined) {
        ++n.counters.unjoined;
        return std::nullopt;
    }
    joined->set_window(0, at);
    ++n.counters.joined;
    return joined;
}

// virtio-mmio lines stay high until acknowledged, and are edge-triggered here: after any
// device interrupt, acknowledge every NIC's before looking at the rings.
void acknowledge_lines()
{
    u32 seen = sarab_device_interrupts;
    if (seen == g_acknowledged_interrupts)
        return;
    g_acknowledged_interrupts = seen;
    for (usize i = 0; i < g_nic_count; ++i) {
        if (g_nics[i].acquired && g_nics[i].transport.kind() == Transport::Kind::mmio)
            g_nics[i].transport.acknowledge_interrupt();
    }
}

// N of a binding "net:N"; none when it is something else.
std::optional<usize> nic_index(std::string_view binding)
{
    if (binding.size() <= 4 || binding.substr(0, 4) != "net:" || binding.size() > 8)
        return std::nullopt;
    usize index = 0;
    for (char c : binding.substr(4)) {
        if (c < '0' || c > '9')
            return std::nullopt;
        index = index * 10 + usize(c - '0');
    }
    return index;
}

bool named_by_dev(usize index)
{
    for (std::string_view spec : g_dev.values()) {
        usize eq = spec.find('=');
        if (eq != std::string_view::npos && nic_index(spec.substr(eq + 1)) == index)
            return true;
    }
    return false;
}

// The NIC bound to `name`: by --dev=NAME=net:N, else the first free NIC no --dev names.
// Null when there is none; `error` set when the binding itself is wrong.
Nic* find_nic(std::string_view name, bool& error)
{
    for (std::string_view spec : g_dev.values()) {
        usize eq = spec.find('=');
        if (eq == std::string_view::npos || spec.substr(0, eq) != name)
            continue;
        auto index = nic_index(spec.substr(eq + 1));
        if (!index) {
            log::error(platform_log, "net device '{}': --dev={} is not NAME=net:N", name, spec);
            error = true;
            return nullptr;
        }
        if (*index >= g_nic_count) {
            log::error(platform_log, "net device '{}': --dev={} names NIC {}, but the image has {} virtio-net device(s)", name, spec, *index, g_nic_count);
            error = true;
            return nullptr;
        }
        return &g_nics[*index];
    }
    for (usize i = 0; i < g_nic_count; ++i) {
        if (!g_nics[i].acquired && !named_by_dev(i))
            return &g_nics[i];
    }
    return nullptr;
}

// Brings up every virtio-net device there is, once (at the first acquisition, before sealing).
void set_up_nics()
{
    static bool done = false;
    if (done)
        return;
    done = true;
    FoundDevice found[max_nics];
    usize count = find_devices(device_type_net, found);
    for (usize i = 0; i < count; ++i) {
        Nic& n = g_nics[g_nic_count];
        n = Nic {};
        n.transport = found[i].transport;
        std::memcpy(n.where, found[i].where, sizeof n.where);
        if (!bring_up(n)) {
            n.transport.fail();
            log::warn(platform_log, "virtio-net at {}: the device could not be set up", std::string_view(found[i].where));
            n = Nic {};
            continue;
        }
        ++g_nic_count;
    }
}

HandleSet poll(HandleSet interest)
{
    acknowledge_lines();
    HandleSet ready;
    for (usize i = 0; i < g_nic_count; ++i) {
        Nic& n = g_nics[i];
        if (!n.acquired)
            continue;
        reclaim_transmitted(n);
        kick_transmit(n); // the end of a batch of transmits
        if (n.rx->free_descriptors() > 0)
            refill(n);
        Handle h = Handle(net_handle_base + i);
        if (interest.contains(h) && n.rx->has_used())
            ready.add(h);
    }
    return ready;
}

bool prepare_to_halt(HandleSet interest, bool& polled)
{
    polled = false;
    bool quiet = true;
    interest.for_each([&](Handle h) {
        if (h < net_handle_base || h - net_handle_base >= g_nic_count)
            return;
        Nic& n = g_nics[h - net_handle_base];
        polled = polled || !n.transport.has_interrupt();
        quiet = n.rx->request_interrupt() && quiet;
    });
    return quiet;
}

void after_halt(HandleSet interest)
{
    interest.for_each([&](Handle h) {
        if (h >= net_handle_base && h - net_handle_base < g_nic_count)
            g_nics[h - net_handle_base].rx->defer_interrupts();
    });
}

bool is_net_handle(Handle h) { return h >= net_handle_base && h - net_handle_base < g_nic_count && g_nics[h - net_handle_base].acquired; }

void flush()
{
    // Frames still in the transmit ring are sent before the image ends (bounded: 100 ms).
    u64 give_up = monotonic_ns() + 100'000'000;
    for (usize i = 0; i < g_nic_count; ++i) {
        Nic& n = g_nics[i];
        if (!n.acquired)
            continue;
        kick_transmit(n);
        while (n.tx->in_flight() > 0 && monotonic_ns() < give_up) {
            reclaim_transmitted(n);
            asm volatile("pause");
        }
        reclaim_transmitted(n);
        log::debug(platform_log, "net device '{}': {} frames received ({} joined from several buffers, {} dropped unjoined), {} transmitted ({} without headroom, {} cut into TCP segments by the device), {} runts, {} refused (ring full); kicks: {} rx, {} tx",
            std::string_view(n.name), n.counters.received, n.counters.joined, n.counters.unjoined, n.counters.transmitted, n.counters.chained, n.counters.segmented, n.counters.runts, n.counters.tx_full,
            n.rx->kicks(), n.tx->kicks());
    }
}

const NetHooks g_hooks { poll, prepare_to_halt, after_halt, is_net_handle, flush };

} // namespace

} // namespace sarab::platform::virtio

namespace sarab::platform {

using namespace virtio;

ErrorOr<NetInfo, NetError> net_acquire(std::string_view name)
{
    if (refuse_after_seal(name))
        return failure(NetError::unavailable);
    set_up_nics();
    g_net_hooks = &g_hooks;
    for (usize i = 0; i < g_nic_count; ++i) {
        if (g_nics[i].acquired && std::string_view(g_nics[i].name) == name)
            return failure(NetError::unavailable);
    }
    bool error = false;
    Nic* found = find_nic(name, error);
    if (!found) {
        if (!error)
            log::error(platform_log, "net device '{}' is bound to nothing: run with --net tap:IF or --net user ({} virtio-net device(s), {} taken)", name,
                g_nic_count, [] {
                    usize taken = 0;
                    for (usize i = 0; i < g_nic_count; ++i)
                        taken += g_nics[i].acquired;
                    return taken;
                }());
        return failure(NetError::not_bound);
    }
    Nic& n = *found;
    if (n.acquired)
        return failure(NetError::unavailable);
    // Buffers hold the header, a frame of the MTU and one VLAN tag.
    usize buffer = header_size + ethernet_header + vlan_tag + n.mtu;
    auto pool = FramePool::create(usize(n.rx->size()) + n.tx->size() + stack_frames,
        buffer < FramePool::default_buffer_size ? FramePool::default_buffer_size : buffer);
    if (!pool)
        return failure(NetError::no_buffers);
    pool.value()->set_device_checksums(n.features & feature_net_csum);
    n.pool = pool.release_value();
    if ((n.features & feature_net_host_tso4) && (n.features & feature_net_csum)) {
        auto large = FramePool::create(segmentation_frames, segmentation_buffer);
        if (large) {
            large.value()->set_device_checksums(true);
            n.segmentation_pool = large.release_value();
        } else {
            log::warn(platform_log, "net device '{}': no memory for {} KiB of TCP segmentation buffers: the image cuts its own segments", name, segmentation_frames * segmentation_buffer / 1024);
        }
    }
    n.acquired = true;
    usize length = name.size() < sizeof n.name - 1 ? name.size() : sizeof n.name - 1;
    std::memcpy(n.name, name.data(), length);
    n.name[length] = 0;
    refill(n);
    n.transport.acknowledge_interrupt();
    Handle h = Handle(net_handle_base + usize(&n - g_nics));
    log::debug(platform_log, "net device '{}': virtio-net at {} (NIC {}), MAC {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, MTU {}{}, link {}, {} rx and {} tx entries, {}, completions {}, transmit checksums by the {}, received checksums checked by the {}, TCP segments cut by the {}, received TCP segments {}",
        name, std::string_view(n.where), h - net_handle_base, n.mac[0], n.mac[1], n.mac[2], n.mac[3], n.mac[4], n.mac[5], n.mtu,
        n.features & feature_net_mtu ? " (from the device)" : "", link_up(n) ? "up" : "down", n.rx->size(), n.tx->size(),
        n.features & feature_event_idx ? "EVENT_IDX" : "notification flags", n.transport.completion_path(),
        n.features & feature_net_csum ? "device" : "image", n.features & feature_net_guest_csum ? "device" : "image",
        n.segmentation_pool ? "device" : "image", n.joined_pool ? "joined by the device" : "as the wire carried them");
    return NetInfo { h, n.mac, n.mtu, n.segmentation_pool ? max_segmentation_frame : 0 };
}

ErrorOr<Frame, NetError> net_receive(Handle h)
{
    Nic& n = nic_of(h);
    for (;;) {
        auto used = n.rx->take_used();
        if (!used) {
            refill(n);
            return failure(NetError::empty);
        }
        Frame frame = std::move(n.rx_frames[used->id]);
        u32 length = used->length;
        // With MRG_RXBUF, a packet longer than a buffer goes on in the next buffers used.
        u16 buffers = (n.features & feature_net_mrg_rxbuf) && length >= header_size ? reinterpret_cast<const NetHeader*>(frame.buffer())->buffers : 1;
        if (buffers > 1) {
            auto joined = join_buffers(n, frame, length, buffers);
            if (!joined)
                continue; // the buffers go back to the pool
            frame = std::move(*joined);
            length = u32(frame.size());
        }
        // A quarter of the ring is free: refill it now, with one kick.
        if (n.rx->free_descriptors() >= n.rx->size() / 4)
            refill(n);
        if (length < header_size + ethernet_header || length > frame.capacity()) {
            ++n.counters.runts;
            continue; // the buffer goes back to the pool
        }
        // With VIRTIO_NET_F_GUEST_CSUM: checked by the device, or never computed (a packet of
        // the host's own, whose checksum it left partial).
        const u8 flags = reinterpret_cast<const NetHeader*>(frame.buffer())->flags;
        frame.set_transport_checksum_ok((n.features & feature_net_guest_csum) && (flags & (NetHeader::needs_checksum | NetHeader::data_valid)));
        frame.set_window(header_size, length - header_size);
        ++n.counters.received;
        return frame;
    }
}

ErrorOr<void, NetError> net_transmit(Handle h, Frame&& frame)
{
    Nic& n = nic_of(h);
    Frame owned = std::move(frame); // given back to its pool on every way out but success
    VERIFY(owned.size() >= ethernet_header, "a frame shorter than an Ethernet header");
    bool tagged = owned.size() >= 18 && owned.bytes()[12] == std::byte(0x81) && owned.bytes()[13] == std::byte(0x00);
    usize one_frame = usize(n.mtu) + ethernet_header + (tagged ? vlan_tag : 0);
    // Cut up even when it fits one frame: its payload may be longer than the peer's MSS.
    bool segmented = owned.segment_size() && n.segmentation_pool;
    if (owned.size() > (segmented ? max_segmentation_frame + (tagged ? vlan_tag : 0) : one_frame))
        return failure(NetError::too_big);
    bool chained = owned.headroom() < header_size;
    u16 needed = chained ? 2 : 1;
    if (n.tx->free_descriptors() < needed) {
        reclaim_transmitted(n);
        if (n.tx->free_descriptors() < needed) {
            kick_transmit(n); // the ring is full: what is in it must go
            reclaim_transmitted(n);
        }
        if (n.tx->free_descriptors() < needed) {
            ++n.counters.tx_full;
            return failure(NetError::full);
        }
    }
    NetHeader header {}; // checksums done, no segmentation, unless the frame asks for one
    if (owned.wants_device_checksum()) {
        header.flags = NetHeader::needs_checksum;
        header.checksum_start = u16(owned.device_checksum_start());
        header.checksum_offset = u16(owned.device_checksum_field());
    }
    if (segmented) {
        header.gso_type = NetHeader::gso_tcpv4;
        header.gso_size = owned.segment_size();
        header.header_length = u16(owned.segmentation_headers());
        ++n.counters.segmented;
    }
    u16 head = *n.tx->allocate_descriptor();
    if (chained) {
        u16 body = *n.tx->allocate_descriptor();
        n.tx_headers[head] = header;
        n.tx->descriptor(head) = Descriptor { u64(&n.tx_headers[head]), header_size, descriptor_next, body };
        n.tx->descriptor(body) = Descriptor { u64(owned.data()), u32(owned.size()), 0, 0 };
        ++n.counters.chained;
    } else {
        std::memcpy(owned.prepend(header_size).data(), &header, header_size);
        n.tx->descriptor(head) = Descriptor { u64(owned.data()), u32(owned.size()), 0, 0 };
    }
    n.tx_frames[head] = std::move(owned);
    n.tx->make_available(head);
    ++n.counters.transmitted;
    if (++n.unkicked >= kick_batch)
        kick_transmit(n);
    return {};
}

FramePool& net_frame_pool(Handle h)
{
    Nic& n = nic_of(h);
    return *n.pool;
}

FramePool* net_segmentation_pool(Handle h) { return nic_of(h).segmentation_pool.get(); }

// Free transmit descriptors, after taking back what the device has sent; when there are none,
// the device is kicked for what waits in the ring.
usize net_transmit_room(Handle h)
{
    Nic& n = nic_of(h);
    if (n.tx->free_descriptors() == 0) {
        reclaim_transmitted(n);
        if (n.tx->free_descriptors() == 0) {
            kick_transmit(n);
            reclaim_transmitted(n);
        }
    }
    return n.tx->free_descriptors();
}

} // namespace sarab::platform
