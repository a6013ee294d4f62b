#include <sarab/base/boot_args.hpp>

#include <charconv>
#include <optional>

namespace sarab::platform {
void console_write(std::string_view text);
}

namespace sarab {

using namespace std::string_view_literals;

namespace {
constinit BootArgBase* g_first = nullptr;

// Boot arguments are parsed once, on the way to an image's first line, where a virtio image
// under QEMU's TCG pays for every branch it takes for the first time (docs/performance.md). So
// words are compared by plain loops here, which string_view's ==, substr and find are not at
// -Os: calls into compare, memcmp and memchr, each with checks of its own.
[[gnu::always_inline]] inline bool same(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (usize i = 0; i < a.size(); ++i) {
        if (a[i] != b[i])
            return false;
    }
    return true;
}

bool starts_with_dashes(std::string_view word) { return word.size() >= 2 && word[0] == '-' && word[1] == '-'; }
} // namespace

BootArgBase::BootArgBase(std::string_view name, const char* help, ArgGroup group)
    : m_name(name)
    , m_help(help)
    , m_group(group)
    , m_next(g_first)
{
    g_first = this;
}

BootArgBase::~BootArgBase()
{
    for (BootArgBase** link = &g_first; *link; link = &(*link)->m_next) {
        if (*link == this) {
            *link = m_next;
            break;
        }
    }
}

BootArgBase* BootArgBase::first() { return g_first; }

bool parse_boot_value(std::string_view text, bool& out, FormatBuffer& error)
{
    if (text == "true" || text == "yes" || text == "on" || text == "1") {
        out = true;
        return true;
    }
    if (text == "false" || text == "no" || text == "off" || text == "0") {
        out = false;
        return true;
    }
    format_to(error, "'{}' is not true or false", text);
    return false;
}

bool parse_unsigned(std::string_view text, u64 max, u64& out, FormatBuffer& error)
{
    // One loop for both bases (see `same`).
    u64 base = 10;
    usize i = 0;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i == text.size()) {
        format_to(error, "'{}' is not a whole number", text);
        return false;
    }
    u64 v = 0;
    bool overflow = false;
    for (; i < text.size(); ++i) {
        u8 c = u8(text[i]);
        u64 digit = base; // not a digit
        if (u8(c - '0') < 10)
            digit = u8(c - '0');
        else if (base == 16 && u8((c | 0x20) - 'a') < 6)
            digit = u8((c | 0x20) - 'a') + 10;
        if (digit >= base) {
            format_to(error, "'{}' is not a whole number", text);
            return false;
        }
        // | rather than ||: no branch a digit (see `same`).
        bool scaled_over = __builtin_mul_overflow(v, base, &v);
        bool added_over = __builtin_add_overflow(v, digit, &v);
        overflow |= scaled_over | added_over;
    }
    if (overflow | (v > max)) {
        format_to(error, "{} is out of range (at most {})", text, max);
        return false;
    }
    out = v;
    return true;
}

bool parse_signed(std::string_view text, i64 min, i64 max, i64& out, FormatBuffer& error)
{
    i64 v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size()) {
        format_to(error, "'{}' is not a whole number", text);
        return false;
    }
    if (ec == std::errc::result_out_of_range || v < min || v > max) {
        format_to(error, "{} is out of range ({} to {})", text, min, max);
        return false;
    }
    out = v;
    return true;
}

bool parse_boot_value(std::string_view text, double& out, FormatBuffer& error)
{
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc {} || end != text.data() + text.size()) {
        format_to(error, "'{}' is not a number", text);
        return false;
    }
    out = v;
    return true;
}

bool parse_boot_value(std::string_view text, std::string_view& out, FormatBuffer&)
{
    out = text;
    return true;
}

bool parse_boot_value(std::string_view text, Duration& out, FormatBuffer& error)
{
    double number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (text.empty() || ec != std::errc {} || number < 0) {
        format_to(error, "'{}' is not a duration (seconds, or a number with ns, us, ms, s, m or h)", text);
        return false;
    }
    std::string_view unit(end, usize(text.data() + text.size() - end));
    double scale;
    if (unit.empty() || unit == "s")
        scale = 1e9;
    else if (unit == "ms")
        scale = 1e6;
    else if (unit == "us")
        scale = 1e3;
    else if (unit == "ns")
        scale = 1;
    else if (unit == "m")
        scale = 60e9;
    else if (unit == "h")
        scale = 3600e9;
    else {
        format_to(error, "'{}' has an unknown unit '{}' (use ns, us, ms, s, m or h)", text, unit);
        return false;
    }
    double ns = number * scale;
    if (ns > 9.2e18) {
        format_to(error, "'{}' is too long", text);
        return false;
    }
    out = Duration(i64(ns + 0.5));
    return true;
}

ParseOutcome parse_boot_arguments(std::span<const std::string_view> words, FormatBuffer& error)
{
    for (usize i = 0; i < words.size(); ++i) {
        std::string_view word = words[i];
        if (word.size() < 3 || !starts_with_dashes(word)) {
            if (same(word, "-h"sv))
                return ParseOutcome::help;
            format_to(error, "unexpected '{}': boot arguments look like --name=value", word);
            return ParseOutcome::error;
        }
        if (same(word, "--help"sv))
            return ParseOutcome::help;
        usize eq = 2;
        while (eq < word.size() && word[eq] != '=')
            ++eq;
        std::string_view name(word.data() + 2, eq - 2);
        std::optional<std::string_view> value;
        if (eq < word.size())
            value = std::string_view(word.data() + eq + 1, word.size() - eq - 1);

        BootArgBase* arg = nullptr;
        bool negated = false;
        for (BootArgBase* a = BootArgBase::first(); a; a = a->next()) {
            if (same(a->name(), name)) {
                arg = a;
                break;
            }
        }
        if (!arg && name.size() > 3 && name[0] == 'n' && name[1] == 'o' && name[2] == '-') {
            for (BootArgBase* a = BootArgBase::first(); a; a = a->next()) {
                if (a->is_flag() && same(a->name(), name.substr(3))) {
                    arg = a;
                    negated = true;
                    break;
                }
            }
        }
        if (!arg) {
            format_to(error, "unknown boot argument '--{}' (--help lists them)", name);
            return ParseOutcome::error;
        }
        if (!value) {
            if (arg->is_flag()) {
                value = negated ? "false" : "true";
            } else if (i + 1 < words.size() && !starts_with_dashes(words[i + 1])) {
                value = words[++i];
            } else {
                format_to(error, "--{} needs a value: --{}={}", name, name, arg->metavar());
                return ParseOutcome::error;
            }
        } else if (negated) {
            format_to(error, "--no-{} takes no value", arg->name());
            return ParseOutcome::error;
        }
        InlineFormatBuffer<256> why;
        if (!arg->set(*value, why)) {
            format_to(error, "bad value for --{}: {}", arg->name(), why.view());
            return ParseOutcome::error;
        }
    }
    return ParseOutcome::ok;
}

void print_boot_usage(std::string_view image_name)
{
    InlineFormatBuffer<512> line;
    format_to(line, "usage: {} [BOOT_ARGUMENTS]\n", image_name);
    platform::console_write(line.view());
    static constexpr struct {
        ArgGroup group;
        const char* title;
    } groups[] = {
        { ArgGroup::application, "application" },
        { ArgGroup::runtime, "runtime" },
        { ArgGroup::platform, "platform" },
    };
    for (auto& g : groups) {
        // Print in declaration order: the list is built newest first, so collect and reverse.
        BootArgBase* in_group[64];
        usize n = 0;
        for (BootArgBase* a = BootArgBase::first(); a && n < 64; a = a->next()) {
            if (a->group() == g.group)
                in_group[n++] = a;
        }
        if (n == 0)
            continue;
        line.clear();
        format_to(line, "\n{} arguments:\n", g.title);
        platform::console_write(line.view());
        while (n-- > 0) {
            BootArgBase* a = in_group[n];
            line.clear();
            InlineFormatBuffer<64> key;
            format_to(key, "--{}", a->name());
            if (!a->metavar().empty())
                format_to(key, "={}", a->metavar());
            format_to(line, "  {}", key.view());
            if (key.size() > 24)
                line.append("\n                          ");
            else
                for (usize pad = key.size(); pad < 24; ++pad)
                    line.append(' ');
            format_to(line, " {} (default: ", a->help());
            a->describe_default(line);
            line.append(")\n");
            platform::console_write(line.view());
        }
    }
}

} // namespace sarab
