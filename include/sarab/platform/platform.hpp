// The platform seam: the only interface whose implementation differs between targets.
//
// Everything above this file is compiled identically for hosted, sandbox, virtio and the
// simulated test platform. The seam is deliberately narrow, in the spirit of Solo5:
//
//   console     write text, synchronously
//   clocks      monotonic and wall time in nanoseconds
//   entropy     unpredictable bytes for keys (TCP initial sequence numbers, SYN cookies)
//   yield       sleep until a device of interest is ready or a deadline passes
//   net         devices acquired by name; receive and transmit whole Ethernet frames
//   block       devices acquired by name; read and write whole sectors
//   arguments   the boot arguments, as words
//   seal        the end of start-up
//   exit/abort  end the image
//
// Exactly one implementation is linked into an image. The full contract (ownership, what
// may block, error values) is written in docs/architecture.md; the comments here are its
// summary. No function here may be called before platform start-up has finished, and all
// of them are called from the single thread of the image.
#pragma once

#include <sarab/base/error.hpp>
#include <sarab/base/types.hpp>
#include <sarab/platform/frame.hpp>

#include <array>
#include <bit>
#include <span>
#include <string_view>

namespace sarab::platform {

// Devices are named by small integers, so that yield can report readiness as a bit set.
using Handle = u32;
inline constexpr u32 max_handles = 64;

class HandleSet {
public:
    constexpr HandleSet() = default;
    constexpr explicit HandleSet(u64 bits)
        : m_bits(bits)
    {
    }
    constexpr void add(Handle h) { m_bits |= u64(1) << h; }
    constexpr void remove(Handle h) { m_bits &= ~(u64(1) << h); }
    constexpr bool contains(Handle h) const { return (m_bits >> h) & 1; }
    constexpr bool empty() const { return m_bits == 0; }
    constexpr u64 bits() const { return m_bits; }
    constexpr HandleSet operator&(HandleSet o) const { return HandleSet(m_bits & o.m_bits); }
    constexpr HandleSet operator|(HandleSet o) const { return HandleSet(m_bits | o.m_bits); }
    constexpr bool operator==(const HandleSet&) const = default;

    template<class F>
    void for_each(F&& f) const
    {
        for (u64 b = m_bits; b; b &= b - 1)
            f(Handle(std::countr_zero(b)));
    }

private:
    u64 m_bits = 0;
};

// ---- console ---------------------------------------------------------------------------
// Writes all of `text` before returning. Never fails; output may be lost if there is no
// console.
void console_write(std::string_view text);

// ---- clocks ----------------------------------------------------------------------------
// Nanoseconds since an arbitrary point near start-up; never decreases.
u64 monotonic_ns();
// Nanoseconds since 1970-01-01T00:00:00Z, as well as the platform knows it; may jump.
u64 wall_ns();

// ---- entropy ---------------------------------------------------------------------------
// Fills `out` with bytes an outsider cannot predict, for keying hashes (never for long-term
// cryptographic keys on a platform without a hardware source: docs/architecture.md says what
// each target uses). Never fails or blocks. The simulated platform gives a sequence that
// depends only on its seed, so that runs replay.
void random_fill(std::span<std::byte> out);

// ---- yield -----------------------------------------------------------------------------
// Blocks until a device in `interest` is ready, or the monotonic clock reaches
// `deadline_ns`, whichever comes first, and returns the ready devices of interest (empty at
// the deadline). A deadline in the past polls. Readiness is level-triggered: a net device
// stays ready while net_receive has frames to give. Devices outside `interest` are never
// reported, so a device nobody waits for cannot make yield spin.
HandleSet yield(u64 deadline_ns, HandleSet interest);

// ---- network ---------------------------------------------------------------------------
using MacAddress = std::array<u8, 6>;

struct NetInfo {
    Handle handle;
    MacAddress mac; // the address this image uses on the link
    u16 mtu;        // largest payload after the Ethernet header
    // The longest Ethernet frame the device takes and cuts into TCP segments itself (TCP
    // segmentation offload, frame.hpp); 0 when it cuts none.
    u32 segmentation_limit = 0;
};

enum class NetError : u8 {
    not_bound,   // no device of that name was given to the image
    unavailable, // the device exists but cannot be opened (permissions, busy)
    empty,       // net_receive: nothing to receive now
    full,        // net_transmit: no room now; the frame was dropped
    too_big,     // net_transmit: larger than MTU + Ethernet header
    no_buffers,  // the device's frame pool is exhausted
    io,          // the device failed
};
const char* error_name(NetError);

// Opens the network device the application declared under `name`. Acquiring the same name
// twice is an error (busy → unavailable).
ErrorOr<NetInfo, NetError> net_acquire(std::string_view name);

// Takes the next received frame (a whole Ethernet frame without FCS), never blocking:
// NetError::empty when there is none. The frame belongs to the caller; destroying it gives
// the buffer back to the device's pool.
ErrorOr<Frame, NetError> net_receive(Handle);

// Sends a whole Ethernet frame. The device takes ownership and may keep the buffer until the
// hardware is done with it (zero copy); the caller never sees it again. Never blocks: a full
// queue drops the frame and says NetError::full, as a NIC would.
ErrorOr<void, NetError> net_transmit(Handle, Frame&& frame);

// How many frames net_transmit takes now, at least, without refusing one (NetError::full).
// The stack holds data back while it is 0 rather than lose frames to a full ring.
usize net_transmit_room(Handle);

// The pool the device receives into; the stack may also allocate transmit frames from it.
FramePool& net_frame_pool(Handle);
// Frames of up to NetInfo::segmentation_limit bytes, for TCP segments the device cuts up
// (frame.hpp); null when it cuts none. May be net_frame_pool's own pool.
FramePool* net_segmentation_pool(Handle);

// ---- block -----------------------------------------------------------------------------
struct BlockInfo {
    Handle handle;
    u32 sector_size; // bytes, a power of two, usually 512
    u64 sectors;     // capacity
    bool read_only;
};

enum class BlockError : u8 {
    not_bound,
    unavailable,
    out_of_range, // past the end of the device
    unaligned,    // the buffer is not a whole number of sectors
    read_only,
    io,
};
const char* error_name(BlockError);

ErrorOr<BlockInfo, BlockError> block_acquire(std::string_view name);

// Reads or writes buffer.size() / sector_size whole sectors starting at `sector`. These
// complete before returning (the call may block the image for the duration of the I/O, as
// Solo5's do); on return from block_write the data has reached the device.
ErrorOr<void, BlockError> block_read(Handle, u64 sector, std::span<std::byte> buffer);
ErrorOr<void, BlockError> block_write(Handle, u64 sector, std::span<const std::byte> buffer);
// Makes every write that returned before the call durable: on return it survives a crash of
// the machine (power lost), not only of the image. A device may keep writes in a volatile
// cache until then, and may write the sectors of unflushed writes in any order, or some of
// them only. hosted: fdatasync; virtio: VIRTIO_BLK_T_FLUSH when the device has a write cache
// (VIRTIO_BLK_F_FLUSH), else nothing; simulated: the point up to which sim::crash_disk keeps
// every write.
ErrorOr<void, BlockError> block_flush(Handle);

// ---- boot arguments --------------------------------------------------------------------
// The words the image was started with, without the program name: argv on hosted, the
// kernel command line split at spaces on virtio. Valid for the life of the image.
std::span<const std::string_view> boot_arguments();

// The name of the image, for messages and --help.
std::string_view image_name();

// ---- the end of start-up ---------------------------------------------------------------
// Called once by the runtime (start_image), when the devices the application declared are
// open and before app_main runs: the platform takes away what only start-up needs. virtio
// makes its page tables and descriptor tables read-only, so that no mapping can be added or
// made executable again (docs/virtio.md); hosted has nothing to take yet. Devices are
// acquired before it: net_acquire and block_acquire after it fail with `unavailable` on
// every target, so that an image behaves alike everywhere. A platform looks for its devices
// only when one is first acquired: an image that acquires none never looks.
void seal();

// ---- exit ------------------------------------------------------------------------------
// Ends the image with `status` (0-255) as its exit status.
[[noreturn]] void exit(int status);
// Ends the image after a fatal error: writes `message` and whatever the platform can add
// (a backtrace on hosted), and ends abnormally (SIGABRT on hosted, exit status 134 from a
// shell; a distinct status on virtio).
[[noreturn]] void abort(std::string_view message);

} // namespace sarab::platform
