// The hosted platform: a Linux process.
//
// Console is stdout; clocks are CLOCK_MONOTONIC and CLOCK_REALTIME; yield is ppoll over the
// descriptors of the devices of interest; net devices are tap interfaces (IFF_TAP|IFF_NO_PI)
// opened by name; block devices are files. Device names are bound with boot arguments:
// --dev=NAME=tap:IFNAME, --dev=NAME=file:PATH, or --net=tap:IFNAME for every net device that
// --dev does not name.
//
// The sandbox target is this platform too: when start-up ends, seal() also seals the process
// with a seccomp filter made from the devices then open (process_seal.hpp, sandbox.cpp).
#include "process_seal.hpp"

#include <sarab/base/boot_args.hpp>
#include <sarab/base/log.hpp>
#include <sarab/platform/hosted.hpp>
#include <sarab/platform/platform.hpp>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vector>

namespace sarab::platform {

namespace {

log::Source g_log { "platform" };
BootArgList g_dev { "dev", "NAME=SPEC", "bind a declared device: NAME=tap:IF (net), NAME=file:PATH (block), NAME=dir:PATH (store)", ArgGroup::platform };
BootArg<std::string_view> g_net { "net", "", "bind every net device not named by --dev to a tap interface: tap:IF", ArgGroup::platform };

constexpr usize rx_pool_frames = 512;

// The header a tap with IFF_VNET_HDR puts before every frame: struct virtio_net_hdr of the
// virtio specification (5.1.6), without VIRTIO_F_VERSION_1's num_buffers. Linux's own
// <linux/virtio_net.h> is not valid C++, hence this copy of the layout.
struct VnetHeader {
    static constexpr u8 needs_csum = 1; // VIRTIO_NET_HDR_F_NEEDS_CSUM
    static constexpr u8 data_valid = 2; // VIRTIO_NET_HDR_F_DATA_VALID
    static constexpr u8 gso_tcpv4 = 1;  // VIRTIO_NET_HDR_GSO_TCPV4
    u8 flags;
    u8 gso_type;
    u16 hdr_len;
    u16 gso_size;
    u16 csum_start;
    u16 csum_offset;
};
static_assert(sizeof(VnetHeader) == 10);

enum class Kind : u8 { free, tap, file, fd };

struct Device {
    Kind kind = Kind::free;
    int fd = -1;
    bool writable = false; // for watched descriptors
    u32 sector_size = 0;
    u64 sectors = 0;
    bool read_only = false;
    u16 mtu = 0;
    bool segmentation = false; // the kernel cuts long TCP frames (GSO)
    std::string name; // the declared name it was acquired for
    std::unique_ptr<FramePool> pool;
};

std::array<Device, max_handles> g_devices;
std::vector<std::string_view> g_args;
std::string_view g_image_name = "sarab";
u64 g_clock_origin = 0;

u64 read_clock(clockid_t id)
{
    timespec ts;
    clock_gettime(id, &ts);
    return u64(ts.tv_sec) * 1'000'000'000u + u64(ts.tv_nsec);
}

ErrorOr<Handle, Errc> allocate_handle(Kind kind, int fd)
{
    for (Handle h = 0; h < max_handles; ++h) {
        if (g_devices[h].kind == Kind::free) {
            g_devices[h] = Device {};
            g_devices[h].kind = kind;
            g_devices[h].fd = fd;
            return h;
        }
    }
    return failure(Errc::busy);
}

// The binding for a device name: the part after "NAME=" of a --dev, or --net for net devices.
std::string_view binding_of(std::string_view name, bool net)
{
    std::string_view found;
    for (std::string_view spec : g_dev.values()) {
        usize eq = spec.find('=');
        if (eq != std::string_view::npos && spec.substr(0, eq) == name)
            found = spec.substr(eq + 1);
    }
    if (found.empty() && net)
        found = g_net.value();
    return found;
}

// A locally administered unicast address derived from the interface and device names, so
// that the same binding gets the same address on every run.
MacAddress make_mac(std::string_view ifname, std::string_view name)
{
    u32 hash = 2166136261u;
    for (char c : ifname)
        hash = (hash ^ u8(c)) * 16777619u;
    hash = (hash ^ '/') * 16777619u;
    for (char c : name)
        hash = (hash ^ u8(c)) * 16777619u;
    return { 0x02, 0x53, 0x52, u8(hash >> 16), u8(hash >> 8), u8(hash) };
}

} // namespace

// ---- console and clocks -------------------------------------------------------------------

void console_write(std::string_view text)
{
    while (!text.empty()) {
        ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        text.remove_prefix(usize(n));
    }
}

u64 monotonic_ns() { return read_clock(CLOCK_MONOTONIC) - g_clock_origin; }
u64 wall_ns() { return read_clock(CLOCK_REALTIME); }

// ---- entropy ------------------------------------------------------------------------------

void random_fill(std::span<std::byte> out)
{
    while (!out.empty()) {
        ssize_t n = getrandom(out.data(), out.size(), 0);
        if (n < 0) {
            VERIFY(errno == EINTR, "getrandom failed");
            continue;
        }
        out = out.subspan(usize(n));
    }
}

// ---- yield --------------------------------------------------------------------------------

HandleSet yield(u64 deadline_ns, HandleSet interest)
{
    pollfd fds[max_handles];
    Handle owners[max_handles];
    nfds_t n = 0;
    interest.for_each([&](Handle h) {
        VERIFY(g_devices[h].kind != Kind::free, "yield on a handle that is not open");
        if (g_devices[h].kind == Kind::file)
            return; // block I/O is synchronous; never "ready"
        fds[n].fd = g_devices[h].fd;
        fds[n].events = short(POLLIN | (g_devices[h].writable ? POLLOUT : 0));
        fds[n].revents = 0;
        owners[n++] = h;
    });

    VERIFY(n > 0 || deadline_ns != ~u64(0), "yield would block for ever: no pollable device of interest and no deadline");
    for (;;) {
        u64 now = monotonic_ns();
        timespec timeout {};
        timespec* timeout_ptr = &timeout;
        if (deadline_ns == ~u64(0)) {
            timeout_ptr = nullptr;
        } else if (deadline_ns > now) {
            u64 wait = deadline_ns - now;
            timeout.tv_sec = time_t(wait / 1'000'000'000u);
            timeout.tv_nsec = long(wait % 1'000'000'000u);
        }
        int r = ::ppoll(fds, n, timeout_ptr, nullptr);
        if (r < 0 && errno == EINTR)
            continue;
        VERIFY(r >= 0, "ppoll failed");
        HandleSet ready;
        for (nfds_t i = 0; i < n; ++i) {
            if (fds[i].revents)
                ready.add(owners[i]);
        }
        // ppoll's timeout is rounded to the kernel's timer slack: never return early.
        if (!ready.empty() || monotonic_ns() >= deadline_ns || deadline_ns == ~u64(0))
            return ready;
    }
}

// ---- network: tap devices ------------------------------------------------------------------

static bool g_sealed = false; // seal() was called: no more acquisitions
static bool g_process_sealed = false; // and the process too (sandbox: process_seal.hpp)
static bool g_socket_net = false; // a net device is left to the socket stack

// A device acquired after start-up (seal()): says why it cannot be.
static bool refuse_after_seal(std::string_view name)
{
    if (g_sealed)
        log::error(g_log, "device '{}' acquired after start-up: declare it, and the runtime opens it at start-up", name);
    return g_sealed;
}

static bool already_acquired(std::string_view name)
{
    for (const Device& d : g_devices) {
        if (d.kind != Kind::free && d.name == name)
            return true;
    }
    return false;
}

ErrorOr<NetInfo, NetError> net_acquire(std::string_view name)
{
    if (refuse_after_seal(name) || already_acquired(name))
        return failure(NetError::unavailable);
    std::string_view binding = binding_of(name, true);
    if (binding.empty()) {
        // Not an error by itself: a net::Interface then falls back to the socket stack.
        log::debug(g_log, "net device '{}' is bound to nothing (--net=tap:IF or --dev={}=tap:IF bind one)", name, name);
        g_socket_net = true;
        return failure(NetError::not_bound);
    }
    if (binding.substr(0, 4) != "tap:" || binding.size() <= 4 || binding.size() - 4 >= IFNAMSIZ) {
        log::error(g_log, "net device '{}': '{}' is not tap:IFNAME", name, binding);
        return failure(NetError::not_bound);
    }
    std::string_view ifname = binding.substr(4);

    int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        log::error(g_log, "net device '{}': cannot open /dev/net/tun: {}", name, std::strerror(errno));
        return failure(NetError::unavailable);
    }
    // With a virtio-net header on every frame, the kernel can hand over TCP segments of up to
    // 64 KiB that it would otherwise cut into MTU-sized frames (TSO from the host's point of
    // view), and packets whose checksum it never computed: one read instead of forty-odd.
    ifreq ifr {};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
    if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
        log::error(g_log, "net device '{}': cannot attach to tap interface {}: {}", name, ifname, std::strerror(errno));
        ::close(fd);
        return failure(NetError::unavailable);
    }
    int header_size = int(sizeof(VnetHeader));
    bool offload = ::ioctl(fd, TUNSETVNETHDRSZ, &header_size) == 0 && ::ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) == 0;
    if (!offload)
        log::debug(g_log, "net device '{}': no offloads on {}: {}", name, ifname, std::strerror(errno));

    // The MTU is the interface's, as the host configured it.
    u16 mtu = 1500;
    int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock >= 0) {
        ifreq q {};
        std::memcpy(q.ifr_name, ifname.data(), ifname.size());
        if (::ioctl(sock, SIOCGIFMTU, &q) == 0 && q.ifr_mtu > 0 && q.ifr_mtu <= 65535)
            mtu = u16(q.ifr_mtu);
        ::close(sock);
    }

    auto handle = allocate_handle(Kind::tap, fd);
    if (!handle) {
        ::close(fd);
        return failure(NetError::unavailable);
    }
    // A frame, a VLAN tag and headroom for the stack; or a whole 64 KiB segment from the host.
    // The pool's pages are touched only as far as frames are written, so the large buffers
    // cost address space, not memory.
    usize buffer = offload ? 65536 + 14 + 4 + 256 : usize(mtu) + 14 + 4 + 256;
    auto pool = FramePool::create(rx_pool_frames, buffer < FramePool::default_buffer_size ? FramePool::default_buffer_size : buffer);
    if (!pool) {
        ::close(fd);
        g_devices[*handle].kind = Kind::free;
        return failure(NetError::no_buffers);
    }
    // Every frame written carries a virtio-net header (IFF_VNET_HDR), so the kernel completes
    // the transport checksum of a frame that asks (NEEDS_CSUM), whatever the offloads above.
    pool.value()->set_device_checksums(true);
    g_devices[*handle].pool = pool.release_value();
    g_devices[*handle].mtu = mtu;
    g_devices[*handle].name = std::string(name);
    // The kernel cuts a frame whose header asks (gso_type) into segments: GSO, the tap's TSO.
    // Its pool's buffers hold the longest IPv4 packet already, for receiving.
    g_devices[*handle].segmentation = offload;
    return NetInfo { *handle, make_mac(ifname, name), mtu, offload ? max_segmentation_frame : 0 };
}

ErrorOr<Frame, NetError> net_receive(Handle h)
{
    Device& d = g_devices[h];
    VERIFY(d.kind == Kind::tap, "net_receive on a handle that is not a net device");
    auto frame = d.pool->allocate(0);
    if (!frame)
        return failure(NetError::no_buffers);
    VnetHeader header {};
    iovec parts[2] = { { &header, sizeof header }, { frame->buffer(), frame->capacity() } };
    for (;;) {
        ssize_t n = ::readv(d.fd, parts, 2);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return failure(NetError::empty);
        if (n < 0)
            return failure(NetError::io);
        if (usize(n) < sizeof header)
            return failure(NetError::io);
        frame->set_window(0, usize(n) - sizeof header);
        // Checksummed by the host already, or never to be: a packet the host made itself.
        frame->set_transport_checksum_ok(header.flags & (VnetHeader::needs_csum | VnetHeader::data_valid));
        return std::move(*frame);
    }
}

ErrorOr<void, NetError> net_transmit(Handle h, Frame&& frame)
{
    Device& d = g_devices[h];
    VERIFY(d.kind == Kind::tap, "net_transmit on a handle that is not a net device");
    Frame owned = std::move(frame); // given back to its pool when this returns
    VERIFY(owned.size() >= 14, "a frame shorter than an Ethernet header");
    // One 802.1Q tag may come on top of the MTU and the Ethernet header.
    bool tagged = owned.size() >= 18 && owned.bytes()[12] == std::byte(0x81) && owned.bytes()[13] == std::byte(0x00);
    usize limit = owned.segment_size() && d.segmentation ? max_segmentation_frame : usize(d.mtu) + 14;
    if (owned.size() > limit + (tagged ? 4 : 0))
        return failure(NetError::too_big);
    VnetHeader header {}; // a whole frame, checksums done, unless it asks the host for one
    if (owned.wants_device_checksum()) {
        header.flags = VnetHeader::needs_csum;
        header.csum_start = u16(owned.device_checksum_start());
        header.csum_offset = u16(owned.device_checksum_field());
    }
    if (owned.segment_size() && d.segmentation) { // even when it fits the MTU: the peer's MSS may be less
        header.gso_type = VnetHeader::gso_tcpv4;
        header.gso_size = owned.segment_size();
        header.hdr_len = u16(owned.segmentation_headers());
    }
    iovec parts[2] = { { &header, sizeof header }, { owned.data(), owned.size() } };
    for (;;) {
        ssize_t n = ::writev(d.fd, parts, 2);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
            return failure(NetError::full);
        if (n < 0 && errno == EINVAL)
            return failure(NetError::too_big);
        if (n < 0)
            return failure(NetError::io);
        return {};
    }
}

FramePool& net_frame_pool(Handle h)
{
    VERIFY(g_devices[h].kind == Kind::tap && g_devices[h].pool);
    return *g_devices[h].pool;
}

FramePool* net_segmentation_pool(Handle h) { return g_devices[h].segmentation ? &net_frame_pool(h) : nullptr; }

// The tap's queue is the kernel's: a full one shows only as EAGAIN on the write itself.
usize net_transmit_room(Handle) { return ~usize(0); }

// ---- block: files --------------------------------------------------------------------------

ErrorOr<BlockInfo, BlockError> block_acquire(std::string_view name)
{
    if (refuse_after_seal(name) || already_acquired(name))
        return failure(BlockError::unavailable);
    std::string_view binding = binding_of(name, false);
    if (binding.substr(0, 5) != "file:" || binding.size() <= 5) {
        log::error(g_log, "block device '{}' is bound to nothing: pass --dev={}=file:PATH", name, name);
        return failure(BlockError::not_bound);
    }
    std::string path(binding.substr(5));
    bool read_only = false;
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0 && (errno == EACCES || errno == EROFS)) {
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        read_only = true;
    }
    if (fd < 0) {
        log::error(g_log, "block device '{}': cannot open {}: {}", name, path, std::strerror(errno));
        return failure(BlockError::unavailable);
    }
    struct stat st;
    if (::fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        log::error(g_log, "block device '{}': {} is not a regular file", name, path);
        ::close(fd);
        return failure(BlockError::unavailable);
    }
    auto handle = allocate_handle(Kind::file, fd);
    if (!handle) {
        ::close(fd);
        return failure(BlockError::unavailable);
    }
    Device& d = g_devices[*handle];
    d.sector_size = 512;
    d.sectors = u64(st.st_size) / 512;
    d.read_only = read_only;
    d.name = std::string(name);
    return BlockInfo { *handle, d.sector_size, d.sectors, read_only };
}

static ErrorOr<void, BlockError> check_block(const Device& d, u64 sector, usize bytes)
{
    VERIFY(d.kind == Kind::file, "block I/O on a handle that is not a block device");
    if (bytes % d.sector_size != 0)
        return failure(BlockError::unaligned);
    u64 count = bytes / d.sector_size;
    if (sector > d.sectors || count > d.sectors - sector)
        return failure(BlockError::out_of_range);
    return {};
}

ErrorOr<void, BlockError> block_read(Handle h, u64 sector, std::span<std::byte> buffer)
{
    Device& d = g_devices[h];
    TRY(check_block(d, sector, buffer.size()));
    usize done = 0;
    while (done < buffer.size()) {
        ssize_t n = ::pread(d.fd, buffer.data() + done, buffer.size() - done, off_t(sector * d.sector_size + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return failure(BlockError::io);
        done += usize(n);
    }
    return {};
}

ErrorOr<void, BlockError> block_write(Handle h, u64 sector, std::span<const std::byte> buffer)
{
    Device& d = g_devices[h];
    TRY(check_block(d, sector, buffer.size()));
    if (d.read_only)
        return failure(BlockError::read_only);
    usize done = 0;
    while (done < buffer.size()) {
        ssize_t n = ::pwrite(d.fd, buffer.data() + done, buffer.size() - done, off_t(sector * d.sector_size + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return failure(BlockError::io);
        done += usize(n);
    }
    // "On return the data has reached the device": for a file, the kernel's page cache.
    // Durability against host crashes is block_flush's.
    return {};
}

ErrorOr<void, BlockError> block_flush(Handle h)
{
    Device& d = g_devices[h];
    VERIFY(d.kind == Kind::file, "block I/O on a handle that is not a block device");
    if (d.read_only)
        return {};
    while (::fdatasync(d.fd) < 0) {
        if (errno != EINTR)
            return failure(BlockError::io);
    }
    return {};
}

// ---- watched descriptors (socket stack) ----------------------------------------------------

ErrorOr<Handle, Errc> hosted::watch_fd(int fd, bool writable)
{
    Handle h = TRY(allocate_handle(Kind::fd, fd));
    g_devices[h].writable = writable;
    return h;
}

std::string_view hosted::binding_of(std::string_view name)
{
    return platform::binding_of(name, false);
}

void hosted::unwatch_fd(Handle h)
{
    VERIFY(g_devices[h].kind == Kind::fd);
    g_devices[h] = Device {};
}

// ---- arguments and exit --------------------------------------------------------------------

std::span<const std::string_view> boot_arguments() { return g_args; }
std::string_view image_name() { return g_image_name; }

void seal()
{
    g_sealed = true;
    int taps[max_handles], files[max_handles];
    usize tap_count = 0, file_count = 0;
    for (const Device& d : g_devices) {
        if (d.kind == Kind::tap)
            taps[tap_count++] = d.fd;
        else if (d.kind == Kind::file)
            files[file_count++] = d.fd;
    }
    g_process_sealed = hosted::seal_process({ { taps, tap_count }, { files, file_count }, g_socket_net });
}

void exit(int status)
{
    std::_Exit(status & 0xff);
}

// A panic goes to stderr, not the console: stdout may be a pipe that a consumer parses.
void hosted::put_error(std::string_view text)
{
    while (!text.empty()) {
        ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
        if (n <= 0 && errno != EINTR)
            return;
        if (n > 0)
            text.remove_prefix(usize(n));
    }
}

// Names the frames of the image itself with addr2line (function, file and line, also for
// static and cold-split functions, which the dynamic symbol table does not have); frames in
// shared libraries get what glibc's backtrace_symbols knows. Falls back to raw addresses when
// addr2line cannot be run. A sealed sandbox cannot run it: there, the dynamic symbols only.
static void print_backtrace()
{
    void* frames[64];
    int n = ::backtrace(frames, 64);
    if (g_process_sealed) { // no addr2line in a sandbox: what the dynamic symbols say
        ::backtrace_symbols_fd(frames + 1, n - 1, STDERR_FILENO);
        return;
    }
    Dl_info self {};
    ::dladdr(reinterpret_cast<void*>(&print_backtrace), &self);
    char exe[512];
    ssize_t exe_len = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    for (int i = 1; i < n; ++i) { // frame 0 is this function
        Dl_info info {};
        bool ours = ::dladdr(frames[i], &info) && info.dli_fbase == self.dli_fbase && exe_len > 0;
        if (!ours) {
            ::backtrace_symbols_fd(&frames[i], 1, STDERR_FILENO);
            continue;
        }
        exe[exe_len] = 0;
        // The return address is after the call: step back into it for the right line.
        u64 offset = u64(reinterpret_cast<uintptr_t>(frames[i]) - reinterpret_cast<uintptr_t>(self.dli_fbase) - 1);
        char address[32];
        InlineFormatBuffer<32> text;
        format_to(text, "0x{:x}", offset);
        std::memcpy(address, text.view().data(), text.size());
        address[text.size()] = 0;
        hosted::put_error("  ");
        pid_t child = ::fork();
        if (child == 0) {
            ::dup2(STDERR_FILENO, STDOUT_FILENO);
            ::execlp("addr2line", "addr2line", "-f", "-C", "-p", "-e", exe, address, static_cast<char*>(nullptr));
            ::_exit(127);
        }
        int status = 0;
        if (child < 0 || ::waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            ::backtrace_symbols_fd(&frames[i], 1, STDERR_FILENO);
    }
}

void abort(std::string_view message)
{
    hosted::put_error(message);
    hosted::put_error("\nbacktrace:\n");
    print_backtrace();
    ::signal(SIGABRT, SIG_DFL);
    std::abort();
}

void hosted::init(int argc, char** argv)
{
    g_clock_origin = read_clock(CLOCK_MONOTONIC);
    if (argc > 0 && argv[0]) {
        std::string_view path = argv[0];
        usize slash = path.rfind('/');
        g_image_name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    }
    g_args.clear();
    for (int i = 1; i < argc; ++i)
        g_args.emplace_back(argv[i]);
    // A peer that goes away must not kill the image.
    ::signal(SIGPIPE, SIG_IGN);
}

} // namespace sarab::platform
