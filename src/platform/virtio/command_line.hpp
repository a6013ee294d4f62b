// The kernel command line of a virtio image: which words are the application's boot
// arguments and which are the hypervisor's.
//
// VMMs that boot Linux put Linux's words on the command line: Firecracker announces its
// virtio-mmio devices as `virtio_mmio.device=SIZE@BASE:IRQ[:ID]` (SIZE with an optional K, M
// or G; BASE in hex with 0x, or decimal; IRQ the GSI of the device's line), and adds words such
// as `console=ttyS0 reboot=k panic=1 pci=off`. Contract:
// - classify_word says what a word is: a virtio-mmio device (used), another word of Linux's
//   (ignored: the names of kernel_word_names, bare or with `=value`, and every `module.param`
//   word, whose name has a dot before any `=`), the separator `--` (dropped: every word after
//   it is the application's, whatever it looks like), or the application's. Sarab's own boot
//   arguments start with `--`, so no word of the application is taken for Linux's.
// - parse_virtio_mmio_device reads the value of `virtio_mmio.device=`; none when it is not
//   well formed (a zero size, a missing `@` or `:`, trailing text, a number out of range).
// Pure functions, with no state: tests/platform/virtio/command_line_test.cpp runs them on the
// host.
#pragma once

#include <sarab/base/types.hpp>

#include <optional>
#include <string_view>

namespace sarab::platform::virtio {

struct MmioDeviceWord {
    u64 base = 0;
    u64 size = 0;
    u32 irq = 0;
};

enum class WordKind : u8 {
    application,  // a boot argument of the application (or anything unknown: its parser decides)
    virtio_mmio,  // virtio_mmio.device=...: a device to probe
    linux_word,   // another word of Linux's: ignored
    separator,    // `--`: dropped; the words after it are the application's
};

WordKind classify_word(std::string_view word);
std::optional<MmioDeviceWord> parse_virtio_mmio_device(std::string_view value);

// The prefix of the words that name a device; classify_word's virtio_mmio words start with it.
inline constexpr std::string_view virtio_mmio_prefix = "virtio_mmio.device=";

} // namespace sarab::platform::virtio
