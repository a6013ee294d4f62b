// HTTP service: dates (RFC 9110 5.6.7).
//
// Dates are sent in IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", always 29 characters) and
// read in all three forms a recipient must accept (IMF-fixdate, RFC 850, asctime). Times are
// whole seconds since the Unix epoch, UTC; dates before 1970 are refused. DateCache keeps the
// Date header of the current second, so a busy server formats it once a second, not once a
// response.
#pragma once

#include <sarab/base/types.hpp>

#include <array>
#include <optional>
#include <string_view>

namespace sarab::http {

inline constexpr usize http_date_length = 29;

// Writes the IMF-fixdate of `seconds` (since the epoch) into `out`.
std::string_view format_http_date(i64 seconds, std::array<char, http_date_length>& out);

// Seconds since the epoch of an HTTP-date in any of the three forms; nullopt if it is not one.
std::optional<i64> parse_http_date(std::string_view text);

class DateCache {
public:
    // The IMF-fixdate of the wall clock's current second.
    std::string_view now();
    // The same for a given time, for tests.
    std::string_view at(i64 seconds);

private:
    i64 m_second = -1;
    std::array<char, http_date_length> m_text {};
};

} // namespace sarab::http
