// storecat: prints every entry of the read-only store "files" as KEY SIZE FIRST-LINE, to test
// stores bound at boot (sarab run --kv) and compiled in (sarab build --kv).
#include <sarab/app.hpp>
#include <sarab/storage/store.hpp>

namespace {
sarab::storage::ReadOnlyStore files { "files", "the files to list" };
}

sarab::Task<int> sarab::app_main()
{
    for (const storage::Entry& e : files.entries()) {
        std::string_view text(reinterpret_cast<const char*>(e.data.data()), e.data.size());
        println("{} {} {}", e.key, e.data.size(), text.substr(0, text.find('\n')));
    }
    co_return 0;
}
