// The fixed layout of the virtio image, shared by entry.S and the C++ of the platform: where
// the image is loaded, the sizes of its stacks, and the selectors and vectors the boot code and
// the interrupt code must agree on. Only constants, so that the assembler can include it.
#pragma once

// Physical = virtual: the image is linked and run at 1 MiB, identity-mapped.
#define SARAB_IMAGE_BASE 0x100000

#define SARAB_PAGE_SIZE 4096
// The application's stack. A guard page (never mapped) sits below each stack.
#define SARAB_MAIN_STACK_SIZE (128 * 1024)
// Interrupt stacks (IST): one for ordinary exceptions and interrupts, and one each for the
// exceptions that may strike while that one is in use, so that no handler overwrites the
// frame of another.
#define SARAB_IST_STACK_SIZE (16 * 1024)
#define SARAB_IST_COUNT 4
#define SARAB_IST_DEFAULT 1 // exceptions, interrupts
#define SARAB_IST_PAGE_FAULT 2 // #PF, so that a stack overflow is reported on a fresh stack
#define SARAB_IST_DOUBLE_FAULT 3 // #DF
#define SARAB_IST_NMI 4 // NMI and #MC

// GDT selectors.
#define SARAB_SEL_CODE64 0x08
#define SARAB_SEL_DATA 0x10
#define SARAB_SEL_CODE32 0x18
#define SARAB_SEL_TSS 0x20

// Interrupt vectors beyond the CPU's exceptions (0-31). The legacy PICs are masked and their
// output (LINT0) too, so nothing arrives from them (time.cpp).
#define SARAB_VECTOR_TIMER 0x40
#define SARAB_VECTOR_DEVICE 0x41 // MSI-X of virtio-pci devices: "some device has news"
#define SARAB_VECTOR_APIC_SPURIOUS 0xff

// The local APIC's registers, at its default physical address.
#define SARAB_LAPIC_BASE 0xfee00000
#define SARAB_LAPIC_EOI 0xb0
// The first I/O APIC, and microvm's virtio-mmio window (four pages), mapped at entry.
#define SARAB_IOAPIC_BASE 0xfec00000
#define SARAB_MMIO_WINDOW 0xfeb00000
#define SARAB_MMIO_WINDOW_PAGES 4

// The page tables: a pool of SARAB_PT_POOL_SIZE tables in bss (memory.cpp,
// sarab_page_tables), whose first tables entry.S fills before it turns paging on, so that W^X
// holds from the first instruction in long mode. Their places in the pool:
#define SARAB_PT_PML4 0
#define SARAB_PT_PDPT 1
#define SARAB_PT_PD 2 // the first GiB: the image's tables, then free RAM in 2 MiB pages
#define SARAB_PT_PD_DEVICES 3 // 3-4 GiB: the LAPIC, I/O APIC and virtio-mmio pages
#define SARAB_PT_LAPIC 4
#define SARAB_PT_IOAPIC 5
#define SARAB_PT_MMIO 6
#define SARAB_PT_IMAGE 7 // the 4 KiB pages of [0, the image's end rounded up to 2 MiB), one
                         // table each 2 MiB (image.ld: __image_tables), then the pool's rest
#define SARAB_PT_POOL_SIZE 32
