// The part of a C and C++ runtime the image needs, and nothing more.
//
// GCC emits calls to memcpy, memset, memmove and memcmp even in freestanding code, and
// libstdc++'s headers call strlen, the std::__throw_* functions (which, without exceptions,
// end the image with a message: a broken precondition, not an error to handle), and abort.
// __stack_chk_fail serves code built with a stack protector (musl's math functions; the
// canary is at %fs:0x28, cpu.cpp). Static objects with destructors register them with
// __cxa_atexit; an image never returns
// from its entry, so they are never run. Function-local statics use the __cxa_guard_*
// protocol; the image has one thread, so a guard is a flag.
//
// This file is built with -fno-builtin -fno-tree-loop-distribute-patterns (CMakeLists.txt) so
// that GCC does not turn these loops back into calls to themselves. The four that the compiler
// calls on its own are marked used: GCC's link-time optimisation may turn a loop into a call
// to memcpy after it has decided, seeing no call, that memcpy is not needed.
#include "virtio.hpp"

#include <sarab/base/format.hpp>
#include <sarab/platform/platform.hpp>

#include <bits/functexcept.h>
#include <cstdarg>
#include <cstddef>
#include <memory>

using sarab::InlineFormatBuffer;
using sarab::format_to;

extern "C" {

// Eight bytes a turn, then the rest a byte at a time: under QEMU's TCG each turn of a rep
// instruction costs about as much as a loop turn, whatever its width.
[[gnu::used]] void* memcpy(void* __restrict to, const void* __restrict from, std::size_t n)
{
    void* result = to;
    std::size_t words = n / 8, rest = n % 8;
    asm volatile("rep movsq" : "+D"(to), "+S"(from), "+c"(words) : : "memory");
    asm volatile("rep movsb" : "+D"(to), "+S"(from), "+c"(rest) : : "memory");
    return result;
}

[[gnu::used]] void* memset(void* to, int c, std::size_t n)
{
    void* result = to;
    std::size_t words = n / 8, rest = n % 8;
    unsigned long long pattern = static_cast<unsigned char>(c) * 0x0101010101010101ull;
    asm volatile("rep stosq" : "+D"(to), "+c"(words) : "a"(pattern) : "memory");
    asm volatile("rep stosb" : "+D"(to), "+c"(rest) : "a"(pattern) : "memory");
    return result;
}

[[gnu::used]] void* memmove(void* to, const void* from, std::size_t n)
{
    auto* d = static_cast<unsigned char*>(to);
    auto* s = static_cast<const unsigned char*>(from);
    if (d <= s || d >= s + n)
        return memcpy(to, from, n);
    // Overlapping with the destination above: copy backwards.
    const unsigned char* s_end = s + n - 1;
    unsigned char* d_end = d + n - 1;
    asm volatile("std; rep movsb; cld" : "+D"(d_end), "+S"(s_end), "+c"(n) : : "memory");
    return to;
}

[[gnu::used]] int memcmp(const void* a, const void* b, std::size_t n)
{
    auto* x = static_cast<const unsigned char*>(a);
    auto* y = static_cast<const unsigned char*>(b);
    for (std::size_t i = 0; i < n; ++i) {
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

// Zero when equal (POSIX's bcmp): clang turns memcmp(...) == 0 into a call to it.
int bcmp(const void* a, const void* b, std::size_t n) { return memcmp(a, b, n); }

void* memchr(const void* p, int c, std::size_t n)
{
    auto* s = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) {
        if (s[i] == static_cast<unsigned char>(c))
            return const_cast<unsigned char*>(s + i);
    }
    return nullptr;
}

std::size_t strlen(const char* s)
{
    std::size_t n = 0;
    while (s[n])
        ++n;
    return n;
}

int strcmp(const char* a, const char* b)
{
    while (*a && *a == *b) {
        ++a;
        ++b;
    }
    return static_cast<unsigned char>(*a) - static_cast<unsigned char>(*b);
}

int strncmp(const char* a, const char* b, std::size_t n)
{
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i] != b[i] || !a[i])
            return static_cast<unsigned char>(a[i]) - static_cast<unsigned char>(b[i]);
    }
    return 0;
}

char* strchr(const char* s, int c)
{
    for (;; ++s) {
        if (*s == static_cast<char>(c))
            return const_cast<char*>(s);
        if (!*s)
            return nullptr;
    }
}

[[noreturn]] void __stack_chk_fail()
{
    sarab::platform::abort("stack smashing detected (a stack protector's canary was overwritten)");
}

// Declared noreturn by <cstdlib> already (in GCC's attribute syntax, which clang will not see
// repeated as [[noreturn]] here).
void abort()
{
    sarab::platform::abort("abort() called");
}

[[noreturn]] void __assert_fail(const char* expression, const char* file, unsigned line, const char* function)
{
    InlineFormatBuffer<512> text;
    format_to(text, "assertion failed at {}:{} in {}: {}", file, line, function, expression);
    sarab::platform::abort(text.view());
}

// glibc's headers let libstdc++ skip atomic reference counts (shared_ptr, ...) while a process
// has one thread; an image always has one.
char __libc_single_threaded = 1;

// ---- C++ ABI ------------------------------------------------------------------------------
void* __dso_handle = nullptr;

int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }
int atexit(void (*)()) { return 0; }

[[noreturn]] void __cxa_pure_virtual() { sarab::platform::abort("pure virtual function called"); }
[[noreturn]] void __cxa_deleted_virtual() { sarab::platform::abort("deleted virtual function called"); }

int __cxa_guard_acquire(std::uint64_t* guard) { return *reinterpret_cast<volatile char*>(guard) == 0; }
void __cxa_guard_release(std::uint64_t* guard) { *reinterpret_cast<volatile char*>(guard) = 1; }
void __cxa_guard_abort(std::uint64_t*) { }

} // extern "C"

// Without RTTI, std::make_shared recognises its own control block by the address of a tag
// that stands in for a type_info (bits/shared_ptr_base.h). libstdc++ defines this check in
// shared_ptr.o, whose other contents need exception support: this is the same check alone.
bool std::_Sp_make_shared_tag::_S_eq(const std::type_info& ti) noexcept
{
    return &ti == &_S_ti();
}

// ---- what libstdc++ would throw -------------------------------------------------------------
namespace {
[[noreturn]] void fail(const char* what, const char* detail)
{
    InlineFormatBuffer<512> text;
    format_to(text, "{}: {}", what, detail ? detail : "");
    sarab::platform::abort(text.view());
}
} // namespace

namespace std {
void terminate() noexcept { fail("std::terminate", nullptr); }
void __throw_bad_exception() { fail("bad_exception", nullptr); }
void __throw_bad_alloc() { fail("bad_alloc", "out of memory"); }
void __throw_bad_array_new_length() { fail("bad_array_new_length", nullptr); }
void __throw_bad_cast() { fail("bad_cast", nullptr); }
void __throw_bad_typeid() { fail("bad_typeid", nullptr); }
void __throw_logic_error(const char* s) { fail("logic_error", s); }
void __throw_domain_error(const char* s) { fail("domain_error", s); }
void __throw_invalid_argument(const char* s) { fail("invalid_argument", s); }
void __throw_length_error(const char* s) { fail("length_error", s); }
void __throw_out_of_range(const char* s) { fail("out_of_range", s); }
// The format is printf's; the message shows it unexpanded, which names the check well enough.
void __throw_out_of_range_fmt(const char* s, ...) { fail("out_of_range", s); }
void __throw_runtime_error(const char* s) { fail("runtime_error", s); }
void __throw_range_error(const char* s) { fail("range_error", s); }
void __throw_overflow_error(const char* s) { fail("overflow_error", s); }
void __throw_underflow_error(const char* s) { fail("underflow_error", s); }
void __throw_ios_failure(const char* s) { fail("ios_failure", s); }
void __throw_ios_failure(const char* s, int) { fail("ios_failure", s); }
void __throw_system_error(int) { fail("system_error", nullptr); }
void __throw_future_error(int) { fail("future_error", nullptr); }
void __throw_bad_function_call() { fail("bad_function_call", "empty std::function called"); }
} // namespace std
