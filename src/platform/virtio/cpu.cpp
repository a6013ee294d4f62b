// Descriptor tables and CPU exceptions.
//
// cpu_init installs the final GDT (code, data, TSS), a TSS whose IST slots point at the stacks
// of entry.S, and an IDT in which every gate uses an IST stack (layout.hpp says which). The
// tables sit in one page-aligned block that memory_seal makes read-only.
//
// A CPU exception is fatal: sarab_exception prints what happened (vector, error code, the
// faulting address and what lies there, registers, a backtrace) and exits with
// status_exception. A fault while reporting a fault exits at once.
#include "virtio.hpp"

#include <array>

#include <sarab/base/format.hpp>
#include <sarab/platform/platform.hpp>

#include <cstring>

namespace sarab::platform::virtio {

namespace {

struct [[gnu::packed]] Tss {
    u32 reserved0;
    u64 rsp[3];
    u64 reserved1;
    u64 ist[7];
    u64 reserved2;
    u16 reserved3;
    u16 io_map_base;
};
static_assert(sizeof(Tss) == 104);

struct IdtGate {
    u16 offset_low;
    u16 selector;
    u8 ist;
    u8 type; // 0x8e: present, ring 0, 64-bit interrupt gate (interrupts stay off)
    u16 offset_mid;
    u32 offset_high;
    u32 reserved;
};
static_assert(sizeof(IdtGate) == 16);

// Everything the CPU reads through GDTR, IDTR and TR, in pages of its own, which memory_seal
// makes read-only (image.ld gathers the sealed data).
struct alignas(SARAB_PAGE_SIZE) DescriptorTables {
    IdtGate idt[256];
    u64 gdt[6];
    Tss tss;
};
[[gnu::section(".bss.sealed.descriptor_tables")]] DescriptorTables g_tables;

struct [[gnu::packed]] TablePointer {
    u16 limit;
    u64 base;
};

bool g_reporting = false;

// What %fs points at: the x86_64 thread control block, as far as compiled code reads it. Code
// built with a stack protector (musl's math functions) reads its canary at %fs:0x28; a
// self-pointer at %fs:0 is the ABI's.
struct alignas(64) ThreadBlock {
    u64 self;
    u64 reserved[4];
    u64 stack_guard; // 0x28
};
static_assert(__builtin_offsetof(ThreadBlock, stack_guard) == 0x28);
ThreadBlock g_thread_block;
constexpr u32 msr_fs_base = 0xc0000100;

} // namespace

} // namespace sarab::platform::virtio

extern "C" const sarab::u64 sarab_exception_stubs[32];
extern "C" char sarab_stub_timer[], sarab_stub_spurious[], sarab_stub_device[];

namespace sarab::platform::virtio {

namespace {

[[gnu::always_inline]] inline void set_gate(u8 vector, const void* handler, u8 ist)
{
    u64 address = u64(handler);
    g_tables.idt[vector] = IdtGate { u16(address), SARAB_SEL_CODE64, ist, 0x8e, u16(address >> 16), u32(address >> 32), 0 };
}

u64 ist_top(int ist)
{
    // IST i (1-based) is the i-th stack above sarab_ist_guards, each a guard page and a stack.
    return u64(sarab_ist_guards) + u64(ist) * (SARAB_PAGE_SIZE + SARAB_IST_STACK_SIZE);
}

} // namespace

void cpu_init()
{
    // Accessed bits preset (type 0xb, 0x3) so that the CPU never writes to the sealed GDT.
    g_tables.gdt[0] = 0;
    g_tables.gdt[1] = 0x00af9b000000ffff; // 64-bit code
    g_tables.gdt[2] = 0x00cf93000000ffff; // data
    g_tables.gdt[3] = 0x00cf9b000000ffff; // 32-bit code (unused after boot)
    u64 tss = u64(&g_tables.tss);
    u64 limit = sizeof(Tss) - 1;
    g_tables.gdt[4] = (limit & 0xffff) | ((tss & 0xffffff) << 16) | (u64(0x89) << 40) | (((limit >> 16) & 0xf) << 48) | (((tss >> 24) & 0xff) << 56);
    g_tables.gdt[5] = tss >> 32;

    for (int i = 1; i <= SARAB_IST_COUNT; ++i)
        g_tables.tss.ist[i - 1] = ist_top(i);
    g_tables.tss.io_map_base = sizeof(Tss); // no I/O permission bitmap

    // Each exception's IST, from a table: a loop without branches is translated once.
    static constexpr auto exception_ist = [] {
        std::array<u8, 32> ist {};
        for (auto& i : ist)
            i = SARAB_IST_DEFAULT;
        ist[14] = SARAB_IST_PAGE_FAULT;
        ist[8] = SARAB_IST_DOUBLE_FAULT;
        ist[2] = ist[18] = SARAB_IST_NMI;
        return ist;
    }();
    for (u8 v = 0; v < 32; ++v)
        set_gate(v, reinterpret_cast<const void*>(sarab_exception_stubs[v]), exception_ist[v]);
    set_gate(SARAB_VECTOR_TIMER, sarab_stub_timer, SARAB_IST_DEFAULT);
    set_gate(SARAB_VECTOR_DEVICE, sarab_stub_device, SARAB_IST_DEFAULT);
    set_gate(SARAB_VECTOR_APIC_SPURIOUS, sarab_stub_spurious, SARAB_IST_DEFAULT);

    g_thread_block.self = u64(&g_thread_block);
    // Not a secret worth much without a random source, but never the same twice; a zero low
    // byte stops string overflows from copying it.
    g_thread_block.stack_guard = (rdtsc() * 0x9e3779b97f4a7c15) & ~u64(0xff);
    wrmsr(msr_fs_base, u64(&g_thread_block));

    TablePointer gdtr { sizeof g_tables.gdt - 1, u64(g_tables.gdt) };
    TablePointer idtr { sizeof g_tables.idt - 1, u64(g_tables.idt) };
    asm volatile("lgdt %0" : : "m"(gdtr));
    asm volatile("lidt %0" : : "m"(idtr));
    asm volatile("ltr %w0" : : "r"(u16(SARAB_SEL_TSS)));
}

// ---- reports -------------------------------------------------------------------------------

namespace {

void put(std::string_view text) { serial_write(text); }

template<class... Args>
void putf(FormatString<Args...> fmt, const Args&... args)
{
    InlineFormatBuffer<256> line;
    format_to<Args...>(line, fmt, args...);
    put(line.view());
}

const char* exception_name(u64 vector)
{
    static const char* const names[32] = {
        "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
        "#BR bound range exceeded", "#UD invalid opcode", "#NM device not available",
        "#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
        "#NP segment not present", "#SS stack-segment fault", "#GP general protection fault",
        "#PF page fault", "reserved", "#MF x87 floating-point error", "#AC alignment check",
        "#MC machine check", "#XM SIMD floating-point error", "#VE virtualization exception",
        "#CP control protection", "reserved", "reserved", "reserved", "reserved", "reserved",
        "reserved", "#HV hypervisor injection", "#VC VMM communication", "#SX security exception",
        "reserved",
    };
    return vector < 32 ? names[vector] : "interrupt";
}

// What a faulting address is, in words.
void describe_address(u64 address, FormatBuffer& out)
{
    const char* which = nullptr;
    if (is_guard_page(address, &which))
        format_to(out, "the guard page below the {}", which);
    else if (address < SARAB_PAGE_SIZE)
        out.append("the null page");
    else if (address >= u64(__text_start) && address < u64(__text_end))
        out.append("the image's text (read+execute only)");
    else if (address >= u64(__sealed_start) && address < u64(__sealed_end))
        out.append("the page tables or descriptor tables (sealed: read-only)");
    else if (address >= u64(__rodata_start) && address < u64(__rodata_end))
        out.append("the image's read-only data");
    else if (address >= u64(__data_start) && address < u64(__bss_end))
        out.append("the image's data or bss (no execute)");
    else if (is_heap(address))
        out.append("the heap (no execute)");
    else
        out.append("memory outside the image and the heap");
}

} // namespace

void print_backtrace(u64 rbp, u64 rip, u64 caller)
{
    put("backtrace:\n");
    int n = 0;
    if (rip)
        putf("  #{} {}\n", n++, reinterpret_cast<const void*>(rip));
    if (caller)
        putf("  #{} {}\n", n++, reinterpret_cast<const void*>(caller));
    // Follow saved frame pointers while they stay on a stack of the image and go upwards.
    // A run of frames with the same return address (recursion) is printed once, with a count.
    u64 repeated = 0, last = 0;
    for (int frames = 0; frames < 20000 && rbp && (rbp & 7) == 0 && in_stack(rbp) && in_stack(rbp + 15); ++frames) {
        u64 next = reinterpret_cast<const u64*>(rbp)[0];
        u64 ret = reinterpret_cast<const u64*>(rbp)[1];
        if (ret == 0)
            break;
        if (ret == last) {
            ++repeated;
        } else {
            if (repeated)
                putf("  ... the frame above {} more times\n", repeated);
            repeated = 0;
            if (n == 64) {
                put("  ... (more frames)\n");
                return;
            }
            putf("  #{} {}\n", n++, reinterpret_cast<const void*>(ret));
            last = ret;
        }
        if (next <= rbp)
            break;
        rbp = next;
    }
    if (repeated)
        putf("  ... the frame above {} more times\n", repeated);
}

} // namespace sarab::platform::virtio

using namespace sarab;
using namespace sarab::platform::virtio;

// Saved by entry.S, lowest address first.
struct ExceptionFrame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, error;
    u64 rip, cs, rflags, rsp, ss;
};

extern "C" [[noreturn]] void sarab_exception(ExceptionFrame* f)
{
    if (g_reporting) {
        put("\nsarab: another CPU exception while reporting one: giving up\n");
        exit_with(status_exception);
    }
    g_reporting = true;
    u64 cr2 = read_cr2();
    put("\n");
    const char* which = nullptr;
    if (f->vector == 14 && is_guard_page(cr2, &which)) {
        putf("sarab: stack overflow: the {} ran into its guard page at {} (rip {})\n", which, reinterpret_cast<const void*>(cr2), reinterpret_cast<const void*>(f->rip));
    }
    putf("sarab: CPU exception {} ({}), error code 0x{:x}, at rip {}\n", f->vector, exception_name(f->vector), f->error, reinterpret_cast<const void*>(f->rip));
    if (f->vector == 14) {
        InlineFormatBuffer<128> what;
        describe_address(cr2, what);
        const char* access = (f->error & 0x10) ? "execute" : (f->error & 0x2) ? "write" : "read";
        const char* cause = (f->error & 0x1) ? "not permitted" : "not mapped";
        putf("  page fault: {} of {} ({}: {})\n", access, reinterpret_cast<const void*>(cr2), what.view(), cause);
    }
    putf("  cr2 {} cr3 {} rflags 0x{:x} cs 0x{:x} ss 0x{:x}\n", reinterpret_cast<const void*>(cr2), reinterpret_cast<const void*>(read_cr3()), f->rflags, f->cs, f->ss);
    putf("  rax {:016x} rbx {:016x} rcx {:016x} rdx {:016x}\n", f->rax, f->rbx, f->rcx, f->rdx);
    putf("  rsi {:016x} rdi {:016x} rbp {:016x} rsp {:016x}\n", f->rsi, f->rdi, f->rbp, f->rsp);
    putf("  r8  {:016x} r9  {:016x} r10 {:016x} r11 {:016x}\n", f->r8, f->r9, f->r10, f->r11);
    putf("  r12 {:016x} r13 {:016x} r14 {:016x} r15 {:016x}\n", f->r12, f->r13, f->r14, f->r15);
    // A call or jump to a page that may not execute faults before the callee saved a frame
    // pointer: its caller is the return address on top of the stack.
    u64 caller = 0;
    if (f->vector == 14 && (f->error & 0x10) && !in_text(f->rip) && in_stack(f->rsp) && in_text(*reinterpret_cast<const u64*>(f->rsp)))
        caller = *reinterpret_cast<const u64*>(f->rsp);
    print_backtrace(f->rbp, f->rip, caller);
    exit_with(status_exception);
}
