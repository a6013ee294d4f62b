/* The virtio image's entry and its interrupt entry points.
 *
 * A PVH loader (QEMU -kernel, Firecracker, Cloud Hypervisor) enters sarab_pvh_entry in 32-bit
 * protected mode, paging off, interrupts off, with %ebx holding the physical address of the
 * hvm_start_info structure. This code writes the image's W^X page tables (memory.cpp tells the
 * whole layout; memory_init adds free RAM), enables SSE and long mode, and calls
 * sarab_virtio_start(start_info) on the main stack. It never returns.
 *
 * Interrupt stubs save the general registers and hand a frame to C++ (exceptions), or do all
 * their work here (timer, spurious), so that no interrupt ever touches SSE registers that an
 * interrupted function may be using. Every IDT entry uses an IST stack: the CPU switches stack
 * before pushing anything, so the red zone below an interrupted rsp is never overwritten. */
#include "layout.hpp"

/* ---- the PVH note: XEN_ELFNOTE_PHYS32_ENTRY (18), the 32-bit physical entry address. QEMU
   7.2 reads the descriptor as 8 bytes, so it is a .quad. */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                     /* name size: "Xen\0" */
    .long 8                     /* descriptor size */
    .long 18                    /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .quad sarab_pvh_entry
    .balign 4

/* ---- 32-bit entry ------------------------------------------------------------------------ */
    .section .text.boot, "ax"
    .code32
    .globl sarab_pvh_entry
    .type sarab_pvh_entry, @function
sarab_pvh_entry:
    cli
    cld
    mov %ebx, %esi                      /* start info: kept in esi until the call */
    /* The time of entry, for the start-up figures (docs/performance.md). It lives in .data,
       which is not cleared below. */
    rdtsc
    mov %eax, sarab_entry_tsc
    mov %edx, sarab_entry_tsc + 4

    /* bss is not cleared here: the loader gives it zero, as the ELF rules ask of it for the
       part of a segment beyond its file contents (image.ld). */

    /* NX: %edi is the high half of a no-execute entry, bit 63, when the CPU has it (CPUID
       0x80000001 EDX[20]); without NX the bit is reserved and stays clear. */
    mov $0x80000001, %eax
    cpuid
    mov %edx, %edi
    shr $20, %edi
    and $1, %edi
    shl $31, %edi

    /* The final page tables, from the pool's first tables (layout.hpp), all clear at entry, so
       that W^X holds from the first instruction in long mode; memory_init adds free RAM. The
       image's 4 KiB pages: below the image (start info, firmware tables) and rodata are
       read-only; text is read + execute; data, bss, the stacks and
       the heap up to the next 2 MiB are read + write. Only text is executable, and it is
       read-only. Each page's rights come from comparisons, without a branch a page. The
       null page is read-only too until memory_init unmaps it: the start info's memory map may
       lie in it (QEMU's PVH option ROM on q35 and pc puts it at 0x5a8). */
#define PT(n) (sarab_page_tables + (n) * SARAB_PAGE_SIZE)
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $12, %eax                       /* the page's address */
    cmp $__rodata_end, %eax             /* CF: below the end of rodata, so read-only */
    sbb %edx, %edx
    not %edx
    and $2, %edx                        /* writable */
    lea 1(%eax,%edx), %edx              /* | present */
    mov %edx, PT(SARAB_PT_IMAGE)(,%ecx,8)
    sub $__text_start, %eax
    cmp $__text_size, %eax              /* CF: in text, so executable */
    sbb %edx, %edx
    not %edx
    and %edi, %edx                      /* no execute */
    mov %edx, PT(SARAB_PT_IMAGE) + 4(,%ecx,8)
    inc %ecx
    cmp $__image_pages, %ecx
    jb 1b
    /* The guard page below each stack is not mapped (a page's entry is at its address / 512
       in the tables, which cover the image from address 0). */
    mov $sarab_stack_main_guard, %eax
    shr $9, %eax
    movl $0, PT(SARAB_PT_IMAGE)(%eax)
    mov $sarab_ist_guards, %eax
    .rept SARAB_IST_COUNT
    mov %eax, %edx
    shr $9, %edx
    movl $0, PT(SARAB_PT_IMAGE)(%edx)
    add $(SARAB_PAGE_SIZE + SARAB_IST_STACK_SIZE), %eax
    .endr
    /* The image's tables in the first GiB's directory. */
    xor %ecx, %ecx
    mov $PT(SARAB_PT_IMAGE) + 3, %eax   /* present, writable: the leaf decides */
2:  mov %eax, PT(SARAB_PT_PD)(,%ecx,8)
    add $SARAB_PAGE_SIZE, %eax
    inc %ecx
    cmp $__image_tables, %ecx
    jb 2b
    /* The upper tables, and the devices, each in a 2 MiB page of its own: present, writable,
       write-through, uncached (0x1b), no execute. */
#define PT_ENTRY(table, address, level) (PT(table) + (((address) >> (12 + 9 * (level))) & 511) * 8)
    movl $PT(SARAB_PT_PDPT) + 3, PT(SARAB_PT_PML4)
    movl $PT(SARAB_PT_PD) + 3, PT(SARAB_PT_PDPT)
    movl $PT(SARAB_PT_PD_DEVICES) + 3, PT_ENTRY(SARAB_PT_PDPT, SARAB_LAPIC_BASE, 2)
    movl $PT(SARAB_PT_LAPIC) + 3, PT_ENTRY(SARAB_PT_PD_DEVICES, SARAB_LAPIC_BASE, 1)
    movl $PT(SARAB_PT_IOAPIC) + 3, PT_ENTRY(SARAB_PT_PD_DEVICES, SARAB_IOAPIC_BASE, 1)
    movl $PT(SARAB_PT_MMIO) + 3, PT_ENTRY(SARAB_PT_PD_DEVICES, SARAB_MMIO_WINDOW, 1)
    movl $SARAB_LAPIC_BASE + 0x1b, PT_ENTRY(SARAB_PT_LAPIC, SARAB_LAPIC_BASE, 0)
    mov %edi, PT_ENTRY(SARAB_PT_LAPIC, SARAB_LAPIC_BASE, 0) + 4
    movl $SARAB_IOAPIC_BASE + 0x1b, PT_ENTRY(SARAB_PT_IOAPIC, SARAB_IOAPIC_BASE, 0)
    mov %edi, PT_ENTRY(SARAB_PT_IOAPIC, SARAB_IOAPIC_BASE, 0) + 4
    .set window_page, 0
    .rept SARAB_MMIO_WINDOW_PAGES
    movl $SARAB_MMIO_WINDOW + window_page * SARAB_PAGE_SIZE + 0x1b, PT_ENTRY(SARAB_PT_MMIO, SARAB_MMIO_WINDOW, 0) + window_page * 8
    mov %edi, PT_ENTRY(SARAB_PT_MMIO, SARAB_MMIO_WINDOW, 0) + window_page * 8 + 4
    .set window_page, window_page + 1
    .endr

    lgdt boot_gdt_pointer

    /* CR4: PAE, and OSFXSR | OSXMMEXCPT so that SSE instructions work. */
    mov %cr4, %eax
    or $((1 << 5) | (1 << 9) | (1 << 10)), %eax
    mov %eax, %cr4
    mov $PT(SARAB_PT_PML4), %eax
    mov %eax, %cr3

    /* EFER: long mode, and no-execute pages when the CPU has them (bit 31 of %edi to NXE,
       bit 11). */
    mov $0xc0000080, %ecx
    rdmsr
    or $(1 << 8), %eax
    mov %edi, %edx
    shr $(31 - 11), %edx
    or %edx, %eax
    wrmsr

    /* CR0: paging, write protection for the kernel too (WP), native FPU errors (NE), SSE
       without emulation (MP set, EM clear). */
    mov %cr0, %eax
    and $~(1 << 2), %eax
    or $((1 << 31) | (1 << 16) | (1 << 5) | (1 << 1) | 1), %eax
    mov %eax, %cr0
    ljmp $SARAB_SEL_CODE64, $long_mode

    .code64
long_mode:
    /* Only SS needs a selector of this GDT: an interrupt pushes it and iretq loads it again.
       Long mode ignores DS and ES; FS's base is set through its MSR (cpu_init), and
       nothing uses GS. Under TCG each segment load is a block of its own. */
    mov $SARAB_SEL_DATA, %eax
    mov %eax, %ss
    lea sarab_stack_main_top(%rip), %rsp
    xor %ebp, %ebp                      /* ends the frame-pointer chain */
    fninit
    mov %esi, %edi
    call sarab_virtio_start
    ud2
    .size sarab_pvh_entry, . - sarab_pvh_entry

/* ---- interrupt stubs ----------------------------------------------------------------------
   Exceptions: push a dummy error code where the CPU pushes none, then the vector, then the
   general registers; sarab_exception(frame) reports and ends the image. */
    .text
    .macro STUB_NOERR vector
    .balign 8
stub_\vector:
    pushq $0
    pushq $\vector
    jmp exception_common
    .endm
    .macro STUB_ERR vector
    .balign 8
stub_\vector:
    pushq $\vector
    jmp exception_common
    .endm

    STUB_NOERR 0
    STUB_NOERR 1
    STUB_NOERR 2
    STUB_NOERR 3
    STUB_NOERR 4
    STUB_NOERR 5
    STUB_NOERR 6
    STUB_NOERR 7
    STUB_ERR 8
    STUB_NOERR 9
    STUB_ERR 10
    STUB_ERR 11
    STUB_ERR 12
    STUB_ERR 13
    STUB_ERR 14
    STUB_NOERR 15
    STUB_NOERR 16
    STUB_ERR 17
    STUB_NOERR 18
    STUB_NOERR 19
    STUB_NOERR 20
    STUB_ERR 21
    STUB_NOERR 22
    STUB_NOERR 23
    STUB_NOERR 24
    STUB_NOERR 25
    STUB_NOERR 26
    STUB_NOERR 27
    STUB_NOERR 28
    STUB_ERR 29
    STUB_ERR 30
    STUB_NOERR 31

exception_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    cld
    xor %ebp, %ebp
    call sarab_exception                /* does not return */
    ud2

/* The LAPIC timer: note that it fired and acknowledge it. yield() finds out after hlt. */
    .globl sarab_stub_timer
sarab_stub_timer:
    push %rax
    movb $1, sarab_timer_fired(%rip)
    mov $(SARAB_LAPIC_BASE + SARAB_LAPIC_EOI), %eax
    movl $0, (%rax)
    pop %rax
    iretq

/* A device interrupt (MSI-X or an I/O APIC line): count it and acknowledge it; the waiting code
   looks at its queue. */
    .globl sarab_stub_device
sarab_stub_device:
    push %rax
    incl sarab_device_interrupts(%rip)
    mov $(SARAB_LAPIC_BASE + SARAB_LAPIC_EOI), %eax
    movl $0, (%rax)
    pop %rax
    iretq

/* Spurious interrupts are not acknowledged (neither the APIC's nor the PICs'). */
    .globl sarab_stub_spurious
sarab_stub_spurious:
    iretq

    .section .rodata
    .balign 8
    .globl sarab_exception_stubs
sarab_exception_stubs:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad stub_\v
    .endr

/* The GDT used to enter long mode; C++ installs the final one, with the TSS. Accessed bits are
   preset so that the CPU never writes to a descriptor. */
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9b000000ffff            /* 0x08: 64-bit code */
    .quad 0x00cf93000000ffff            /* 0x10: data */
    .quad 0x00cf9b000000ffff            /* 0x18: 32-bit code */
boot_gdt_end:
boot_gdt_pointer:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .data
    .balign 8
    .globl sarab_entry_tsc
sarab_entry_tsc:
    .quad 0

/* ---- stacks ------------------------------------------------------------------------------
   Each above a guard page that the entry leaves unmapped. They need no zeroes, so they are
   not in bss but in .noinit (image.ld). */
    .section .noinit.stacks, "aw", @nobits
    .balign 4096
    .globl sarab_stacks_start, sarab_stack_main_guard, sarab_stack_main_top
    .globl sarab_ist_guards, sarab_stacks_end
sarab_stacks_start:
sarab_stack_main_guard:
    .skip SARAB_PAGE_SIZE
    .skip SARAB_MAIN_STACK_SIZE
sarab_stack_main_top:
/* IST stacks: for i in 0..SARAB_IST_COUNT-1, a guard page, then the stack. */
sarab_ist_guards:
    .rept SARAB_IST_COUNT
    .skip SARAB_PAGE_SIZE
    .skip SARAB_IST_STACK_SIZE
    .endr
sarab_stacks_end:
