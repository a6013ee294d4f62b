// The virtio transport: discovery on virtio-mmio and PCI bus 0, feature negotiation, interrupt
// routing and split virtqueues (the contract is in transport.hpp).
#include "transport.hpp"

#include "command_line.hpp"

#include <sarab/base/format.hpp>
#include <sarab/base/log.hpp>
#include <sarab/base/verify.hpp>

#include <cstring>
#include <new>

namespace sarab::platform::virtio {

namespace {

constexpr u64 mmio_base = SARAB_MMIO_WINDOW;
constexpr u64 mmio_stride = 0x200;
constexpr u32 mmio_slots = 32; // what entry.S maps: SARAB_MMIO_WINDOW_PAGES
static_assert(mmio_slots * mmio_stride == SARAB_MMIO_WINDOW_PAGES * SARAB_PAGE_SIZE);

// virtio-mmio registers (virtio 1.x, section 4.2.2).
constexpr u32 reg_magic = 0x000, reg_version = 0x004, reg_device_id = 0x008, reg_device_features = 0x010,
              reg_device_features_sel = 0x014, reg_driver_features = 0x020, reg_driver_features_sel = 0x024,
              reg_queue_sel = 0x030, reg_queue_num_max = 0x034, reg_queue_num = 0x038, reg_queue_ready = 0x044,
              reg_queue_notify = 0x050, reg_interrupt_status = 0x060, reg_interrupt_ack = 0x064, reg_status = 0x070,
              reg_queue_desc = 0x080, reg_queue_driver = 0x090, reg_queue_device = 0x0a0, reg_config_generation = 0x0fc,
              reg_config = 0x100;
constexpr u32 magic_virt = 0x74726976; // "virt"

// virtio-pci: the common configuration structure (section 4.1.4.3) and the capability types.
constexpr u32 pci_device_feature_select = 0x00, pci_device_feature = 0x04, pci_driver_feature_select = 0x08,
              pci_driver_feature = 0x0c, pci_msix_config = 0x10, pci_device_status = 0x14, pci_config_generation = 0x15,
              pci_queue_select = 0x16, pci_queue_size = 0x18, pci_queue_msix_vector = 0x1a, pci_queue_enable = 0x1c,
              pci_queue_notify_off = 0x1e, pci_queue_desc = 0x20, pci_queue_driver = 0x28, pci_queue_device = 0x30;
constexpr u8 cap_common = 1, cap_notify = 2, cap_isr = 3, cap_device = 4;
constexpr u16 pci_vendor_virtio = 0x1af4, pci_device_modern_base = 0x1040;
constexpr u16 msix_no_vector = 0xffff;

constexpr u8 status_acknowledge = 1, status_driver = 2, status_driver_ok = 4, status_features_ok = 8, status_failed = 128;

constexpr u16 available_no_interrupt = 1; // VIRTQ_AVAIL_F_NO_INTERRUPT
constexpr u16 used_no_notify = 1;         // VIRTQ_USED_F_NO_NOTIFY

u8 read8(u64 address) { return *reinterpret_cast<volatile u8*>(address); }
void write8(u64 address, u8 v) { *reinterpret_cast<volatile u8*>(address) = v; }
u16 read16(u64 address) { return *reinterpret_cast<volatile u16*>(address); }
void write16(u64 address, u16 v) { *reinterpret_cast<volatile u16*>(address) = v; }
u32 read32(u64 address) { return mmio_read32(address); }
void write32(u64 address, u32 v) { mmio_write32(address, v); }
void write64(u64 address, u64 v)
{
    write32(address, u32(v));
    write32(address + 4, u32(v >> 32));
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

// The device at 00:device.function as a transport: its vendor capabilities say where each
// structure is (BAR, offset, length). None when one cannot be reached.
std::optional<Transport> pci_transport(u32 device, u32 function)
{
    u64 common = 0, isr = 0, config = 0, notify = 0;
    u32 notify_multiplier = 0, msix_cap = 0;
    bool mapped = true;
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
        if (type == cap_common && common)
            continue; // the first of each kind is the preferred one
        mapped = mapped && map_device(base + offset, length);
        if (type == cap_common)
            common = base + offset;
        else if (type == cap_isr && !isr)
            isr = base + offset;
        else if (type == cap_device && !config)
            config = base + offset;
        else if (type == cap_notify && !notify) {
            notify_multiplier = pci_read(device, function, cap + 16);
            notify = base + offset;
        }
    }
    if (!mapped || !common || !isr || !config || !notify)
        return std::nullopt;
    // Memory decoding and bus mastering on (the device reads and writes our memory).
    pci_write(device, function, 0x04, (pci_read(device, function, 0x04) & 0xffff) | 0x6);
    Transport t = Transport::pci(common, notify, notify_multiplier, isr, config);
    if (msix_cap)
        t.set_msix(enable_msix(device, function, msix_cap));
    return t;
}

// ---- I/O APIC routing for virtio-mmio (microvm) ------------------------------------------------
// microvm wires transport n to GSI base + n: base 5 on its first I/O APIC, or, when it has a
// second one (0xfec10000, GSIs 24-47), 24. The image does not read the ACPI tables that say so,
// so it looks for the second I/O APIC itself.
constexpr u64 ioapic_first = SARAB_IOAPIC_BASE, ioapic_second = 0xfec10000;

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

bool has_second_ioapic()
{
    static int second = -1; // unknown, no, yes
    if (second < 0)
        second = map_device(ioapic_second, SARAB_PAGE_SIZE) && ioapic_read(ioapic_second, 1) != 0xffffffff ? 1 : 0;
    return second;
}

// The GSI of microvm's virtio-mmio transport `slot`.
u32 microvm_gsi(u32 slot) { return (has_second_ioapic() ? 24 : 5) + slot; }

// Routes GSI `gsi` (a virtio-mmio transport's line) to SARAB_VECTOR_DEVICE on this CPU, active
// high: GSIs 0-23 are the first I/O APIC's pins, 24-47 the second's (microvm with two). virtio-mmio
// holds its line high while its interrupt status is not zero; the pin is edge-triggered all
// the same, so that the stub's EOI cannot start an interrupt storm before the driver has
// acknowledged the device (the drivers acknowledge before they look at their queues, so each
// completion after that is a new rising edge).
bool route_gsi(u32 gsi)
{
    bool second = gsi >= 24;
    if (second && !has_second_ioapic())
        return false;
    u64 ioapic = second ? ioapic_second : ioapic_first;
    u32 pin = second ? gsi - 24 : gsi;
    u32 pins = ((ioapic_read(ioapic, 1) >> 16) & 0xff) + 1;
    if (pin >= pins)
        return false;
    ioapic_write(ioapic, 0x10 + 2 * pin + 1, 0); // destination: APIC ID 0
    ioapic_write(ioapic, 0x10 + 2 * pin, SARAB_VECTOR_DEVICE); // edge, fixed, unmasked
    return true;
}

// Whether the used ring has passed `event` in going from `old_index` to `new_index`
// (vring_need_event of the specification, section 2.7.10).
bool need_event(u16 event, u16 new_index, u16 old_index) { return u16(new_index - event - 1) < u16(new_index - old_index); }

} // namespace

// ---- Transport --------------------------------------------------------------------------------

Transport Transport::mmio(u64 base, u32 gsi)
{
    Transport t;
    t.m_kind = Kind::mmio;
    t.m_base = base;
    t.m_routed = route_gsi(gsi);
    return t;
}

Transport Transport::pci(u64 common, u64 notify_base, u32 notify_multiplier, u64 isr, u64 device)
{
    Transport t;
    t.m_kind = Kind::pci;
    t.m_common = common;
    t.m_notify_base = notify_base;
    t.m_notify_multiplier = notify_multiplier;
    t.m_isr = isr;
    t.m_device = device;
    return t;
}

u8 Transport::status() const { return m_kind == Kind::mmio ? u8(read32(m_base + reg_status)) : read8(m_common + pci_device_status); }

void Transport::set_status(u8 s) const
{
    if (m_kind == Kind::mmio)
        write32(m_base + reg_status, s);
    else
        write8(m_common + pci_device_status, s);
}

u64 Transport::device_features() const
{
    u64 select = m_kind == Kind::mmio ? m_base + reg_device_features_sel : m_common + pci_device_feature_select;
    u64 value = m_kind == Kind::mmio ? m_base + reg_device_features : m_common + pci_device_feature;
    write32(select, 0);
    u64 low = read32(value);
    write32(select, 1);
    return low | (u64(read32(value)) << 32);
}

void Transport::set_driver_features(u64 f) const
{
    u64 select = m_kind == Kind::mmio ? m_base + reg_driver_features_sel : m_common + pci_driver_feature_select;
    u64 value = m_kind == Kind::mmio ? m_base + reg_driver_features : m_common + pci_driver_feature;
    write32(select, 0);
    write32(value, u32(f));
    write32(select, 1);
    write32(value, u32(f >> 32));
}

std::optional<u64> Transport::negotiate(u64 wanted, u64 (*consistent)(u64 accepted))
{
    set_status(0); // reset
    set_status(status_acknowledge);
    set_status(status_acknowledge | status_driver);
    u64 offered = device_features();
    if (!(offered & feature_version_1))
        return std::nullopt; // a legacy device (QEMU: -global virtio-mmio.force-legacy=false)
    u64 accepted = offered & (wanted | feature_version_1);
    if (consistent)
        accepted = consistent(accepted) | feature_version_1;
    set_driver_features(accepted);
    set_status(status_acknowledge | status_driver | status_features_ok);
    if (!(status() & status_features_ok))
        return std::nullopt;
    return accepted;
}

void Transport::driver_ok() { set_status(status_acknowledge | status_driver | status_features_ok | status_driver_ok); }
void Transport::fail() { set_status(status_failed); }

u16 Transport::queue_max(u16 index)
{
    if (m_kind == Kind::mmio) {
        write32(m_base + reg_queue_sel, index);
        return u16(read32(m_base + reg_queue_num_max) > 0x8000 ? 0x8000 : read32(m_base + reg_queue_num_max));
    }
    write16(m_common + pci_queue_select, index);
    return read16(m_common + pci_queue_size);
}

bool Transport::set_up_queue(u16 index, u16 size, u64 descriptors, u64 driver_area, u64 device_area, u64& notify_at)
{
    if (m_kind == Kind::mmio) {
        write32(m_base + reg_queue_sel, index);
        if (read32(m_base + reg_queue_num_max) < size || read32(m_base + reg_queue_ready))
            return false;
        write32(m_base + reg_queue_num, size);
        write64(m_base + reg_queue_desc, descriptors);
        write64(m_base + reg_queue_driver, driver_area);
        write64(m_base + reg_queue_device, device_area);
        write32(m_base + reg_queue_ready, 1);
        notify_at = m_base + reg_queue_notify;
        return true;
    }
    write16(m_common + pci_queue_select, index);
    u16 max = read16(m_common + pci_queue_size);
    if (max < size || read16(m_common + pci_queue_enable))
        return false;
    write16(m_common + pci_queue_size, size);
    if (m_msix) {
        // Configuration changes raise nothing; every queue raises MSI-X entry 0. A device that
        // cannot says NO_VECTOR back: then the device is polled.
        write16(m_common + pci_msix_config, msix_no_vector);
        write16(m_common + pci_queue_msix_vector, 0);
        m_msix = read16(m_common + pci_queue_msix_vector) == 0;
    }
    write64(m_common + pci_queue_desc, descriptors);
    write64(m_common + pci_queue_driver, driver_area);
    write64(m_common + pci_queue_device, device_area);
    write16(m_common + pci_queue_enable, 1);
    notify_at = m_notify_base + u64(read16(m_common + pci_queue_notify_off)) * m_notify_multiplier;
    return true;
}

void Transport::notify(u16 index, u64 notify_at) const
{
    if (m_kind == Kind::mmio)
        write32(notify_at, index);
    else
        write16(notify_at, index);
}

void Transport::acknowledge_interrupt() const
{
    if (m_kind == Kind::mmio)
        write32(m_base + reg_interrupt_ack, read32(m_base + reg_interrupt_status));
    else
        (void)read8(m_isr); // reading the ISR status clears it
}

u64 Transport::config_address(u32 offset) const { return m_kind == Kind::mmio ? m_base + reg_config + offset : m_device + offset; }
u32 Transport::config_generation() const { return m_kind == Kind::mmio ? read32(m_base + reg_config_generation) : read8(m_common + pci_config_generation); }
u8 Transport::config8(u32 offset) const { return read8(config_address(offset)); }
u16 Transport::config16(u32 offset) const { return read16(config_address(offset)); }
u64 Transport::config64(u32 offset) const
{
    // Two 32-bit reads: the generation counter says whether the device changed it between them.
    for (;;) {
        u32 generation = config_generation();
        u64 value = u64(read32(config_address(offset))) | (u64(read32(config_address(offset + 4))) << 32);
        if (config_generation() == generation)
            return value;
    }
}

// ---- discovery --------------------------------------------------------------------------------

namespace {

constexpr usize max_devices = 16;
FoundDevice g_devices[max_devices];
u64 g_device_bases[max_devices]; // virtio-mmio: where each device's registers are; PCI: 0
usize g_device_count = 0;

bool interesting(u32 type) { return type == device_type_net || type == device_type_block; }

// The device at `base` (registers mapped), or false when there is none of interest. `gsi`
// gives its line, asked for only when there is a device (microvm's may map a page).
template<class Gsi>
bool probe_mmio(u64 base, Gsi gsi, FoundDevice& out)
{
    // The type first: an empty transport says 0, and each read is an exit to the VMM.
    u32 type = read32(base + reg_device_id);
    if (!interesting(type) || read32(base + reg_magic) != magic_virt)
        return false;
    if (read32(base + reg_version) != 2) {
        log::warn(platform_log, "virtio-mmio at 0x{:x}: a legacy device (version {}, type {}), not used", base, read32(base + reg_version), type);
        return false;
    }
    out.type = type;
    out.transport = Transport::mmio(base, gsi());
    return true;
}

// Every virtio device found, mapped and routed; once, at the first find_devices.
void discover_devices()
{
    std::span<FoundDevice> out(g_devices);
    usize& found = g_device_count;
    // First the devices the command line names (Firecracker's virtio_mmio.device=), in its
    // order, with the line it gives.
    auto named = command_line_devices();
    for (const MmioDeviceWord& d : named) {
        if (found == out.size())
            break;
        bool seen = false;
        for (usize i = 0; i < found; ++i)
            seen = seen || g_device_bases[i] == d.base;
        if (seen || !map_device(d.base, d.size < 0x200 ? 0x200 : d.size) || !probe_mmio(d.base, [&] { return d.irq; }, out[found]))
            continue;
        g_device_bases[found] = d.base;
        FormatBuffer where(std::span<char>(out[found].where, sizeof out[found].where - 1)); // NUL-terminated
        format_to(where, "virtio-mmio 0x{:x}", d.base);
        ++found;
    }
    // Then microvm's fixed window, but not what the command line named already. QEMU puts the
    // first -device on the highest slot and each next one below it: scanning downwards finds
    // them in command-line order.
    for (u32 slot = mmio_slots; slot-- > 0 && found < out.size();) {
        u64 base = mmio_base + slot * mmio_stride;
        bool seen = false;
        for (usize i = 0; i < found; ++i)
            seen = seen || g_device_bases[i] == base;
        if (seen || !probe_mmio(base, [slot] { return microvm_gsi(slot); }, out[found]))
            continue;
        g_device_bases[found] = base;
        FormatBuffer where(std::span<char>(out[found].where, sizeof out[found].where - 1));
        format_to(where, "virtio-mmio slot {}", slot);
        ++found;
    }
    // route_gsi asks for the second I/O APIC when a device is set up, after sealing, when its
    // page can no longer be mapped: look for it now if there is a device.
    if (found)
        has_second_ioapic();
    // No host bridge at 00:00.0 (microvm without PCIe): no PCI bus to scan.
    bool pci = u16(pci_read(0, 0, 0)) != 0xffff;
    for (u32 device = 0; pci && device < 32 && found < out.size(); ++device) {
        for (u32 function = 0; function < 8 && found < out.size(); ++function) {
            u32 id = pci_read(device, function, 0);
            if (u16(id) == 0xffff) {
                if (function == 0)
                    break;
                continue;
            }
            u32 type = u32(u16(id >> 16) - pci_device_modern_base);
            if (u16(id) != pci_vendor_virtio || u16(id >> 16) < pci_device_modern_base || !interesting(type))
                continue;
            auto t = pci_transport(device, function);
            if (!t) {
                log::warn(platform_log, "virtio device (type {}) at PCI 00:{:02x}.{}: its registers cannot be reached", type, device, function);
                continue;
            }
            out[found].type = type;
            out[found].transport = *t;
            FormatBuffer where(std::span<char>(out[found].where, sizeof out[found].where - 1));
            format_to(where, "PCI 00:{:02x}.{}", device, function);
            ++found;
        }
    }
}

} // namespace

void log_devices()
{
    for (usize i = 0; i < g_device_count; ++i)
        log::debug(platform_log, "found a virtio {} device at {}", g_devices[i].type == device_type_net ? "net" : "block", std::string_view(g_devices[i].where));
}

usize find_devices(u32 type, std::span<FoundDevice> out)
{
    static bool discovered = false;
    if (!discovered) {
        VERIFY(!memory_sealed(), "virtio devices looked for after sealing");
        discover_devices();
        discovered = true;
    }
    usize found = 0;
    for (usize i = 0; i < g_device_count && found < out.size(); ++i) {
        if (g_devices[i].type == type)
            out[found++] = g_devices[i];
    }
    return found;
}

// ---- Virtqueue --------------------------------------------------------------------------------

Virtqueue* Virtqueue::create(Transport& transport, u16 index, u16 wanted, bool event_idx)
{
    u16 max = transport.queue_max(index);
    if (max == 0)
        return nullptr;
    u16 size = 1;
    while (u32(size) * 2 <= wanted && u32(size) * 2 <= max)
        size = u16(size * 2);
    // One zeroed block: descriptors (alignment 16), the driver area (2), the device area (4).
    usize driver_offset = usize(size) * sizeof(Descriptor);
    usize device_offset = (driver_offset + 6 + 2 * usize(size) + 3) & ~usize(3);
    usize bytes = device_offset + 6 + sizeof(UsedElement) * usize(size);
    auto* memory = static_cast<std::byte*>(::operator new(bytes, std::align_val_t(SARAB_PAGE_SIZE), std::nothrow));
    auto* q = new (std::nothrow) Virtqueue;
    if (!memory || !q) {
        ::operator delete(memory, std::align_val_t(SARAB_PAGE_SIZE), std::nothrow);
        delete q;
        return nullptr;
    }
    std::memset(memory, 0, bytes);
    q->m_transport = &transport;
    q->m_index = index;
    q->m_size = size;
    q->m_event_idx = event_idx;
    q->m_descriptors = reinterpret_cast<Descriptor*>(memory);
    auto* driver = reinterpret_cast<u16*>(memory + driver_offset);
    q->m_available_flags = driver;
    q->m_available_index = driver + 1;
    q->m_available_ring = driver + 2;
    q->m_used_event = driver + 2 + size;
    auto* device = reinterpret_cast<u16*>(memory + device_offset);
    q->m_used_flags = device;
    q->m_used_index = device + 1;
    q->m_used_ring = reinterpret_cast<volatile UsedElement*>(device + 2);
    q->m_available_event = reinterpret_cast<volatile u16*>(reinterpret_cast<volatile std::byte*>(device + 2) + sizeof(UsedElement) * size);
    for (u16 i = 0; i < size; ++i)
        q->m_descriptors[i].next = u16(i + 1);
    q->m_free_head = 0;
    q->m_free_count = size;
    // No interrupts until one is asked for.
    q->defer_interrupts();
    if (!transport.set_up_queue(index, size, u64(memory), u64(driver), u64(device), q->m_notify_at)) {
        ::operator delete(memory, std::align_val_t(SARAB_PAGE_SIZE), std::nothrow);
        delete q;
        return nullptr;
    }
    return q;
}

std::optional<u16> Virtqueue::allocate_descriptor()
{
    if (m_free_count == 0)
        return std::nullopt;
    u16 id = m_free_head;
    m_free_head = m_descriptors[id].next;
    --m_free_count;
    m_descriptors[id].flags = 0;
    return id;
}

void Virtqueue::free_chain(u16 head)
{
    u16 id = head;
    for (;;) {
        VERIFY(id < m_size, "virtio: the device gave back a descriptor out of range");
        ++m_free_count;
        bool more = m_descriptors[id].flags & descriptor_next;
        if (!more)
            break;
        id = m_descriptors[id].next;
    }
    // The chain's last descriptor now links to the old free list.
    m_descriptors[id].next = m_free_head;
    m_free_head = head;
}

void Virtqueue::make_available(u16 head)
{
    m_available_ring[m_available_shadow % m_size] = head;
    compiler_barrier(); // the chain and its slot are written before the index (x86 keeps stores in order)
    m_available_shadow = u16(m_available_shadow + 1);
    *m_available_index = m_available_shadow;
}

void Virtqueue::kick()
{
    u16 old_index = m_kicked_at;
    u16 new_index = m_available_shadow;
    if (old_index == new_index)
        return;
    m_kicked_at = new_index;
    full_barrier(); // the published index before what the device asked for
    bool wanted = m_event_idx ? need_event(*m_available_event, new_index, old_index) : !(*m_used_flags & used_no_notify);
    if (!wanted)
        return;
    ++m_kicks;
    m_transport->notify(m_index, m_notify_at);
}

bool Virtqueue::has_used() const { return *m_used_index != m_last_used; }

std::optional<UsedElement> Virtqueue::take_used()
{
    if (!has_used())
        return std::nullopt;
    compiler_barrier(); // the index before the element it covers (x86 keeps loads in order)
    volatile UsedElement& slot = m_used_ring[m_last_used % m_size];
    UsedElement element { slot.id, slot.length };
    m_last_used = u16(m_last_used + 1);
    VERIFY(element.id < m_size, "virtio: the device gave back a descriptor out of range");
    free_chain(u16(element.id));
    return element;
}

bool Virtqueue::request_interrupt()
{
    if (m_event_idx)
        *m_used_event = m_last_used; // interrupt when entry m_last_used is written
    else
        *m_available_flags = 0;
    full_barrier(); // the request before looking again
    return !has_used();
}

void Virtqueue::defer_interrupts()
{
    // With EVENT_IDX the flags must stay 0: the event is put half the index space ahead,
    // which the device reaches only after 32768 more completions without a request (then one
    // spurious interrupt, harmless).
    if (m_event_idx)
        *m_used_event = u16(m_last_used + 0x8000);
    else
        *m_available_flags = available_no_interrupt;
}

} // namespace sarab::platform::virtio
