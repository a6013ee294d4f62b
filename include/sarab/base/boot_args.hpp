// Boot arguments: typed keys that an application (or a layer, or the platform) declares,
// read from argv on hosted and from the kernel command line on virtio.
//
//     BootArg<u16> port { "port", 53, "UDP and TCP port to answer on" };
//     ... port.value() ...
//
// Words are `--name=value`, `--name value`, or `--name` alone for a flag. `--help` lists
// every key with its type, default and help text. An unknown key, a missing value or a value
// of the wrong type is an error that names the key; the image then exits with status 2.
// These are boot-time arguments: configure-time options (what is compiled in) are CMake
// options and never appear here.
#pragma once

#include <sarab/base/format.hpp>
#include <sarab/base/time.hpp>
#include <sarab/base/types.hpp>

#include <concepts>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

namespace sarab {

// Who declared a key, which is how --help groups them.
enum class ArgGroup : u8 { application, runtime, platform };

class BootArgBase {
public:
    // The name's length is taken where the key is declared (a literal's, at compile time):
    // parsing compares names on an image's way to its first line.
    BootArgBase(std::string_view name, const char* help, ArgGroup group);
    BootArgBase(const BootArgBase&) = delete;
    BootArgBase& operator=(const BootArgBase&) = delete;

    std::string_view name() const { return m_name; }
    std::string_view help() const { return m_help; }
    ArgGroup group() const { return m_group; }
    bool was_given() const { return m_given; }
    BootArgBase* next() const { return m_next; }
    static BootArgBase* first();

    // Parses one value; false with the reason in `error` when it is not valid.
    virtual bool set(std::string_view text, FormatBuffer& error) = 0;
    virtual bool is_flag() const { return false; }
    virtual std::string_view metavar() const = 0;
    virtual void describe_default(FormatBuffer&) const = 0;
    // Back to the default, as if never given (for tests).
    virtual void reset() = 0;

protected:
    ~BootArgBase(); // leaves the registry (keys normally live for the whole image)
    void mark_given(bool given) { m_given = given; }

private:
    std::string_view m_name;
    const char* m_help;
    ArgGroup m_group;
    bool m_given = false;
    BootArgBase* m_next;
};

// ---- value types -------------------------------------------------------------------------
// A type can be a boot argument when these three are found for it.

bool parse_boot_value(std::string_view, bool&, FormatBuffer& error);
bool parse_boot_value(std::string_view, double&, FormatBuffer& error);
bool parse_boot_value(std::string_view, std::string_view&, FormatBuffer& error);
// Seconds as a decimal number (`2.5`), or a number with a unit: ns, us, ms, s, m, h.
bool parse_boot_value(std::string_view, Duration&, FormatBuffer& error);
bool parse_unsigned(std::string_view, u64 max, u64&, FormatBuffer& error);
bool parse_signed(std::string_view, i64 min, i64 max, i64&, FormatBuffer& error);

template<std::integral T>
    requires(!std::same_as<T, bool>)
bool parse_boot_value(std::string_view text, T& out, FormatBuffer& error)
{
    if constexpr (std::is_signed_v<T>) {
        i64 v;
        if (!parse_signed(text, std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), v, error))
            return false;
        out = T(v);
    } else {
        u64 v;
        if (!parse_unsigned(text, std::numeric_limits<T>::max(), v, error))
            return false;
        out = T(v);
    }
    return true;
}

constexpr std::string_view boot_metavar(const bool*) { return ""; }
constexpr std::string_view boot_metavar(const double*) { return "NUMBER"; }
constexpr std::string_view boot_metavar(const std::string_view*) { return "TEXT"; }
constexpr std::string_view boot_metavar(const Duration*) { return "SECONDS"; }
template<std::integral T>
constexpr std::string_view boot_metavar(const T*) { return "N"; }

inline void describe_boot_value(FormatBuffer& out, bool v) { format_value(out, v, {}); }
inline void describe_boot_value(FormatBuffer& out, double v) { format_value(out, v, {}); }
inline void describe_boot_value(FormatBuffer& out, Duration v) { format_value(out, v, {}); }
inline void describe_boot_value(FormatBuffer& out, std::string_view v)
{
    out.append('"');
    out.append(v);
    out.append('"');
}
template<std::integral T>
void describe_boot_value(FormatBuffer& out, T v) { format_value(out, v, {}); }

template<class T>
class BootArg final : public BootArgBase {
public:
    // Names are literals: their length is known here, without a call to strlen at start-up.
    template<usize N>
    BootArg(const char (&name)[N], T default_value, const char* help, ArgGroup group = ArgGroup::application)
        : BootArgBase(std::string_view(name, N - 1), help, group)
        , m_value(default_value)
        , m_default(default_value)
    {
    }

    const T& value() const { return m_value; }
    const T& operator*() const { return m_value; }

    bool set(std::string_view text, FormatBuffer& error) override
    {
        T parsed = m_default;
        if (!parse_boot_value(text, parsed, error))
            return false;
        m_value = parsed;
        mark_given(true);
        return true;
    }
    bool is_flag() const override { return std::is_same_v<T, bool>; }
    std::string_view metavar() const override { return boot_metavar(static_cast<const T*>(nullptr)); }
    void describe_default(FormatBuffer& out) const override { describe_boot_value(out, m_default); }
    void reset() override
    {
        m_value = m_default;
        mark_given(false);
    }

private:
    T m_value;
    T m_default;
};

// A key that may be given several times, each value kept: `--dev a=x --dev b=y`.
class BootArgList final : public BootArgBase {
public:
    template<usize N>
    BootArgList(const char (&name)[N], const char* metavar, const char* help, ArgGroup group = ArgGroup::application)
        : BootArgBase(std::string_view(name, N - 1), help, group)
        , m_metavar(metavar)
    {
    }
    std::span<const std::string_view> values() const { return m_values; }
    bool set(std::string_view text, FormatBuffer&) override
    {
        m_values.push_back(text);
        mark_given(true);
        return true;
    }
    std::string_view metavar() const override { return m_metavar; }
    void describe_default(FormatBuffer& out) const override { out.append("none"); }
    void reset() override
    {
        m_values.clear();
        mark_given(false);
    }

private:
    const char* m_metavar;
    std::vector<std::string_view> m_values;
};

enum class ParseOutcome : u8 { ok, help, error };

// Parses `words` into the declared keys. On ParseOutcome::error, `error` says what is wrong.
ParseOutcome parse_boot_arguments(std::span<const std::string_view> words, FormatBuffer& error);

// Writes the --help text, every key grouped by who declared it, to the console.
void print_boot_usage(std::string_view image_name);

} // namespace sarab
