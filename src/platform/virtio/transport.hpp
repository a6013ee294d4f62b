// The virtio transport shared by the device drivers (block.cpp, net.cpp): finding devices on
// virtio-mmio (microvm) and modern virtio-pci (q35, pc), bringing them up as virtio 1.x
// devices, routing their interrupts, and split virtqueues. virtio-mmio devices are those of
// microvm's fixed window (0xfeb00000 + n * 0x200) and those the kernel command line names
// (`virtio_mmio.device=`, Firecracker's way: command_line.hpp).
//
// Contract:
// - discover_devices runs once, at the first find_devices, which comes from the first device
//   acquisition, before sealing (it maps PCI BARs, the MSI-X table and the second I/O APIC):
//   an image that acquires no device never looks for one. Every device it finds (block and
//   net) has its registers mapped and its interrupt routed to SARAB_VECTOR_DEVICE where the
//   machine allows (MSI-X entry 0 over PCI, an I/O APIC pin, edge-triggered, over
//   virtio-mmio); Transport::has_interrupt says whether it is. Drivers take theirs with
//   find_devices (each driver brings all of its devices up at its first acquisition).
// - Only modern devices are used: VIRTIO_F_VERSION_1 is always negotiated.
// - Memory is identity-mapped, so the address of a buffer is what the device is given.
// - A Virtqueue is driven by one driver on the single thread of the image. The driver writes
//   descriptors, makes chains available (published at once, as Linux does) and kicks when it
//   ends a batch; kick() notifies only when the device asked to be (VIRTIO_F_EVENT_IDX's
//   avail_event, or the used ring's NO_NOTIFY flag). Interrupts are asked for by
//   request_interrupt (the next completion) and put off by defer_interrupts.
#pragma once

#include "virtio.hpp"

#include <sarab/base/types.hpp>

#include <optional>
#include <span>

namespace sarab::platform::virtio {

// Device types (virtio 1.x, section 5).
inline constexpr u32 device_type_net = 1;
inline constexpr u32 device_type_block = 2;

// Features of every device type (section 6).
inline constexpr u64 feature_indirect_desc = u64(1) << 28;
inline constexpr u64 feature_event_idx = u64(1) << 29;
inline constexpr u64 feature_version_1 = u64(1) << 32;

// Where a device's registers are, and how to reach them: the two transports differ only here.
class Transport {
public:
    enum class Kind : u8 { mmio, pci };

    // A virtio-mmio device whose line is GSI `gsi` (routed here through the I/O APIC).
    static Transport mmio(u64 base, u32 gsi);
    static Transport pci(u64 common, u64 notify_base, u32 notify_multiplier, u64 isr, u64 device);

    Kind kind() const { return m_kind; }
    const char* kind_name() const { return m_kind == Kind::mmio ? "virtio-mmio" : "PCI"; }
    bool msix() const { return m_msix; }
    bool routed() const { return m_routed; }
    bool has_interrupt() const { return m_msix || m_routed; }
    const char* completion_path() const { return m_msix ? "by MSI-X interrupt" : m_routed ? "by I/O APIC interrupt" : "polled"; }

    // Resets the device and negotiates features: VIRTIO_F_VERSION_1 and whatever of `wanted`
    // the device offers. `consistent`, when given, takes that set and drops from it the
    // features whose companions are missing (a feature the specification, or the driver,
    // allows only with another). Returns the accepted set; none when the device is legacy or
    // refuses.
    std::optional<u64> negotiate(u64 wanted, u64 (*consistent)(u64 accepted) = nullptr);
    // The device is set up: DRIVER_OK. Or it could not be: FAILED.
    void driver_ok();
    void fail();

    // Queue `index` at the given addresses; false when the device has no such queue, it is
    // smaller than `size` entries, or it is already in use. Returns where to notify it.
    u16 queue_max(u16 index);
    bool set_up_queue(u16 index, u16 size, u64 descriptors, u64 driver_area, u64 device_area, u64& notify_at);
    void notify(u16 index, u64 notify_at) const;
    // Acknowledges the interrupt status (virtio-mmio: write back what is set, which lowers the
    // line; PCI: reading the ISR clears it). Completions after this raise a new edge.
    void acknowledge_interrupt() const;

    // The device-specific configuration, read consistently (the generation counter).
    u8 config8(u32 offset) const;
    u16 config16(u32 offset) const;
    u64 config64(u32 offset) const;
    u32 config_generation() const;

    // Filled in by discovery.
    void set_msix(bool on) { m_msix = on; }
    void set_routed(bool on) { m_routed = on; }

private:
    u8 status() const;
    void set_status(u8) const;
    u64 device_features() const;
    void set_driver_features(u64) const;
    u64 config_address(u32 offset) const;

    Kind m_kind = Kind::mmio;
    u64 m_base = 0;          // mmio: the transport's registers
    u64 m_common = 0;        // pci: the common configuration structure
    u64 m_notify_base = 0;   // pci: the notification structure
    u32 m_notify_multiplier = 0;
    u64 m_isr = 0;           // pci: the interrupt status byte
    u64 m_device = 0;        // pci: the device configuration
    bool m_msix = false;     // pci: every queue raises SARAB_VECTOR_DEVICE through MSI-X entry 0
    bool m_routed = false;   // mmio: its line is routed to SARAB_VECTOR_DEVICE
};

struct FoundDevice {
    u32 type = 0;
    Transport transport;
    char where[32] = {}; // "virtio-mmio slot N", "virtio-mmio 0xADDRESS" or "PCI 00:DD.F", for messages
};

// Every modern device of `type` (discovered at the first call): first the virtio-mmio devices
// the kernel command line names (virtio_mmio.device=, Firecracker's way), in its order; then
// those on microvm's virtio-mmio window that it did not name, in the order QEMU's command
// line gives them (descending slots); then PCI bus 0 (ascending device numbers). A device is
// found once, however it is named. Returns how many were put in `out`.
usize find_devices(u32 type, std::span<FoundDevice> out);

// ---- split virtqueues (section 2.7) ----------------------------------------------------------

struct Descriptor {
    u64 address;
    u32 length;
    u16 flags;
    u16 next;
};
inline constexpr u16 descriptor_next = 1, descriptor_write = 2;

struct UsedElement {
    u32 id;
    u32 length;
};

class Virtqueue {
public:
    // Sets up queue `index` of the device with up to `wanted` entries (fewer when the device
    // has fewer; a power of two). None when there is no memory or the device refuses.
    static Virtqueue* create(Transport&, u16 index, u16 wanted, bool event_idx);

    u16 size() const { return m_size; }
    u16 free_descriptors() const { return m_free_count; }
    // Chains in the device's hands: made available and not yet taken back from the used ring.
    u16 in_flight() const { return u16(m_available_shadow - m_last_used); }
    u32 kicks() const { return m_kicks; }

    // A free descriptor to fill (none when all are in use), and its entry.
    std::optional<u16> allocate_descriptor();
    Descriptor& descriptor(u16 id) { return m_descriptors[id]; }
    // Gives the chain starting at `head` to the device: visible at once, notified at kick().
    void make_available(u16 head);
    // Notifies the device of what was made available since the last kick, if it wants to be.
    void kick();

    // Whether the device has given back a chain, and the next one (its descriptors are free
    // again once it is taken).
    bool has_used() const;
    std::optional<UsedElement> take_used();

    // The device should interrupt at its next completion (before halting); false when a
    // completion came meanwhile, so there is no need to halt.
    bool request_interrupt();
    // The device need not interrupt for completions until request_interrupt is called again.
    void defer_interrupts();

private:
    Virtqueue() = default;
    void free_chain(u16 head);

    Transport* m_transport = nullptr;
    u16 m_index = 0;
    u16 m_size = 0;
    bool m_event_idx = false;
    u64 m_notify_at = 0;
    Descriptor* m_descriptors = nullptr;
    volatile u16* m_available_flags = nullptr;
    volatile u16* m_available_index = nullptr;
    u16* m_available_ring = nullptr;
    volatile u16* m_used_event = nullptr; // in the driver area, after the ring
    volatile u16* m_used_flags = nullptr;
    volatile u16* m_used_index = nullptr;
    volatile UsedElement* m_used_ring = nullptr;
    volatile u16* m_available_event = nullptr; // in the device area, after the ring
    u16 m_available_shadow = 0; // what the driver published
    u16 m_kicked_at = 0;        // m_available_shadow at the last kick decision
    u16 m_last_used = 0;        // the next used entry to take
    u16 m_free_head = 0;
    u16 m_free_count = 0;
    u32 m_kicks = 0;
};

// Orders this CPU's stores before its later loads (x86 reorders only those): between
// publishing an index and reading what the device asked for.
inline void full_barrier() { asm volatile("mfence" ::: "memory"); }
inline void compiler_barrier() { asm volatile("" ::: "memory"); }

} // namespace sarab::platform::virtio
