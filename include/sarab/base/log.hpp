// Logging: levels, one source per layer or component, timestamps from the monotonic clock.
//
//     log::Source tcp_log { "tcp" };
//     log::info(tcp_log, "connection from {} accepted", peer);
//
// Lines look like `[    1.250013] info  tcp: connection from ... accepted`. Levels are set
// at boot with --log=LEVEL or --log=LEVEL,SOURCE:LEVEL,... (for example --log=warn,tcp:debug).
// Messages below SARAB_LOG_MIN_LEVEL (a configure-time option) are compiled out entirely,
// so trace logging in hot paths costs nothing in a release image.
#pragma once

#include <sarab/base/format.hpp>

#include <string_view>

#ifndef SARAB_LOG_MIN_LEVEL
#    define SARAB_LOG_MIN_LEVEL 0
#endif

namespace sarab::log {

enum class Level : u8 { trace, debug, info, warn, error, off };

std::string_view level_name(Level);
bool parse_level(std::string_view, Level&);

inline constexpr Level compiled_min_level = Level(SARAB_LOG_MIN_LEVEL);

class Source;
namespace detail {
// The registry of sources, newest first, and the level of sources --log did not name. Here so
// that a source's constructor is inline: static initialisation is on an image's way to its
// first line, where a call costs (docs/performance.md).
extern constinit Source* g_first_source;
extern constinit Level g_default_level;
}

class Source {
public:
    // Sources are namespace-scope objects; they register themselves as they are constructed.
    [[gnu::always_inline]] explicit Source(const char* name, Level level = Level::info)
        : m_name(name)
        , m_level(level == Level::info ? detail::g_default_level : level)
        , m_next(detail::g_first_source)
    {
        detail::g_first_source = this;
    }
    ~Source();
    Source(const Source&) = delete;
    Source& operator=(const Source&) = delete;

    const char* name() const { return m_name; }
    Level level() const { return m_level; }
    void set_level(Level level) { m_level = level; }
    bool enabled(Level level) const { return level >= m_level; }

    static Source* first();
    Source* next() const { return m_next; }

private:
    const char* m_name;
    Level m_level;
    Source* m_next;
};

// Applies a --log specification to every source; false (and why, in `error`) if it is bad.
bool configure(std::string_view spec, FormatBuffer& error);
// The level given to sources that --log did not name (and to sources made later).
Level default_level();

namespace detail {
void write(const Source&, Level, std::string_view fmt, std::span<const sarab::detail::FormatArg>);
}

template<Level L, class... Args>
void emit(const Source& source, FormatString<Args...> fmt, const Args&... args)
{
    if constexpr (L >= compiled_min_level) {
        if (source.enabled(L)) [[unlikely]] {
            if constexpr (sizeof...(Args) == 0) {
                detail::write(source, L, fmt.text(), {});
            } else {
                const sarab::detail::FormatArg erased[] = { { &args, &sarab::detail::format_erased<Args> }... };
                detail::write(source, L, fmt.text(), erased);
            }
        }
    }
}

template<class... Args>
void trace(const Source& s, FormatString<Args...> fmt, const Args&... args) { emit<Level::trace, Args...>(s, fmt, args...); }
template<class... Args>
void debug(const Source& s, FormatString<Args...> fmt, const Args&... args) { emit<Level::debug, Args...>(s, fmt, args...); }
template<class... Args>
void info(const Source& s, FormatString<Args...> fmt, const Args&... args) { emit<Level::info, Args...>(s, fmt, args...); }
template<class... Args>
void warn(const Source& s, FormatString<Args...> fmt, const Args&... args) { emit<Level::warn, Args...>(s, fmt, args...); }
template<class... Args>
void error(const Source& s, FormatString<Args...> fmt, const Args&... args) { emit<Level::error, Args...>(s, fmt, args...); }

} // namespace sarab::log
