// The simulated platform, for tests: virtual time, in-memory wires and disks.
//
// Time stands still while tasks run and jumps straight to the next deadline (or the next
// frame arrival) when every task waits, so a test of a 60-second timeout takes
// microseconds and gives the same result every time. NICs of any number of stacks in one
// process are joined by wires; each direction of a wire can drop, delay, duplicate, reorder
// or corrupt frames, from a seeded generator or a hook of the test's own. Every event is
// written to a trace, so a test can check that two runs were identical; delivered frames can
// also be written to a pcap file for Wireshark.
#pragma once

#include <sarab/base/time.hpp>
#include <sarab/platform/platform.hpp>

#include <functional>
#include <string>
#include <vector>

namespace sarab::platform::sim {

// What happens to one frame on one direction of a wire.
struct FaultAction {
    bool drop = false;
    u32 copies = 1;          // 2 duplicates the frame
    Duration extra_delay {}; // on top of the link latency (reordering)
    bool corrupt = false;    // flip one bit
};

// Decides the fate of a frame; runs after the random faults below have been drawn into
// `action`, and may change it.
using FaultHook = std::function<void(std::span<const std::byte> frame, Instant now, FaultAction& action)>;

struct LinkConfig {
    Duration latency = std::chrono::microseconds(10);
    u64 rate_bps = 0;        // 0: infinitely fast; else frames queue behind each other
    double loss = 0;         // probabilities, 0..1
    double duplicate = 0;
    double reorder = 0;      // a reordered frame is held back by reorder_delay
    Duration reorder_delay = std::chrono::milliseconds(1);
    double corrupt = 0;
    bool up = true;          // false: every frame is lost (an outage)
    // 0: the NIC takes every frame. Else its transmit ring: at most this many frames given to
    // net_transmit and not yet serialised onto the wire (rate_bps), as net_transmit_room says;
    // one more is refused (NetError::full). A TSO frame takes one place.
    u32 ring_frames = 0;
    FaultHook hook;
};

// Forgets every device, wire, console output and trace; the clock goes back to zero.
void reset(u64 seed = 1);

void set_boot_arguments(std::vector<std::string> words);
void set_image_name(std::string name);

// What a NIC's device does for the stack, as virtio-net's offloads do (platform/frame.hpp):
// complete the TCP and UDP checksums of what is sent (NEEDS_CSUM), and cut TCP segments of up
// to 64 KiB into segments of the size the frame asks for (TSO), each with its own IPv4 length,
// identification and checksum, sequence number and TCP checksum, FIN and PSH on the last only.
// Each segment then meets the link's faults on its own.
struct NicOffloads {
    bool checksums = false;
    bool segmentation = false;   // implies checksums
    usize segmentation_frames = 8; // in net_segmentation_pool
};

// A NIC that net_acquire(name) will open.
void add_nic(std::string name, MacAddress mac, u16 mtu = 1500, NicOffloads offloads = {});
// Joins two NICs; frames sent by `a` arrive at `b` under `a_to_b`, and the other way round.
void connect(const std::string& a, const std::string& b, LinkConfig a_to_b = {}, LinkConfig b_to_a = {});
// The configuration of the direction from `from` (change it at any time, e.g. for an outage).
LinkConfig& link(const std::string& from);

// A disk that block_acquire(name) will open, filled with zeroes.
void add_disk(std::string name, u64 sectors, u32 sector_size = 512, bool read_only = false);
// Its bytes, for a test to look at or change (a change there is kept at a crash unless the
// sector was also written since the last flush).
std::span<std::byte> disk_contents(const std::string& name);
// The machine under the disk loses power: every sector written since the last block_flush
// keeps what was written, with probability `survival`, or goes back to what it held at that
// flush, each on its own (the world's seed decides), as a disk with a volatile write cache
// may do. What was flushed stays.
void crash_disk(const std::string& name, double survival = 0.5);
u64 disk_flushes(const std::string& name);

// Everything written to the console since reset; echoed to stdout too when `echo` is set.
const std::string& console_output();
void set_console_echo(bool echo);

// The virtual clock.
Instant now();

struct Counters {
    u64 transmitted = 0;
    u64 delivered = 0;
    u64 dropped = 0;
    u64 duplicated = 0;
    u64 corrupted = 0;
    u64 too_big = 0;
    u64 refused = 0; // net_transmit said full: the ring (LinkConfig::ring_frames) had no room
};
Counters counters();

// The trace of every event since reset, one line each, and a hash of it.
const std::vector<std::string>& trace();
u64 trace_hash();
// Whether trace() keeps the lines (the hash is kept either way); off for long runs.
void keep_trace(bool keep);

// Writes every frame delivered from now on (with its virtual time) to a pcap file, each cut
// to its first `snap_length` bytes (96 keeps every header of a TCP/IP frame, not the data).
bool start_pcap(const std::string& path, u32 snap_length = 65535);
void stop_pcap();

} // namespace sarab::platform::sim
