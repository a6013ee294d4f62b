// std::to_chars and std::from_chars for double, which libstdc++ keeps in its compiled library.
//
// Why not link Debian's libstdc++.a objects: floating_to_chars.o brings Ryu's tables (about
// 110 KiB for fixed precision alone) and floating_from_chars.o brings locales, strtold and
// std::pmr; either would double the image. This is an exact and small implementation instead:
// a value f * 2^e is turned into digits with big-integer arithmetic, never with floating
// point, so every result is correctly rounded. It is slower than Ryu (microseconds per
// number), which is fine for logs and boot arguments.
//
//   to_chars(first, last, double)                    shortest digits that read back the same
//                                                    (Steele-White/Dragon4 free format), in
//                                                    fixed or scientific form, whichever is
//                                                    shorter, fixed on a tie: as libstdc++
//   to_chars(first, last, double, fixed, precision)  exactly rounded, ties to even: as printf
//   from_chars(first, last, double&, fmt)            correctly rounded, ties to even; general,
//                                                    fixed and scientific forms, inf and nan
//
// Other floating-point overloads are not provided: a use of one makes the linker take
// libstdc++'s floating_to_chars.o, which clashes with these and needs the C library, so it
// fails at link time rather than at run time. Built into the unit tests too, under SARAB_FLOAT_CHARS_TEST, where it is
// checked against libstdc++ (tests/platform/virtio/float_chars_test.cpp).
#include <charconv>
#include <cstdint>
#include <cstring>

#ifndef SARAB_FLOAT_CHARS_TEST
#    include <sarab/platform/platform.hpp>
#endif

#ifdef SARAB_FLOAT_CHARS_TEST
#    define SARAB_CHARS_NAMESPACE sarab_test_chars
#else
#    define SARAB_CHARS_NAMESPACE std
#endif

namespace sarab::platform::virtio::chars {

namespace {

using u32 = std::uint32_t;
using u64 = std::uint64_t;

// An unsigned integer of up to 4096 bits, enough for a double times 10^1100.
class Big {
public:
    static constexpr int capacity = 128;

    Big() = default;
    explicit Big(u64 v) { set(v); }
    void set(u64 v)
    {
        m_size = 0;
        while (v) {
            m_limb[m_size++] = u32(v);
            v >>= 32;
        }
    }
    bool is_zero() const { return m_size == 0; }
    int bits() const { return m_size == 0 ? 0 : (m_size - 1) * 32 + (32 - __builtin_clz(m_limb[m_size - 1])); }
    bool bit(int i) const { return i / 32 < m_size && ((m_limb[i / 32] >> (i % 32)) & 1); }
    // Any of the bits below `i` set.
    bool any_below(int i) const
    {
        for (int l = 0; l < m_size && l * 32 < i; ++l) {
            u32 mask = (i - l * 32 >= 32) ? ~u32(0) : ((u32(1) << (i - l * 32)) - 1);
            if (m_limb[l] & mask)
                return true;
        }
        return false;
    }
    // The 64 bits starting at bit `from` (from >= 0).
    u64 bits_from(int from) const
    {
        u64 v = 0;
        for (int i = 63; i >= 0; --i)
            v = (v << 1) | (bit(from + i) ? 1 : 0);
        return v;
    }

    void mul_small(u32 m)
    {
        u64 carry = 0;
        for (int i = 0; i < m_size; ++i) {
            u64 t = u64(m_limb[i]) * m + carry;
            m_limb[i] = u32(t);
            carry = t >> 32;
        }
        if (carry)
            push(u32(carry));
    }
    void add_small(u32 a)
    {
        u64 carry = a;
        for (int i = 0; i < m_size && carry; ++i) {
            u64 t = u64(m_limb[i]) + carry;
            m_limb[i] = u32(t);
            carry = t >> 32;
        }
        if (carry)
            push(u32(carry));
    }
    void mul_pow10(int n)
    {
        for (; n >= 9; n -= 9)
            mul_small(1'000'000'000);
        static constexpr u32 small[9] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000 };
        if (n > 0)
            mul_small(small[n]);
    }
    void shift_left(int n)
    {
        if (m_size == 0 || n == 0)
            return;
        int limbs = n / 32, bits = n % 32;
        int size = m_size + limbs + 1;
        if (size > capacity)
            __builtin_trap(); // sized for every double: cannot happen
        for (int i = size - 1; i >= 0; --i) {
            int src = i - limbs;
            u64 hi = (src >= 0 && src < m_size) ? m_limb[src] : 0;
            u64 lo = (src - 1 >= 0 && src - 1 < m_size) ? m_limb[src - 1] : 0;
            m_limb[i] = bits ? u32((hi << bits) | (lo >> (32 - bits))) : u32(hi);
        }
        m_size = size;
        trim();
    }
    void shift_right(int n)
    {
        int limbs = n / 32, bits = n % 32;
        if (limbs >= m_size) {
            m_size = 0;
            return;
        }
        for (int i = 0; i < m_size - limbs; ++i) {
            u64 lo = m_limb[i + limbs];
            u64 hi = (i + limbs + 1 < m_size) ? m_limb[i + limbs + 1] : 0;
            m_limb[i] = bits ? u32((lo >> bits) | (hi << (32 - bits))) : u32(lo);
        }
        m_size -= limbs;
        trim();
    }
    // this -= o; requires this >= o.
    void subtract(const Big& o)
    {
        int64_t borrow = 0;
        for (int i = 0; i < m_size; ++i) {
            int64_t t = int64_t(m_limb[i]) - (i < o.m_size ? int64_t(o.m_limb[i]) : 0) - borrow;
            borrow = t < 0;
            m_limb[i] = u32(t + (borrow ? (int64_t(1) << 32) : 0));
        }
        trim();
    }
    void add(const Big& o)
    {
        u64 carry = 0;
        int n = m_size > o.m_size ? m_size : o.m_size;
        for (int i = 0; i < n; ++i) {
            u64 t = u64(i < m_size ? m_limb[i] : 0) + (i < o.m_size ? o.m_limb[i] : 0) + carry;
            m_limb[i] = u32(t);
            carry = t >> 32;
        }
        m_size = n;
        if (carry)
            push(u32(carry));
    }
    // Divides by d, returns the remainder.
    u32 divide_small(u32 d)
    {
        u64 rem = 0;
        for (int i = m_size - 1; i >= 0; --i) {
            u64 t = (rem << 32) | m_limb[i];
            m_limb[i] = u32(t / d);
            rem = t % d;
        }
        trim();
        return u32(rem);
    }
    friend int compare(const Big& a, const Big& b)
    {
        if (a.m_size != b.m_size)
            return a.m_size < b.m_size ? -1 : 1;
        for (int i = a.m_size - 1; i >= 0; --i) {
            if (a.m_limb[i] != b.m_limb[i])
                return a.m_limb[i] < b.m_limb[i] ? -1 : 1;
        }
        return 0;
    }
    // Writes the decimal digits (no leading zeros; "0" for zero) into out, returns the count.
    int to_decimal(char* out) const
    {
        Big t = *this;
        char reversed[1400];
        int n = 0;
        while (!t.is_zero()) {
            u32 chunk = t.divide_small(1'000'000'000);
            for (int i = 0; i < 9; ++i) {
                reversed[n++] = char('0' + chunk % 10);
                chunk /= 10;
            }
        }
        while (n > 1 && reversed[n - 1] == '0')
            --n;
        if (n == 0)
            reversed[n++] = '0';
        for (int i = 0; i < n; ++i)
            out[i] = reversed[n - 1 - i];
        return n;
    }

private:
    void push(u32 v)
    {
        if (m_size == capacity)
            __builtin_trap();
        m_limb[m_size++] = v;
    }
    void trim()
    {
        while (m_size > 0 && m_limb[m_size - 1] == 0)
            --m_size;
    }

    u32 m_limb[capacity];
    int m_size = 0;
};

struct Decomposed {
    bool negative;
    bool is_inf, is_nan;
    u64 mantissa; // with the hidden bit for normal numbers
    int exponent; // value = mantissa * 2^exponent
};

Decomposed decompose(double value)
{
    u64 bits;
    std::memcpy(&bits, &value, sizeof bits);
    Decomposed d {};
    d.negative = bits >> 63;
    int biased = int((bits >> 52) & 0x7ff);
    u64 fraction = bits & ((u64(1) << 52) - 1);
    if (biased == 0x7ff) {
        d.is_inf = fraction == 0;
        d.is_nan = fraction != 0;
        return d;
    }
    if (biased == 0) {
        d.mantissa = fraction;
        d.exponent = -1074;
    } else {
        d.mantissa = fraction | (u64(1) << 52);
        d.exponent = biased - 1075;
    }
    return d;
}

// Shortest digits: value = 0.digits * 10^k. Returns the number of digits (at most 17).
int shortest_digits(u64 f, int e, char* digits, int& k)
{
    bool even = (f & 1) == 0;
    bool boundary = f == (u64(1) << 52) && e > -1074; // the gap below is half the one above
    Big r, s, m_plus, m_minus;
    if (e >= 0) {
        r.set(f);
        r.shift_left(e + (boundary ? 2 : 1));
        s.set(boundary ? 4 : 2);
        m_plus.set(1);
        m_plus.shift_left(e + (boundary ? 1 : 0));
        m_minus.set(1);
        m_minus.shift_left(e);
    } else {
        r.set(f);
        r.shift_left(boundary ? 2 : 1);
        s.set(1);
        s.shift_left(-e + (boundary ? 2 : 1));
        m_plus.set(boundary ? 2 : 1);
        m_minus.set(1);
    }
    // Estimate k = ceil(log10(value)); it may be one too small, which the check below fixes.
    int bit_length = 64 - __builtin_clzll(f);
    double estimate = (e + bit_length - 1) * 0.30102999566398114 - 1e-10;
    k = int(estimate); // then up to the ceiling (no libm: ceil would be a call)
    if (double(k) < estimate)
        ++k;
    if (k >= 0)
        s.mul_pow10(k);
    else {
        r.mul_pow10(-k);
        m_plus.mul_pow10(-k);
        m_minus.mul_pow10(-k);
    }
    Big high = r;
    high.add(m_plus);
    if (even ? compare(high, s) >= 0 : compare(high, s) > 0) {
        s.mul_small(10);
        ++k;
    }
    int n = 0;
    for (;;) {
        r.mul_small(10);
        m_plus.mul_small(10);
        m_minus.mul_small(10);
        int digit = 0;
        while (compare(r, s) >= 0) {
            r.subtract(s);
            ++digit;
        }
        high = r;
        high.add(m_plus);
        int low_cmp = compare(r, m_minus);
        int high_cmp = compare(high, s);
        bool low_ok = even ? low_cmp <= 0 : low_cmp < 0;
        bool high_ok = even ? high_cmp >= 0 : high_cmp > 0;
        if (!low_ok && !high_ok) {
            digits[n++] = char('0' + digit);
            continue;
        }
        if (low_ok && high_ok) {
            // Both ends are within reach: the nearer one, the even digit on a tie.
            Big twice = r;
            twice.shift_left(1);
            int c = compare(twice, s);
            if (c > 0 || (c == 0 && (digit & 1)))
                ++digit;
        } else if (high_ok) {
            ++digit;
        }
        digits[n++] = char('0' + digit);
        return n;
    }
}

std::to_chars_result too_large(char* last) { return { last, std::errc::value_too_large }; }

std::to_chars_result copy_out(char* first, char* last, const char* text, int n)
{
    if (last - first < n)
        return too_large(last);
    std::memcpy(first, text, size_t(n));
    return { first + n, std::errc {} };
}

bool special(const Decomposed& d, char* first, char* last, std::to_chars_result& result)
{
    if (d.is_inf) {
        result = d.negative ? copy_out(first, last, "-inf", 4) : copy_out(first, last, "inf", 3);
        return true;
    }
    if (d.is_nan) {
        result = d.negative ? copy_out(first, last, "-nan", 4) : copy_out(first, last, "nan", 3);
        return true;
    }
    return false;
}

} // namespace

std::to_chars_result to_chars_shortest(char* first, char* last, double value)
{
    Decomposed d = decompose(value);
    std::to_chars_result result;
    if (special(d, first, last, result))
        return result;
    char text[40];
    int n = 0;
    if (d.negative)
        text[n++] = '-';
    if (d.mantissa == 0) {
        text[n++] = '0';
        return copy_out(first, last, text, n);
    }
    char digits[20];
    int k;
    int count = shortest_digits(d.mantissa, d.exponent, digits, k);
    // Lengths of the two forms (the sign is common): fixed, and d[.ddd]e+XX.
    int fixed_length = k >= count ? k : k > 0 ? count + 1 : 2 - k + count;
    int exponent = k - 1;
    int exponent_abs = exponent < 0 ? -exponent : exponent;
    int exponent_digits = exponent_abs >= 100 ? 3 : 2;
    int scientific_length = count + (count > 1 ? 1 : 0) + 2 + exponent_digits;
    if (fixed_length <= scientific_length) {
        if (k > count) {
            // Every form of this length reads back the same, so the one nearest the value is
            // asked for: the integer's exact digits, not the shortest ones and zeros.
            Big exact(d.mantissa);
            if (d.exponent >= 0)
                exact.shift_left(d.exponent);
            else
                exact.shift_right(-d.exponent);
            n += exact.to_decimal(text + n);
        } else if (k == count) {
            std::memcpy(text + n, digits, size_t(count));
            n += count;
        } else if (k > 0) {
            std::memcpy(text + n, digits, size_t(k));
            n += k;
            text[n++] = '.';
            std::memcpy(text + n, digits + k, size_t(count - k));
            n += count - k;
        } else {
            text[n++] = '0';
            text[n++] = '.';
            for (int i = 0; i < -k; ++i)
                text[n++] = '0';
            std::memcpy(text + n, digits, size_t(count));
            n += count;
        }
    } else {
        text[n++] = digits[0];
        if (count > 1) {
            text[n++] = '.';
            std::memcpy(text + n, digits + 1, size_t(count - 1));
            n += count - 1;
        }
        text[n++] = 'e';
        text[n++] = exponent < 0 ? '-' : '+';
        if (exponent_digits == 3)
            text[n++] = char('0' + exponent_abs / 100);
        text[n++] = char('0' + exponent_abs / 10 % 10);
        text[n++] = char('0' + exponent_abs % 10);
    }
    return copy_out(first, last, text, n);
}

std::to_chars_result to_chars_fixed(char* first, char* last, double value, int precision)
{
    Decomposed d = decompose(value);
    std::to_chars_result result;
    if (special(d, first, last, result))
        return result;
    if (precision < 0)
        precision = 6;
    // A double has at most 1074 digits after the point; beyond them come zeros.
    int exact = precision < 1074 ? precision : 1074;
    Big n(d.mantissa);
    if (d.exponent >= 0) {
        exact = 0; // an integer: every digit after the point is 0
        n.shift_left(d.exponent);
    } else {
        n.mul_pow10(exact);
        int shift = -d.exponent;
        bool half = n.bit(shift - 1);
        bool below_half = n.any_below(shift - 1);
        n.shift_right(shift);
        // Round to nearest, ties to even, as printf does.
        if (half && (below_half || (!n.is_zero() && n.bit(0))))
            n.add_small(1);
    }
    static char digits[1400];
    int count = n.to_decimal(digits);
    // The integer part is what stands before the last `exact` digits.
    int integer_digits = count > exact ? count - exact : 0;
    int total = (d.negative ? 1 : 0) + (integer_digits ? integer_digits : 1) + (precision ? 1 + precision : 0);
    if (last - first < total)
        return too_large(last);
    char* p = first;
    if (d.negative)
        *p++ = '-';
    if (integer_digits) {
        std::memcpy(p, digits, size_t(integer_digits));
        p += integer_digits;
    } else {
        *p++ = '0';
    }
    if (precision) {
        *p++ = '.';
        int leading_zeros = exact - (count - integer_digits);
        for (int i = 0; i < leading_zeros; ++i)
            *p++ = '0';
        std::memcpy(p, digits + integer_digits, size_t(count - integer_digits));
        p += count - integer_digits;
        for (int i = exact; i < precision; ++i)
            *p++ = '0';
    }
    return { p, std::errc {} };
}

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool starts_with_word(const char* p, const char* last, const char* word)
{
    for (; *word; ++word, ++p) {
        if (p == last || lower(*p) != *word)
            return false;
    }
    return true;
}

// The double nearest to q * 2^x (q normalised to bit 63 set, sticky: something nonzero below),
// ties to even. False on overflow and on underflow to zero.
bool round_to_double(u64 q, int x, bool sticky, double& out)
{
    int lead = x + 63;
    if (lead > 1023)
        return false;
    int shift = lead >= -1022 ? 11 : 11 + (-1022 - lead);
    u64 mantissa;
    bool up;
    if (shift >= 65) {
        mantissa = 0;
        up = false;
    } else {
        mantissa = shift == 64 ? 0 : q >> shift;
        u64 dropped = shift == 64 ? q : q & ((u64(1) << shift) - 1);
        u64 half = u64(1) << (shift - 1);
        up = dropped > half || (dropped == half && (sticky || (mantissa & 1)));
    }
    mantissa += up ? 1 : 0;
    u64 bits;
    if (lead >= -1022) {
        u64 biased = u64(lead + 1023);
        if (mantissa == (u64(1) << 53)) {
            mantissa >>= 1;
            ++biased;
        }
        if (biased >= 2047)
            return false;
        bits = (biased << 52) | (mantissa & ((u64(1) << 52) - 1));
    } else {
        bits = mantissa; // a subnormal; 2^52 after rounding is the smallest normal
    }
    if (bits == 0)
        return false;
    std::memcpy(&out, &bits, sizeof out);
    return true;
}

} // namespace

std::from_chars_result from_chars_double(const char* first, const char* last, double& value, std::chars_format fmt)
{
    const char* p = first;
    bool negative = false;
    if (p != last && *p == '-') {
        negative = true;
        ++p;
    }
    if (p != last && (lower(*p) == 'i' || lower(*p) == 'n')) {
        double special_value;
        const char* end;
        if (starts_with_word(p, last, "infinity")) {
            end = p + 8;
            special_value = __builtin_inf();
        } else if (starts_with_word(p, last, "inf")) {
            end = p + 3;
            special_value = __builtin_inf();
        } else if (starts_with_word(p, last, "nan")) {
            end = p + 3;
            special_value = __builtin_nan("");
            // nan(n-char-sequence)
            if (end != last && *end == '(') {
                const char* q = end + 1;
                while (q != last && ((*q >= '0' && *q <= '9') || (lower(*q) >= 'a' && lower(*q) <= 'z') || *q == '_'))
                    ++q;
                if (q != last && *q == ')')
                    end = q + 1;
            }
        } else {
            return { first, std::errc::invalid_argument };
        }
        value = negative ? -special_value : special_value;
        return { end, std::errc {} };
    }
    if (fmt == std::chars_format::hex)
        return { first, std::errc::invalid_argument }; // not provided on the image

    // Significant digits (leading zeros dropped), at most max_digits of them: beyond 800
    // digits only whether the rest is zero matters, which one more digit records.
    constexpr int max_digits = 800;
    static char digits[max_digits + 1];
    int count = 0;
    int exponent10 = 0; // value = digits * 10^exponent10
    bool any_digit = false, dropped_nonzero = false;
    for (; p != last && *p >= '0' && *p <= '9'; ++p) {
        any_digit = true;
        if (count == 0 && *p == '0')
            continue;
        if (count < max_digits)
            digits[count++] = *p;
        else {
            ++exponent10;
            dropped_nonzero |= *p != '0';
        }
    }
    if (p != last && *p == '.') {
        const char* after_point = p + 1;
        const char* q = after_point;
        for (; q != last && *q >= '0' && *q <= '9'; ++q) {
            any_digit = true;
            if (count == 0 && *q == '0') {
                --exponent10;
                continue;
            }
            if (count < max_digits) {
                digits[count++] = *q;
                --exponent10;
            } else {
                dropped_nonzero |= *q != '0';
            }
        }
        if (any_digit)
            p = q;
    }
    if (!any_digit)
        return { first, std::errc::invalid_argument };
    bool allow_exponent = fmt != std::chars_format::fixed;
    bool need_exponent = fmt == std::chars_format::scientific;
    if (allow_exponent && p != last && (*p == 'e' || *p == 'E')) {
        const char* q = p + 1;
        bool exponent_negative = false;
        if (q != last && (*q == '+' || *q == '-')) {
            exponent_negative = *q == '-';
            ++q;
        }
        if (q != last && *q >= '0' && *q <= '9') {
            long e = 0;
            for (; q != last && *q >= '0' && *q <= '9'; ++q) {
                if (e < 100000)
                    e = e * 10 + (*q - '0');
            }
            exponent10 += int(exponent_negative ? -e : e);
            p = q;
        } else if (need_exponent) {
            return { first, std::errc::invalid_argument };
        }
    } else if (need_exponent) {
        return { first, std::errc::invalid_argument };
    }
    if (dropped_nonzero)
        digits[count++] = '1';

    if (count == 0) {
        value = negative ? -0.0 : 0.0;
        return { p, std::errc {} };
    }
    // value = digits * 10^exponent10, with count digits: its magnitude is 10^(count+exponent10).
    if (count + exponent10 > 310)
        return { p, std::errc::result_out_of_range };
    if (count + exponent10 < -326)
        return { p, std::errc::result_out_of_range };
    Big n;
    for (int i = 0; i < count; ++i) {
        n.mul_small(10);
        n.add_small(u32(digits[i] - '0'));
    }
    u64 q;
    int x;
    bool sticky;
    if (exponent10 >= 0) {
        n.mul_pow10(exponent10);
        int bits = n.bits();
        if (bits <= 64) {
            q = n.bits_from(0) << (64 - bits);
            x = bits - 64;
            sticky = false;
        } else {
            q = n.bits_from(bits - 64);
            x = bits - 64;
            sticky = n.any_below(bits - 64);
        }
    } else {
        // q = n * 2^s / 10^-exponent10, with s chosen so that q has 64 or 65 bits.
        Big divisor(1);
        divisor.mul_pow10(-exponent10);
        int s = 64 + divisor.bits() - n.bits();
        if (s > 0)
            n.shift_left(s);
        else
            divisor.shift_left(-s);
        q = 0;
        bool carry = false; // a 65th quotient bit
        for (int i = 64; i >= 0; --i) {
            Big shifted = divisor;
            shifted.shift_left(i);
            if (compare(n, shifted) >= 0) {
                n.subtract(shifted);
                if (i == 64)
                    carry = true;
                else
                    q |= u64(1) << i;
            }
        }
        sticky = !n.is_zero();
        x = -s;
        if (carry) {
            sticky |= q & 1;
            q = (q >> 1) | (u64(1) << 63);
            ++x;
        }
        // Normalise: the top bit of q set.
        while (!(q >> 63)) {
            q <<= 1;
            --x;
        }
    }
    double result;
    if (!round_to_double(q, x, sticky, result))
        return { p, std::errc::result_out_of_range };
    value = negative ? -result : result;
    return { p, std::errc {} };
}

} // namespace sarab::platform::virtio::chars

namespace SARAB_CHARS_NAMESPACE {

using namespace sarab::platform::virtio::chars;

std::to_chars_result to_chars(char* first, char* last, double value) noexcept { return to_chars_shortest(first, last, value); }

std::to_chars_result to_chars(char* first, char* last, double value, std::chars_format fmt, int precision) noexcept
{
    if (fmt == std::chars_format::fixed)
        return to_chars_fixed(first, last, value, precision);
    // Not needed by Sarab yet; a message beats a silently different result.
#ifdef SARAB_FLOAT_CHARS_TEST
    __builtin_trap();
#else
    sarab::platform::abort("std::to_chars(double) with a precision: only chars_format::fixed is provided on virtio");
#endif
}

std::from_chars_result from_chars(const char* first, const char* last, double& value, std::chars_format fmt) noexcept
{
    return from_chars_double(first, last, value, fmt);
}

} // namespace SARAB_CHARS_NAMESPACE
