// Results. Everything that can fail returns ErrorOr<T, E>, where E is a small enum that
// belongs to the operation (NetError, BlockError, ...). There are no exceptions: a caller
// either handles the error or passes it up with TRY (CO_TRY inside a coroutine).
#pragma once

#include <sarab/base/verify.hpp>

#include <new>
#include <type_traits>
#include <utility>

namespace sarab {

// General-purpose codes, for operations too small to deserve an enum of their own.
enum class Errc : unsigned char {
    invalid_argument,
    not_found,
    no_memory,
    io,
    unsupported,
    busy,
    timed_out,
    cancelled,
};

constexpr const char* error_name(Errc e)
{
    switch (e) {
    case Errc::invalid_argument: return "invalid argument";
    case Errc::not_found: return "not found";
    case Errc::no_memory: return "out of memory";
    case Errc::io: return "I/O error";
    case Errc::unsupported: return "unsupported";
    case Errc::busy: return "busy";
    case Errc::timed_out: return "timed out";
    case Errc::cancelled: return "cancelled";
    }
    return "unknown error";
}

// The error half of a result on its way into an ErrorOr: `return failure(NetError::empty);`
template<class E>
struct Failure {
    E error;
};

template<class E>
constexpr Failure<E> failure(E e)
{
    return Failure<E> { e };
}

template<class T, class E = Errc>
class [[nodiscard]] ErrorOr {
    static_assert(!std::is_reference_v<T>, "ErrorOr holds values; use a pointer for a reference");

public:
    template<class U = T>
        requires std::is_constructible_v<T, U&&> && (!std::is_same_v<std::remove_cvref_t<U>, ErrorOr>)
    constexpr ErrorOr(U&& value)
        : m_ok(true)
    {
        new (&m_value) T(std::forward<U>(value));
    }

    template<class F>
        requires std::is_convertible_v<F, E>
    constexpr ErrorOr(Failure<F> f)
        : m_ok(false)
    {
        new (&m_error) E(static_cast<E>(f.error));
    }

    ErrorOr(ErrorOr&& other)
        : m_ok(other.m_ok)
    {
        if (m_ok)
            new (&m_value) T(std::move(other.m_value));
        else
            new (&m_error) E(other.m_error);
    }

    ErrorOr(const ErrorOr& other)
        requires std::is_copy_constructible_v<T>
        : m_ok(other.m_ok)
    {
        if (m_ok)
            new (&m_value) T(other.m_value);
        else
            new (&m_error) E(other.m_error);
    }

    ErrorOr& operator=(ErrorOr&& other)
    {
        if (this != &other) {
            destroy();
            new (this) ErrorOr(std::move(other));
        }
        return *this;
    }

    ~ErrorOr() { destroy(); }

    constexpr bool has_value() const { return m_ok; }
    constexpr bool is_error() const { return !m_ok; }
    constexpr explicit operator bool() const { return m_ok; }

    T& value() &
    {
        VERIFY(m_ok, "value() of an ErrorOr that holds an error");
        return m_value;
    }
    const T& value() const&
    {
        VERIFY(m_ok, "value() of an ErrorOr that holds an error");
        return m_value;
    }
    T release_value()
    {
        VERIFY(m_ok, "release_value() of an ErrorOr that holds an error");
        return std::move(m_value);
    }
    T& operator*() & { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    E error() const
    {
        VERIFY(!m_ok, "error() of an ErrorOr that holds a value");
        return m_error;
    }

private:
    void destroy()
    {
        if (m_ok)
            m_value.~T();
    }

    union {
        T m_value;
        E m_error;
    };
    bool m_ok;
};

template<class E>
class [[nodiscard]] ErrorOr<void, E> {
public:
    constexpr ErrorOr()
        : m_ok(true)
    {
    }
    template<class F>
        requires std::is_convertible_v<F, E>
    constexpr ErrorOr(Failure<F> f)
        : m_error(static_cast<E>(f.error))
        , m_ok(false)
    {
    }

    constexpr bool has_value() const { return m_ok; }
    constexpr bool is_error() const { return !m_ok; }
    constexpr explicit operator bool() const { return m_ok; }
    constexpr void release_value() const { VERIFY(m_ok, "release_value() of an ErrorOr that holds an error"); }
    E error() const
    {
        VERIFY(!m_ok, "error() of an ErrorOr that holds a value");
        return m_error;
    }

private:
    E m_error {};
    bool m_ok;
};

} // namespace sarab

// Early return on error: `int n = TRY(parse(text));` passes an error up, else gives the value.
// TRY uses a statement expression (GCC and clang).
#define TRY(expression)                                                                          \
    ({                                                                                           \
        auto&& sarab_try_result_ = (expression);                                                 \
        if (sarab_try_result_.is_error()) [[unlikely]]                                           \
            return ::sarab::failure(sarab_try_result_.error());                                  \
        sarab_try_result_.release_value();                                                       \
    })

// The same inside a coroutine, where GCC does not allow co_return or co_await within a
// statement expression, so these are statements:
//     CO_TRY(co_await flush());                       passes an error up
//     CO_TRY_ASSIGN(auto frame, co_await receive());  also declares the value
#define SARAB_CONCAT_(a, b) a##b
#define SARAB_CONCAT(a, b) SARAB_CONCAT_(a, b)
#define SARAB_CO_TRY_RESULT SARAB_CONCAT(sarab_co_try_result_, __LINE__)

#define CO_TRY(expression)                                                                       \
    do {                                                                                         \
        auto&& sarab_co_try_result_ = (expression);                                              \
        if (sarab_co_try_result_.is_error()) [[unlikely]]                                        \
            co_return ::sarab::failure(sarab_co_try_result_.error());                            \
    } while (0)

#define CO_TRY_ASSIGN(declaration, expression)                                                   \
    auto&& SARAB_CO_TRY_RESULT = (expression);                                                   \
    if (SARAB_CO_TRY_RESULT.is_error()) [[unlikely]]                                             \
        co_return ::sarab::failure(SARAB_CO_TRY_RESULT.error());                                 \
    declaration = SARAB_CO_TRY_RESULT.release_value()
