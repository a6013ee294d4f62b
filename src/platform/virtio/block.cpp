// virtio-blk, over virtio-mmio (microvm) and over modern virtio-pci (q35, pc): the block
// devices of the seam.
//
// At the first block_acquire (at start-up, before sealing) set_up_disks takes every virtio block
// device there is (transport.cpp: virtio-mmio devices named on the command line and on
// microvm's window, PCI bus 0) and brings it up (VIRTIO_F_VERSION_1, and VIRTIO_BLK_F_RO,
// VIRTIO_BLK_F_FLUSH and VIRTIO_F_EVENT_IDX when offered; one split virtqueue of 16 entries,
// DRIVER_OK), then asks
// for its serial number: that is the name it is bound to (`sarab run --block NAME=FILE` sets
// it). block_acquire(NAME) finds the device by name. block_flush sends VIRTIO_BLK_T_FLUSH when
// the device has a write cache (it offered VIRTIO_BLK_F_FLUSH: QEMU's default, cache=writeback,
// keeps writes in the host's page cache until then); without one, a write is durable when it
// completes and there is nothing to flush.
//
// A request is one descriptor chain: header (type, sector), the caller's buffer (identity
// mapping: its virtual address is its physical one), one status byte. The seam's block calls
// complete before they return: the driver halts until the completion's interrupt (MSI-X over
// PCI, an I/O APIC line over virtio-mmio) or polls the used ring where it has neither. Either
// wait is bounded. Notifications are suppressed both ways as on virtio-net: the driver kicks
// only when the device asked (EVENT_IDX's avail_event, or NO_NOTIFY), and the device
// interrupts only for a completion the driver is about to halt for (used_event, or the
// NO_INTERRUPT flag, set again once the request is done).
#include "transport.hpp"

#include <sarab/base/format.hpp>
#include <sarab/base/log.hpp>
#include <sarab/base/verify.hpp>
#include <sarab/platform/platform.hpp>

#include <cstring>
#include <new>

extern "C" volatile sarab::u32 sarab_device_interrupts;

namespace sarab::platform::virtio {

namespace {

constexpr u64 feature_blk_ro = u64(1) << 5;
constexpr u64 feature_blk_flush = u64(1) << 9;

constexpr u32 request_in = 0, request_out = 1, request_flush = 4, request_get_id = 8;
constexpr u16 queue_size = 16;
constexpr u32 sector = 512;
constexpr usize max_transfer = 1024 * 1024; // bytes per request

struct RequestHeader {
    u32 type;
    u32 reserved;
    u64 sector;
};

// The header and status byte of the one request in flight.
struct Request {
    RequestHeader header;
    u8 status;
};

struct Disk {
    Transport transport;
    Virtqueue* queue = nullptr;
    Request* request = nullptr;
    u64 sectors = 0;
    u64 features = 0;
    u64 requests = 0; // completed, for --log=virtio:debug
    bool read_only = false;
    bool acquired = false;
    bool broken = false; // a request went unanswered: every later one fails
    char name[21] = {};
    char where[sizeof FoundDevice::where] = {};
};

constexpr usize max_disks = 8;
Disk g_disks[max_disks];
usize g_disk_count = 0;

// Runs one request (a chain of the header, an optional buffer, the status byte) and waits for
// it. False when the device reports an error or does not answer within 30 s (and for every
// request after such a silence).
bool run_request(Disk& d, u32 type, u64 first_sector, void* buffer, u32 length, bool device_writes)
{
    if (d.broken)
        return false;
    Virtqueue& q = *d.queue;
    Request& r = *d.request;
    r.header = RequestHeader { type, 0, first_sector };
    r.status = 0xff;
    // One request at a time: the queue is idle, so the descriptors are there.
    u16 head = *q.allocate_descriptor();
    u16 last = head;
    q.descriptor(head) = Descriptor { u64(&r.header), sizeof r.header, 0, 0 };
    if (length) {
        u16 data = *q.allocate_descriptor();
        q.descriptor(last).flags |= descriptor_next;
        q.descriptor(last).next = data;
        q.descriptor(data) = Descriptor { u64(buffer), length, u16(device_writes ? descriptor_write : 0), 0 };
        last = data;
    }
    u16 status = *q.allocate_descriptor();
    q.descriptor(last).flags |= descriptor_next;
    q.descriptor(last).next = status;
    q.descriptor(status) = Descriptor { u64(&r.status), 1, descriptor_write, 0 };
    q.make_available(head);
    q.kick();
    u64 give_up = monotonic_ns() + 30'000'000'000u;
    while (!q.has_used()) {
        u64 now = monotonic_ns();
        if (now > give_up) {
            // The request is still the device's: its descriptors and header cannot be reused.
            log::error(platform_log, "virtio-blk '{}': no answer to a request within 30 s: the device is given up", std::string_view(d.name));
            d.broken = true;
            return false;
        }
        // With an interrupt (MSI-X, an I/O APIC line) the completion wakes the CPU, and a
        // timer too in case an interrupt is lost; without, the used ring is polled.
        if (d.transport.has_interrupt()) {
            if (q.request_interrupt())
                halt_until(now + 100'000'000);
        } else {
            asm volatile("pause");
        }
    }
    (void)q.take_used();
    q.defer_interrupts();
    ++d.requests;
    d.transport.acknowledge_interrupt();
    compiler_barrier();
    return *static_cast<volatile u8*>(&r.status) == 0;
}

bool bring_up(Disk& d)
{
    Transport& t = d.transport;
    auto accepted = t.negotiate(feature_blk_ro | feature_blk_flush | feature_event_idx);
    if (!accepted)
        return false;
    d.features = *accepted;
    d.queue = Virtqueue::create(t, 0, queue_size, d.features & feature_event_idx);
    d.request = new (std::nothrow) Request {};
    if (!d.queue || !d.request || d.queue->size() < 3)
        return false;
    t.driver_ok();

    d.sectors = t.config64(0);
    d.read_only = *accepted & feature_blk_ro;
    // The serial number: up to 20 bytes, NUL-padded.
    alignas(8) char id[20] = {};
    if (!run_request(d, request_get_id, 0, id, sizeof id, true))
        return false;
    std::memcpy(d.name, id, sizeof id);
    return true;
}

void add_disk(const FoundDevice& found)
{
    Disk& d = g_disks[g_disk_count];
    d = Disk {};
    d.transport = found.transport;
    std::memcpy(d.where, found.where, sizeof d.where);
    if (!bring_up(d)) {
        d.transport.fail();
        log::warn(platform_log, "virtio-blk at {}: the device could not be set up", std::string_view(found.where));
        d = Disk {};
        return;
    }
    ++g_disk_count;
}

Disk* disk_of(Handle h)
{
    VERIFY(h >= block_handle_base && h - block_handle_base < g_disk_count && g_disks[h - block_handle_base].acquired,
        "block I/O on a handle that is not an open block device");
    return &g_disks[h - block_handle_base];
}

ErrorOr<void, BlockError> check(const Disk& d, u64 first, usize bytes)
{
    if (bytes % sector != 0)
        return failure(BlockError::unaligned);
    u64 count = bytes / sector;
    if (first > d.sectors || count > d.sectors - first)
        return failure(BlockError::out_of_range);
    return {};
}

ErrorOr<void, BlockError> transfer(Handle h, u64 first, std::byte* buffer, usize bytes, bool write)
{
    Disk& d = *disk_of(h);
    TRY(check(d, first, bytes));
    if (write && d.read_only)
        return failure(BlockError::read_only);
    while (bytes) {
        usize chunk = bytes < max_transfer ? bytes : max_transfer;
        if (!run_request(d, write ? request_out : request_in, first, buffer, u32(chunk), !write))
            return failure(BlockError::io);
        first += chunk / sector;
        buffer += chunk;
        bytes -= chunk;
    }
    return {};
}

// Sets up and names every virtio-blk device, once (at the first acquisition, before sealing).
void set_up_disks()
{
    static bool done = false;
    if (done)
        return;
    done = true;
    FoundDevice found[max_disks];
    usize n = find_devices(device_type_block, found);
    for (usize i = 0; i < n; ++i)
        add_disk(found[i]);
}

} // namespace

usize block_count() { return g_disk_count; }

} // namespace sarab::platform::virtio

namespace sarab::platform {

using namespace virtio;

ErrorOr<BlockInfo, BlockError> block_acquire(std::string_view name)
{
    if (refuse_after_seal(name))
        return failure(BlockError::unavailable);
    set_up_disks();
    for (usize i = 0; i < g_disk_count; ++i) {
        Disk& d = g_disks[i];
        if (std::string_view(d.name) != name)
            continue;
        if (d.acquired)
            return failure(BlockError::unavailable);
        d.acquired = true;
        log::debug(platform_log, "block device '{}': virtio-blk at {}, {} sectors{}, features {:x}{}{}, completions {} ({} device interrupts so far)", name,
            std::string_view(d.where), d.sectors, d.read_only ? ", read-only" : "", d.features, d.features & feature_event_idx ? " (event index)" : "",
            d.features & feature_blk_flush ? ", a write cache (flushed on block_flush)" : ", no write cache",
            d.transport.completion_path(), u32(sarab_device_interrupts));
        return BlockInfo { Handle(block_handle_base + i), sector, d.sectors, d.read_only };
    }
    log::error(platform_log, "block device '{}' is bound to nothing: run with --block {}=FILE", name, name);
    return failure(BlockError::not_bound);
}

ErrorOr<void, BlockError> block_read(Handle h, u64 first, std::span<std::byte> buffer)
{
    return transfer(h, first, buffer.data(), buffer.size(), false);
}

ErrorOr<void, BlockError> block_write(Handle h, u64 first, std::span<const std::byte> buffer)
{
    return transfer(h, first, const_cast<std::byte*>(buffer.data()), buffer.size(), true);
}

ErrorOr<void, BlockError> block_flush(Handle h)
{
    Disk& d = *disk_of(h);
    if (!(d.features & feature_blk_flush) || d.read_only)
        return {};
    if (!run_request(d, request_flush, 0, nullptr, 0, false))
        return failure(BlockError::io);
    return {};
}

} // namespace sarab::platform
