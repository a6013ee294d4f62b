# A gdb command for the virtio boot tests: `check-page-tables LABEL` walks the x86-64 page
# tables that CR3 points at in the stopped image (physical = virtual, so gdb reads them at
# their addresses) and prints one line:
#
#     page tables LABEL: N leaves, W writable, X executable, WX writable and executable, null page mapped|not mapped, text writable: T
#
# followed by a line for each page that is both writable and executable. A page's rights are
# those of its whole path: writable only if every level allows writing, executable only if
# no level sets NX (when EFER.NXE is on; with it off, every page is executable).
import gdb

PRESENT, WRITABLE, LARGE = 1, 2, 0x80
NX = 1 << 63
ADDRESS = 0x000FFFFFFFFFF000


def entries(table):
    data = bytes(gdb.selected_inferior().read_memory(table, 4096))
    return [int.from_bytes(data[i:i + 8], "little") for i in range(0, 4096, 8)]


class CheckPageTables(gdb.Command):
    def __init__(self):
        super().__init__("check-page-tables", gdb.COMMAND_USER)

    def invoke(self, argument, from_tty):
        cr3 = int(gdb.parse_and_eval("$cr3")) & ADDRESS
        nxe = bool(int(gdb.parse_and_eval("$efer")) & (1 << 11))
        text = (int(gdb.parse_and_eval("(long)&__text_start")), int(gdb.parse_and_eval("(long)&__text_end")))
        leaves = writable = executable = 0
        both, text_writable, null_mapped = [], 0, False

        def leaf(address, size, write, no_execute):
            nonlocal leaves, writable, executable, text_writable, null_mapped
            leaves += 1
            execute = not (nxe and no_execute)
            writable += write
            executable += execute
            if write and execute:
                both.append((address, size))
            if write and address < text[1] and address + size > text[0]:
                text_writable += 1
            if address == 0:
                null_mapped = True

        def walk(table, level, base, write, no_execute):
            shift = 12 + 9 * level
            for index, entry in enumerate(entries(table)):
                if not entry & PRESENT:
                    continue
                address = base + (index << shift)
                if level == 3 and index >= 256:
                    address -= 1 << 48  # canonical upper half
                w = write and bool(entry & WRITABLE)
                nx = no_execute or bool(entry & NX)
                if level == 0 or (level in (1, 2) and entry & LARGE):
                    leaf(address, 1 << shift, w, nx)
                else:
                    walk(entry & ADDRESS, level - 1, address, w, nx)

        walk(cr3, 3, 0, True, False)
        print(f"page tables {argument}: {leaves} leaves, {writable} writable, {executable} executable, "
              f"{len(both)} writable and executable, null page {'mapped' if null_mapped else 'not mapped'}, "
              f"text writable: {text_writable}")
        for address, size in both:
            print(f"  writable and executable: 0x{address:x} ({size // 1024} KiB)")


CheckPageTables()
