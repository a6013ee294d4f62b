// virtio-blk, over virtio-mmio (microvm) and over modern virtio-pci (q35, pc): the block
// devices of the seam.
//
// At start-up (before sealing) block_init finds every virtio block device: the virtio-mmio
// window of microvm (0xfeb00000, 0x200 bytes per transport, version 2 only) and PCI bus 0
// (vendor 0x1af4, device 0x1042, its common, notify and device configuration found through
// the vendor capabilities, their BARs mapped uncached). Each is brought up the same way
// (reset, ACKNOWLEDGE, DRIVER, VIRTIO_F_VERSION_1 negotiated, FEATURES_OK, one split
// virtqueue, DRIVER_OK) and asked for its serial number: that is the name it is bound to
// (`sarab run --block NAME=FILE` sets it). block_acquire(NAME) finds the device by name.
//
// A request is one descriptor chain: header (type, sector), the caller's buffer (identity
// mapping: its virtual address is its physical one), one status byte. The seam's block calls
// complete before they return: the driver halts until the completion's interrupt (MSI-X over
// PCI, an I/O APIC line over virtio-mmio) or polls the used ring where it has neither. Either
// wait is bounded.
#include "virtio.hpp"

#include <sarab/base/format.hpp>
#include <sarab/base/log.hpp>
#include <sarab/base/verify.hpp>
#include <sarab/platform/platform.hpp>

#include <cstring>
#include <new>

extern "C" volatile sarab::u32 sarab_device_interrupts;

namespace sarab::platform::virtio {

namespace {

constexpr u64 mmio_base = 0xfeb00000;
constexpr u64 mmio_stride = 0x200;
constexpr u32 mmio_slots = 32; // what memory.cpp maps: 4 pages

// virtio-mmio registers (virtio 1.x, section 4.2.2).
constexpr u32 reg_magic = 0x000, reg_version = 0x004, reg_device_id = 0x008, reg_device_features = 0x010,
              reg_device_features_sel = 0x014, reg_driver_features = 0x020, reg_driver_features_sel = 0x024,
              reg_queue_sel = 0x030, reg_queue_num_max = 0x034, reg_queue_num = 0x038, reg_queue_ready = 0x044,
              reg_queue_notify = 0x050, reg_interrupt_status = 0x060, reg_interrupt_ack = 0x064, reg_status = 0x070,
              reg_queue_desc = 0x080, reg_queue_driver = 0x090, reg_queue_device = 0x0a0, reg_config = 0x100;
constexpr u32 magic_virt = 0x74726976; // "virt"
constexpr u32 device_block = 2;

// virtio-pci: the common configuration structure (section 4.1.4.3) and the capability types.
constexpr u32 pci_device_feature_select = 0x00, pci_device_feature = 0x04, pci_driver_feature_select = 0x08,
              pci_driver_feature = 0x0c, pci_msix_config = 0x10, pci_device_status = 0x14, pci_queue_msix_vector = 0x1a, pci_queue_select = 0x16, pci_queue_size = 0x18,
              pci_queue_enable = 0x1c, pci_queue_notify_off = 0x1e, pci_queue_desc = 0x20, pci_queue_driver = 0x28,
              pci_queue_device = 0x30;
constexpr u8 cap_common = 1, cap_notify = 2, cap_isr = 3, cap_device = 4;
constexpr u16 pci_vendor_virtio = 0x1af4, pci_device_block = 0x1042;

constexpr u32 status_acknowledge = 1, status_driver = 2, status_driver_ok = 4, status_features_ok = 8, status_failed = 128;
constexpr u64 feature_version_1 = u64(1) << 32;
constexpr u64 feature_blk_ro = u64(1) << 5;

constexpr u32 request_in = 0, request_out = 1, request_get_id = 8;
constexpr u16 desc_next = 1, desc_write = 2;
constexpr u16 queue_size = 16;
constexpr u32 sector = 512;
constexpr usize max_transfer = 1024 * 1024; // bytes per request

struct Descriptor {
    u64 address;
    u32 length;
    u16 flags;
    u16 next;
};
struct Available {
    u16 flags;
    u16 index;
    u16 ring[queue_size];
    u16 used_event;
};
struct UsedElement {
    u32 id;
    u32 length;
};
struct Used {
    u16 flags;
    u16 index;
    UsedElement ring[queue_size];
    u16 available_event;
};
struct RequestHeader {
    u32 type;
    u32 reserved;
    u64 sector;
};

// One queue's memory, in one page-aligned block (the three parts have alignments 16, 2, 4).
struct alignas(SARAB_PAGE_SIZE) Queue {
    Descriptor descriptors[queue_size];
    Available available;
    alignas(4) Used used;
    RequestHeader header;
    u8 status;
};

// Where a device's registers are, and how to reach them: the two transports differ only here.
struct Transport {
    enum class Kind : u8 { mmio, pci } kind = Kind::mmio;
    u64 base = 0;   // mmio: the transport's registers
    u64 common = 0; // pci: the common configuration structure
    u64 notify = 0; // pci: where queue 0 is notified
    u64 isr = 0;    // pci: the interrupt status byte
    u64 device = 0; // pci: the device configuration
    bool msix = false; // pci: completions raise SARAB_VECTOR_DEVICE through MSI-X entry 0
    bool routed = false; // mmio: its interrupt line is routed to SARAB_VECTOR_DEVICE

    u32 read32(u64 address) const { return mmio_read32(address); }
    u8 read8(u64 address) const { return *reinterpret_cast<volatile u8*>(address); }
    void write8(u64 address, u8 v) const { *reinterpret_cast<volatile u8*>(address) = v; }
    u16 read16(u64 address) const { return *reinterpret_cast<volatile u16*>(address); }
    void write16(u64 address, u16 v) const { *reinterpret_cast<volatile u16*>(address) = v; }
    void write32(u64 address, u32 v) const { mmio_write32(address, v); }
    void write64(u64 address, u64 v) const
    {
        write32(address, u32(v));
        write32(address + 4, u32(v >> 32));
    }

    u8 status() const { return kind == Kind::mmio ? u8(read32(base + reg_status)) : read8(common + pci_device_status); }
    void set_status(u8 s) const
    {
        if (kind == Kind::mmio)
            write32(base + reg_status, s);
        else
            write8(common + pci_device_status, s);
    }
    u64 device_features() const
    {
        if (kind == Kind::mmio) {
            write32(base + reg_device_features_sel, 0);
            u64 low = read32(base + reg_device_features);
            write32(base + reg_device_features_sel, 1);
            return low | (u64(read32(base + reg_device_features)) << 32);
        }
        write32(common + pci_device_feature_select, 0);
        u64 low = read32(common + pci_device_feature);
        write32(common + pci_device_feature_select, 1);
        return low | (u64(read32(common + pci_device_feature)) << 32);
    }
    void set_driver_features(u64 f) const
    {
        u64 select = kind == Kind::mmio ? base + reg_driver_features_sel : common + pci_driver_feature_select;
        u64 value = kind == Kind::mmio ? base + reg_driver_features : common + pci_driver_feature;
        write32(select, 0);
        write32(value, u32(f));
        write32(select, 1);
        write32(value, u32(f >> 32));
    }
    // Queue 0 with `size` entries at the given addresses; false if the device cannot.
    bool set_up_queue(u16 size, u64 desc, u64 driver, u64 device_area)
    {
        if (kind == Kind::mmio) {
            write32(base + reg_queue_sel, 0);
            if (read32(base + reg_queue_num_max) < size || read32(base + reg_queue_ready))
                return false;
            write32(base + reg_queue_num, size);
            write64(base + reg_queue_desc, desc);
            write64(base + reg_queue_driver, driver);
            write64(base + reg_queue_device, device_area);
            write32(base + reg_queue_ready, 1);
            return true;
        }
        write16(common + pci_queue_select, 0);
        u16 max = read16(common + pci_queue_size);
        if (max < size || read16(common + pci_queue_enable))
            return false;
        write16(common + pci_queue_size, size);
        if (msix) {
            // Configuration changes raise nothing; the queue raises MSI-X entry 0. A device
            // that cannot says NO_VECTOR (0xffff) back: then it is polled.
            write16(common + pci_msix_config, 0xffff);
            write16(common + pci_queue_msix_vector, 0);
            msix = read16(common + pci_queue_msix_vector) == 0;
        }
        write64(common + pci_queue_desc, desc);
        write64(common + pci_queue_driver, driver);
        write64(common + pci_queue_device, device_area);
        write16(common + pci_queue_enable, 1);
        return true;
    }
    void notify_queue() const
    {
        if (kind == Kind::mmio)
            write32(base + reg_queue_notify, 0);
        else
            write16(notify, 0);
    }
    void acknowledge_interrupt() const
    {
        if (kind == Kind::mmio)
            write32(base + reg_interrupt_ack, read32(base + reg_interrupt_status));
        else
            (void)read8(isr); // reading the ISR status clears it
    }
    u64 config64(u32 offset) const
    {
        u64 at = kind == Kind::mmio ? base + reg_config + offset : device + offset;
        return u64(read32(at)) | (u64(read32(at + 4)) << 32);
    }
};

struct Disk {
    Transport transport;
    Queue* queue = nullptr;
    u16 last_used = 0;
    u64 sectors = 0;
    bool read_only = false;
    bool acquired = false;
    char name[21] = {};
};

constexpr usize max_disks = 8;
Disk g_disks[max_disks];
usize g_disk_count = 0;

void barrier() { asm volatile("" ::: "memory"); }

// Runs one request (a chain of the header, an optional buffer, the status byte) and waits for
// it. False when the device reports an error or does not answer within 30 s.
bool run_request(Disk& d, u32 type, u64 first_sector, void* buffer, u32 length, bool device_writes)
{
    Queue& q = *d.queue;
    q.header = RequestHeader { type, 0, first_sector };
    q.status = 0xff;
    u16 n = 0;
    q.descriptors[n] = Descriptor { u64(&q.header), sizeof q.header, desc_next, u16(n + 1) };
    ++n;
    if (length) {
        q.descriptors[n] = Descriptor { u64(buffer), length, u16(desc_next | (device_writes ? desc_write : 0)), u16(n + 1) };
        ++n;
    }
    q.descriptors[n] = Descriptor { u64(&q.status), 1, desc_write, 0 };
    q.available.ring[q.available.index % queue_size] = 0;
    barrier(); // the chain is written before the device can see its index
    q.available.index = u16(q.available.index + 1);
    barrier();
    d.transport.notify_queue();
    u64 give_up = monotonic_ns() + 30'000'000'000u;
    while (*static_cast<volatile u16*>(&q.used.index) == d.last_used) {
        u64 now = monotonic_ns();
        if (now > give_up) {
            log::error(platform_log, "virtio-blk '{}': no answer to a request within 30 s", std::string_view(d.name));
            return false;
        }
        // With an interrupt (MSI-X, an I/O APIC line) the completion wakes the CPU, and a
        // timer too in case an interrupt is lost; without, the used ring is polled.
        if (d.transport.msix || d.transport.routed)
            halt_until(now + 100'000'000);
        else
            asm volatile("pause");
    }
    barrier();
    d.last_used = q.used.index;
    d.transport.acknowledge_interrupt();
    return q.status == 0;
}

bool bring_up(Disk& d)
{
    Transport& t = d.transport;
    t.set_status(0); // reset
    t.set_status(status_acknowledge);
    t.set_status(status_acknowledge | status_driver);
    u64 offered = t.device_features();
    if (!(offered & feature_version_1))
        return false; // a legacy device (QEMU: -global virtio-mmio.force-legacy=false)
    u64 accepted = offered & (feature_version_1 | feature_blk_ro);
    t.set_driver_features(accepted);
    t.set_status(status_acknowledge | status_driver | status_features_ok);
    if (!(t.status() & status_features_ok))
        return false;
    d.queue = new (std::nothrow) Queue {};
    if (!d.queue)
        return false;
    if (!t.set_up_queue(queue_size, u64(d.queue->descriptors), u64(&d.queue->available), u64(&d.queue->used)))
        return false;
    t.set_status(status_acknowledge | status_driver | status_features_ok | status_driver_ok);

    d.sectors = t.config64(0);
    d.read_only = accepted & feature_blk_ro;
    // The serial number: up to 20 bytes, NUL-padded.
    alignas(8) char id[20] = {};
    if (!run_request(d, request_get_id, 0, id, sizeof id, true))
        return false;
    std::memcpy(d.name, id, sizeof id);
    return true;
}

void add_disk(const Transport& t, std::string_view where)
{
    Disk& d = g_disks[g_disk_count];
    d = Disk {};
    d.transport = t;
    if (!bring_up(d)) {
        t.set_status(status_failed);
        log::warn(platform_log, "virtio-blk at {}: the device could not be set up", where);
        d = Disk {};
        return;
    }
    ++g_disk_count;
}

// ---- PCI (configuration mechanism #1, bus 0) --------------------------------------------------

u32 pci_read(u32 device, u32 function, u32 offset)
{
    outl(0xcf8, 0x80000000u | (device << 11) | (function << 8) | (offset & 0xfc));
    return inl(0xcfc) >> ((offset & 3) * 8);
}

void pci_write(u32 device, u32 function, u32 offset, u32 value)
{
    outl(0xcf8, 0x80000000u | (device << 11) | (function << 8) | (offset & 0xfc));
    outl(0xcfc, value);
}

// The address a memory BAR decodes, or 0.
u64 pci_bar(u32 device, u32 function, u32 bar)
{
    u32 low = pci_read(device, function, 0x10 + bar * 4);
    if (low & 1)
        return 0; // an I/O BAR
    u64 address = low & ~u32(0xf);
    if (((low >> 1) & 3) == 2 && bar < 5)
        address |= u64(pci_read(device, function, 0x14 + bar * 4)) << 32;
    return address;
}

// Points MSI-X entry 0 at this CPU's LAPIC with SARAB_VECTOR_DEVICE and enables MSI-X.
bool enable_msix(u32 device, u32 function, u32 cap)
{
    u32 header = pci_read(device, function, cap);
    u32 table = pci_read(device, function, cap + 4);
    u64 bar = pci_bar(device, function, table & 7);
    u32 entries = ((header >> 16) & 0x7ff) + 1;
    if (!bar || !map_device(bar + (table & ~u32(7)), entries * 16))
        return false;
    u64 entry = bar + (table & ~u32(7));
    mmio_write32(entry + 0, SARAB_LAPIC_BASE); // message address: LAPIC 0, physical, fixed
    mmio_write32(entry + 4, 0);
    mmio_write32(entry + 8, SARAB_VECTOR_DEVICE); // message data: the vector, edge-triggered
    mmio_write32(entry + 12, 0);                  // unmasked
    // Message control (the upper half of the first dword): enable, not function-masked.
    u32 control = ((header >> 16) | 0x8000) & ~u32(0x4000);
    pci_write(device, function, cap, (header & 0xffff) | (control << 16));
    return true;
}

void probe_pci()
{
    for (u32 device = 0; device < 32 && g_disk_count < max_disks; ++device) {
        for (u32 function = 0; function < 8 && g_disk_count < max_disks; ++function) {
            u32 id = pci_read(device, function, 0);
            if (u16(id) == 0xffff) {
                if (function == 0)
                    break;
                continue;
            }
            if (u16(id) != pci_vendor_virtio || u16(id >> 16) != pci_device_block)
                continue;
            Transport t;
            t.kind = Transport::Kind::pci;
            u32 notify_multiplier = 0, notify_bar = 0, notify_offset = 0, msix_cap = 0;
            bool mapped = true;
            // The vendor capabilities say where each structure is: BAR, offset, length.
            for (u32 cap = pci_read(device, function, 0x34) & 0xfc; cap; cap = pci_read(device, function, cap + 1) & 0xfc) {
                u32 cap_id = pci_read(device, function, cap) & 0xff;
                if (cap_id == 0x11)
                    msix_cap = cap;
                if (cap_id != 0x09)
                    continue;
                u8 type = u8(pci_read(device, function, cap + 3));
                u32 bar = pci_read(device, function, cap + 4) & 0xff;
                u32 offset = pci_read(device, function, cap + 8);
                u32 length = pci_read(device, function, cap + 12);
                u64 base = bar < 6 ? pci_bar(device, function, bar) : 0;
                if (!base || (type != cap_common && type != cap_notify && type != cap_isr && type != cap_device))
                    continue;
                mapped = mapped && map_device(base + offset, length);
                if (type == cap_common)
                    t.common = base + offset;
                else if (type == cap_isr)
                    t.isr = base + offset;
                else if (type == cap_device)
                    t.device = base + offset;
                else {
                    notify_multiplier = pci_read(device, function, cap + 16);
                    notify_bar = bar;
                    notify_offset = offset;
                }
            }
            if (!mapped || !t.common || !t.isr || !t.device || !notify_offset) {
                log::warn(platform_log, "virtio-blk at PCI 00:{:02x}.{}: its registers cannot be reached", device, function);
                continue;
            }
            // Memory decoding and bus mastering on (the device reads and writes our memory).
            pci_write(device, function, 0x04, (pci_read(device, function, 0x04) & 0xffff) | 0x6);
            t.write16(t.common + pci_queue_select, 0);
            t.notify = pci_bar(device, function, notify_bar) + notify_offset + u64(t.read16(t.common + pci_queue_notify_off)) * notify_multiplier;
            if (msix_cap)
                t.msix = enable_msix(device, function, msix_cap);
            InlineFormatBuffer<32> where;
            format_to(where, "PCI 00:{:02x}.{}", device, function);
            add_disk(t, where.view());
        }
    }
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


// ---- I/O APIC routing for virtio-mmio (microvm) ------------------------------------------------
// microvm wires transport n to GSI base + n: base 5 on its first I/O APIC, or, when it has a
// second one (0xfec10000, GSIs 24-47), 24. The image does not read the ACPI tables that say so,
// so it looks for the second I/O APIC itself.
constexpr u64 ioapic_first = 0xfec00000, ioapic_second = 0xfec10000;

u32 ioapic_read(u64 base, u32 reg)
{
    mmio_write32(base, reg);
    return mmio_read32(base + 0x10);
}

void ioapic_write(u64 base, u32 reg, u32 value)
{
    mmio_write32(base, reg);
    mmio_write32(base + 0x10, value);
}

// Routes transport `slot`'s line to SARAB_VECTOR_DEVICE on this CPU, active high. virtio-mmio
// holds its line high while its interrupt status is not zero; the pin is edge-triggered all
// the same, so that the stub's EOI cannot start an interrupt storm before the driver has
// acknowledged the device (run_request does, after every completion, so each completion is a
// new rising edge).
bool route_mmio_interrupt(u32 slot)
{
    static int second = -1; // unknown, no, yes
    if (second < 0)
        second = map_device(ioapic_second, SARAB_PAGE_SIZE) && ioapic_read(ioapic_second, 1) != 0xffffffff ? 1 : 0;
    u64 ioapic = second ? ioapic_second : ioapic_first;
    u32 pin = (second ? 0 : 5) + slot;
    u32 pins = ((ioapic_read(ioapic, 1) >> 16) & 0xff) + 1;
    if (pin >= pins)
        return false;
    ioapic_write(ioapic, 0x10 + 2 * pin + 1, 0); // destination: APIC ID 0
    ioapic_write(ioapic, 0x10 + 2 * pin, SARAB_VECTOR_DEVICE); // edge, fixed, unmasked
    return true;
}

} // namespace

void block_init()
{
    for (u32 slot = 0; slot < mmio_slots && g_disk_count < max_disks; ++slot) {
        Transport t;
        t.base = mmio_base + slot * mmio_stride;
        if (t.read32(t.base + reg_magic) != magic_virt || t.read32(t.base + reg_device_id) != device_block)
            continue;
        if (t.read32(t.base + reg_version) != 2) {
            log::warn(platform_log, "virtio-mmio slot {}: a legacy block device (version {}), not used", slot, t.read32(t.base + reg_version));
            continue;
        }
        t.routed = route_mmio_interrupt(slot);
        add_disk(t, "virtio-mmio");
    }
    probe_pci();
}

usize block_count() { return g_disk_count; }

} // namespace sarab::platform::virtio

namespace sarab::platform {

using namespace virtio;

ErrorOr<BlockInfo, BlockError> block_acquire(std::string_view name)
{
    for (usize i = 0; i < g_disk_count; ++i) {
        Disk& d = g_disks[i];
        if (std::string_view(d.name) != name)
            continue;
        if (d.acquired)
            return failure(BlockError::unavailable);
        d.acquired = true;
        log::debug(platform_log, "block device '{}': virtio-blk over {}, {} sectors{}, completions {} ({} device interrupts so far)", name,
            d.transport.kind == Transport::Kind::mmio ? "virtio-mmio" : "PCI", d.sectors, d.read_only ? ", read-only" : "",
            d.transport.msix ? "by MSI-X interrupt" : d.transport.routed ? "by I/O APIC interrupt" : "polled", u32(sarab_device_interrupts));
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

} // namespace sarab::platform
