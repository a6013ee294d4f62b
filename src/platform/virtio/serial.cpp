// The console: the first 16550 UART (COM1, I/O port 0x3f8), polled.
//
// Writes are synchronous: each byte waits until the transmit holding register is empty, as
// console_write's contract asks. The UART's interrupts stay off. A machine without a UART
// reads 0xff from its status register, which looks ready, so writes never hang.
#include "virtio.hpp"

namespace sarab::platform::virtio {

namespace {
constexpr u16 com1 = 0x3f8;
constexpr u16 reg_data = 0, reg_interrupts = 1, reg_line = 3, reg_status = 5;
constexpr u8 status_transmit_empty = 0x20;
} // namespace

void serial_init()
{
    // The 16550s of VMMs (QEMU's, Firecracker's and Cloud Hypervisor's) send what is written
    // to them at once, whatever the speed: only the line's format is set, which also clears
    // the divisor latch bit that firmware may have left set, and the interrupts stay off.
    // (Each write is an exit to the VMM.)
    outb(com1 + reg_line, 0x03); // 8 bits, no parity, 1 stop bit
    outb(com1 + reg_interrupts, 0x00);
}

void serial_write(std::string_view text)
{
    for (char c : text) {
        // Bounded, in case something else is wrong with the UART: lose the byte, not the image.
        for (u32 spins = 0; spins < 1'000'000 && !(inb(com1 + reg_status) & status_transmit_empty); ++spins)
            asm volatile("pause");
        outb(com1 + reg_data, u8(c));
    }
}

} // namespace sarab::platform::virtio
