// The console: the first 16550 UART (COM1, I/O port 0x3f8), polled.
//
// Writes are synchronous: each byte waits until the transmit holding register is empty, as
// console_write's contract asks. The UART's interrupts stay off. A machine without a UART
// reads 0xff from its status register, which looks ready, so writes never hang.
#include "virtio.hpp"

namespace sarab::platform::virtio {

namespace {
constexpr u16 com1 = 0x3f8;
constexpr u16 reg_data = 0, reg_interrupts = 1, reg_fifo = 2, reg_line = 3, reg_modem = 4, reg_status = 5;
constexpr u8 status_transmit_empty = 0x20;
} // namespace

void serial_init()
{
    outb(com1 + reg_interrupts, 0x00);
    outb(com1 + reg_line, 0x80); // divisor latch
    outb(com1 + reg_data, 0x01); // 115200 baud
    outb(com1 + reg_interrupts, 0x00);
    outb(com1 + reg_line, 0x03); // 8 bits, no parity, 1 stop bit
    outb(com1 + reg_fifo, 0xc7); // FIFOs on and cleared
    outb(com1 + reg_modem, 0x03); // DTR, RTS; OUT2 clear: no interrupts reach the CPU
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
