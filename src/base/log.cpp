#include <sarab/base/log.hpp>

#include <sarab/base/time.hpp>

namespace sarab::platform {
void console_write(std::string_view text);
}

namespace sarab::log {

// Constant-initialised, so that sources constructed during static initialisation, in any
// order, find a valid list.
constinit Source* detail::g_first_source = nullptr;
constinit Level detail::g_default_level = Level::info;

Source::~Source()
{
    for (Source** link = &detail::g_first_source; *link; link = &(*link)->m_next) {
        if (*link == this) {
            *link = m_next;
            break;
        }
    }
}

Source* Source::first() { return detail::g_first_source; }
Level default_level() { return detail::g_default_level; }

std::string_view level_name(Level level)
{
    switch (level) {
    case Level::trace: return "trace";
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
    case Level::off: return "off";
    }
    return "?";
}

bool parse_level(std::string_view text, Level& out)
{
    for (u8 l = 0; l <= u8(Level::off); ++l) {
        if (text == level_name(Level(l))) {
            out = Level(l);
            return true;
        }
    }
    if (text == "warning") {
        out = Level::warn;
        return true;
    }
    return false;
}

bool configure(std::string_view spec, FormatBuffer& error)
{
    // First check the whole specification, then apply it: a bad one changes nothing.
    struct Item {
        std::string_view source;
        Level level;
    };
    Item items[32];
    usize count = 0;
    while (!spec.empty()) {
        usize comma = spec.find(',');
        std::string_view item = spec.substr(0, comma);
        spec = comma == std::string_view::npos ? std::string_view {} : spec.substr(comma + 1);
        if (item.empty())
            continue;
        usize colon = item.find(':');
        std::string_view source = colon == std::string_view::npos ? std::string_view {} : item.substr(0, colon);
        std::string_view level_text = colon == std::string_view::npos ? item : item.substr(colon + 1);
        Level level;
        if (!parse_level(level_text, level)) {
            format_to(error, "unknown log level '{}' (use trace, debug, info, warn, error or off)", level_text);
            return false;
        }
        if (!source.empty()) {
            bool known = false;
            for (Source* s = detail::g_first_source; s; s = s->next())
                known = known || source == s->name();
            if (!known) {
                format_to(error, "unknown log source '{}' (known:", source);
                for (Source* s = detail::g_first_source; s; s = s->next())
                    format_to(error, " {}", s->name());
                error.append(')');
                return false;
            }
        }
        if (count == 32) {
            format_to(error, "too many items in --log");
            return false;
        }
        items[count++] = { source, level };
    }
    for (usize i = 0; i < count; ++i) {
        if (items[i].source.empty()) {
            detail::g_default_level = items[i].level;
            for (Source* s = detail::g_first_source; s; s = s->next())
                s->set_level(items[i].level);
        }
    }
    for (usize i = 0; i < count; ++i) {
        for (Source* s = detail::g_first_source; s; s = s->next()) {
            if (!items[i].source.empty() && items[i].source == s->name())
                s->set_level(items[i].level);
        }
    }
    return true;
}

void detail::write(const Source& source, Level level, std::string_view fmt, std::span<const sarab::detail::FormatArg> args)
{
    InlineFormatBuffer<1024> line;
    u64 ns = platform::monotonic_ns();
    line.append('[');
    format_value(line, ns / 1'000'000'000, FormatSpec { .width = 5 });
    line.append('.');
    format_value(line, (ns / 1000) % 1'000'000, FormatSpec { .fill = '0', .width = 6 });
    line.append("] ");
    std::string_view name = level_name(level);
    line.append(name);
    for (usize i = name.size(); i < 6; ++i)
        line.append(' ');
    line.append(source.name());
    line.append(": ");
    sarab::detail::vformat_to(line, fmt, args);
    line.append('\n');
    platform::console_write(line.view());
}

} // namespace sarab::log
