#include <sarab/services/http/date.hpp>

#include <sarab/base/time.hpp>

namespace sarab::http {

namespace {

constexpr std::string_view g_days[7] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" }; // 1970-01-01 was a Thursday
constexpr std::string_view g_months[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
constexpr std::string_view g_long_days[7] = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday" };

struct Civil {
    i64 year;
    int month; // 1..12
    int day;   // 1..31
};

// Days since 1970-01-01 to a proleptic Gregorian date, counting in 400-year eras that start
// on 1 March, so that the leap day is the last day of a (shifted) year.
Civil civil_from_days(i64 days)
{
    days += 719468; // from 1970-01-01 to 0000-03-01
    i64 era = (days >= 0 ? days : days - 146096) / 146097;
    i64 day_of_era = days - era * 146097;
    i64 year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    i64 day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    i64 shifted_month = (5 * day_of_year + 2) / 153; // 0 is March
    int day = int(day_of_year - (153 * shifted_month + 2) / 5 + 1);
    int month = int(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
    i64 year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
    return { year, month, day };
}

// The inverse: a date to days since 1970-01-01.
i64 days_from_civil(i64 year, int month, int day)
{
    year -= month <= 2 ? 1 : 0;
    i64 era = (year >= 0 ? year : year - 399) / 400;
    i64 year_of_era = year - era * 400;
    i64 shifted_month = month > 2 ? month - 3 : month + 9;
    i64 day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    i64 day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

bool is_leap(i64 year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(i64 year, int month)
{
    constexpr int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

void put2(char* at, int v)
{
    at[0] = char('0' + v / 10);
    at[1] = char('0' + v % 10);
}

// A small cursor for the three date forms.
class Scanner {
public:
    explicit Scanner(std::string_view s)
        : m_text(s)
    {
    }
    bool literal(std::string_view s)
    {
        if (m_text.substr(0, s.size()) != s)
            return false;
        m_text.remove_prefix(s.size());
        return true;
    }
    // Exactly `n` digits.
    bool digits(usize n, int& out)
    {
        if (m_text.size() < n)
            return false;
        int v = 0;
        for (usize i = 0; i < n; ++i) {
            char c = m_text[i];
            if (c < '0' || c > '9')
                return false;
            v = v * 10 + (c - '0');
        }
        m_text.remove_prefix(n);
        out = v;
        return true;
    }
    bool month(int& out)
    {
        for (int i = 0; i < 12; ++i) {
            if (literal(g_months[i])) {
                out = i + 1;
                return true;
            }
        }
        return false;
    }
    bool day_name(bool long_form)
    {
        for (int i = 0; i < 7; ++i) {
            if (literal(long_form ? g_long_days[i] : g_days[i]))
                return true;
        }
        return false;
    }
    bool time(int& h, int& m, int& s) { return digits(2, h) && literal(":") && digits(2, m) && literal(":") && digits(2, s); }
    bool at_end() const { return m_text.empty(); }
    std::string_view rest() const { return m_text; }

private:
    std::string_view m_text;
};

std::optional<i64> to_seconds(i64 year, int month, int day, int h, int m, int s)
{
    if (year < 1970 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || h > 23 || m > 59 || s > 60)
        return std::nullopt;
    return days_from_civil(year, month, day) * 86400 + h * 3600 + m * 60 + (s == 60 ? 59 : s);
}

} // namespace

std::string_view format_http_date(i64 seconds, std::array<char, http_date_length>& out)
{
    if (seconds < 0)
        seconds = 0;
    i64 days = seconds / 86400;
    int in_day = int(seconds % 86400);
    Civil c = civil_from_days(days);
    char* p = out.data();
    std::string_view day = g_days[days % 7];
    std::string_view month = g_months[c.month - 1];
    p[0] = day[0], p[1] = day[1], p[2] = day[2], p[3] = ',', p[4] = ' ';
    put2(p + 5, c.day);
    p[7] = ' ';
    p[8] = month[0], p[9] = month[1], p[10] = month[2], p[11] = ' ';
    i64 year = c.year > 9999 ? 9999 : c.year;
    put2(p + 12, int(year / 100));
    put2(p + 14, int(year % 100));
    p[16] = ' ';
    put2(p + 17, in_day / 3600);
    p[19] = ':';
    put2(p + 20, in_day / 60 % 60);
    p[22] = ':';
    put2(p + 23, in_day % 60);
    p[25] = ' ', p[26] = 'G', p[27] = 'M', p[28] = 'T';
    return { out.data(), out.size() };
}

std::optional<i64> parse_http_date(std::string_view text)
{
    int day = 0, month = 0, year = 0, h = 0, m = 0, s = 0;
    {
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        Scanner in(text);
        if (in.day_name(false) && in.literal(", ") && in.digits(2, day) && in.literal(" ") && in.month(month) && in.literal(" ")
            && in.digits(4, year) && in.literal(" ") && in.time(h, m, s) && in.literal(" GMT") && in.at_end())
            return to_seconds(year, month, day, h, m, s);
    }
    {
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT; a two-digit year more than 50 years in the
        // future is in the past (RFC 9110 5.6.7).
        Scanner in(text);
        int yy = 0;
        if (in.day_name(true) && in.literal(", ") && in.digits(2, day) && in.literal("-") && in.month(month) && in.literal("-")
            && in.digits(2, yy) && in.literal(" ") && in.time(h, m, s) && in.literal(" GMT") && in.at_end()) {
            i64 now_days = std::chrono::duration_cast<std::chrono::seconds>(WallClock::now().time_since_epoch()).count() / 86400;
            i64 now_year = civil_from_days(now_days).year;
            i64 full = now_year / 100 * 100 + yy;
            if (full > now_year + 50)
                full -= 100;
            return to_seconds(full, month, day, h, m, s);
        }
    }
    {
        // asctime: Sun Nov  6 08:49:37 1994
        Scanner in(text);
        if (in.day_name(false) && in.literal(" ") && in.month(month) && in.literal(" ")) {
            bool ok = in.literal(" ") ? in.digits(1, day) : in.digits(2, day);
            if (ok && in.literal(" ") && in.time(h, m, s) && in.literal(" ") && in.digits(4, year) && in.at_end())
                return to_seconds(year, month, day, h, m, s);
        }
    }
    return std::nullopt;
}

std::string_view DateCache::now() { return at(std::chrono::duration_cast<std::chrono::seconds>(WallClock::now().time_since_epoch()).count()); }

std::string_view DateCache::at(i64 seconds)
{
    if (seconds != m_second) {
        format_http_date(seconds, m_text);
        m_second = seconds;
    }
    return { m_text.data(), m_text.size() };
}

} // namespace sarab::http
