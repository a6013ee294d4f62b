// The kernel command line's words: the application's, or Linux's (the contract is in
// command_line.hpp).
#include "command_line.hpp"

namespace sarab::platform::virtio {

namespace {

// Linux's parameters that VMMs and their users commonly pass, which mean nothing to Sarab.
// Words of the form `module.param[=value]` are recognised by their dot and need no entry.
constexpr std::string_view kernel_word_names[] = {
    "acpi", "clocksource", "console", "earlycon", "earlyprintk", "init", "ip", "loglevel", "mitigations",
    "noapic", "nolapic", "nomodule", "nomodules", "panic", "pci", "quiet", "reboot", "ro", "root", "rootflags",
    "rootfstype", "rootwait", "rw", "tsc",
};

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; }

// Digits of `text` from its start in `base`; false on overflow or when there are none.
bool take_number(std::string_view& text, u32 base, u64& out)
{
    u64 value = 0;
    usize used = 0;
    for (; used < text.size(); ++used) {
        char c = text[used];
        u32 digit;
        if (c >= '0' && c <= '9')
            digit = u32(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            digit = u32(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            digit = u32(c - 'A' + 10);
        else
            break;
        if (digit >= base || value > (~u64(0) - digit) / base)
            return false;
        value = value * base + digit;
    }
    if (used == 0)
        return false;
    text.remove_prefix(used);
    out = value;
    return true;
}

// A number in hex (0x...) or decimal.
bool take_address(std::string_view& text, u64& out)
{
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
        return take_number(text, 16, out);
    }
    return take_number(text, 10, out);
}

} // namespace

WordKind classify_word(std::string_view word)
{
    // Sarab's own arguments first, the common case (no Linux word starts with '-').
    if (!word.empty() && word[0] == '-')
        return word.size() == 2 && word[1] == '-' ? WordKind::separator : WordKind::application;
    if (word.starts_with(virtio_mmio_prefix))
        return WordKind::virtio_mmio;
    if (word.empty())
        return WordKind::application;
    std::string_view name = word.substr(0, word.find('='));
    usize dot = name.find('.');
    if (dot != std::string_view::npos && dot > 0 && dot + 1 < name.size()) {
        // module.param: both halves plain names.
        for (char c : name)
            if (c != '.' && !is_name_char(c))
                return WordKind::application;
        return WordKind::linux_word;
    }
    for (std::string_view known : kernel_word_names)
        if (name == known)
            return WordKind::linux_word;
    return WordKind::application;
}

std::optional<MmioDeviceWord> parse_virtio_mmio_device(std::string_view text)
{
    MmioDeviceWord d;
    if (!take_address(text, d.size))
        return std::nullopt;
    u32 shift = 0;
    if (!text.empty() && (text[0] == 'K' || text[0] == 'k'))
        shift = 10;
    else if (!text.empty() && (text[0] == 'M' || text[0] == 'm'))
        shift = 20;
    else if (!text.empty() && (text[0] == 'G' || text[0] == 'g'))
        shift = 30;
    if (shift) {
        text.remove_prefix(1);
        if (d.size > (~u64(0) >> shift))
            return std::nullopt;
        d.size <<= shift;
    }
    if (d.size == 0 || text.empty() || text[0] != '@')
        return std::nullopt;
    text.remove_prefix(1);
    if (!take_address(text, d.base) || text.empty() || text[0] != ':' || d.base + d.size < d.base)
        return std::nullopt;
    text.remove_prefix(1);
    u64 irq;
    if (!take_number(text, 10, irq) || irq > 0xffff)
        return std::nullopt;
    d.irq = u32(irq);
    // An optional platform device id (Linux's `:ID`), which Sarab does not need.
    if (!text.empty() && text[0] == ':') {
        text.remove_prefix(1);
        u64 id;
        if (!take_number(text, 10, id))
            return std::nullopt;
    }
    if (!text.empty())
        return std::nullopt;
    return d;
}

} // namespace sarab::platform::virtio
