// Hosted images can read a store from a directory when they start: --dev=NAME=dir:PATH
// (which `sarab run --kv NAME=PATH` passes). The whole tree is read into memory, so the
// image sees one immutable snapshot, as it would with the contents compiled in. Symbolic
// links are followed; anything that is neither a file nor a directory is skipped; a name
// that could not be a valid key (a NUL, say) makes opening fail.
#include <sarab/base/log.hpp>
#include <sarab/platform/hosted.hpp>
#include <sarab/storage/store.hpp>

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace sarab::storage {

namespace {

log::Source g_log { "storage" };

bool read_file(const std::string& path, std::vector<std::byte>& out)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    if (::fstat(fd, &st) < 0) {
        ::close(fd);
        return false;
    }
    out.resize(usize(st.st_size));
    usize done = 0;
    while (done < out.size()) {
        ssize_t n = ::read(fd, out.data() + done, out.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += usize(n);
    }
    ::close(fd);
    out.resize(done);
    return true;
}

bool walk(const std::string& root, const std::string& relative, OwnedContents& contents, FormatBuffer& error, int depth)
{
    if (depth > 32) {
        format_to(error, "{}: directories nested too deep (a symbolic link loop?)", root);
        return false;
    }
    std::string path = relative.empty() ? root : root + "/" + relative;
    DIR* dir = ::opendir(path.c_str());
    if (!dir) {
        format_to(error, "cannot read directory {}: {}", path, std::strerror(errno));
        return false;
    }
    bool ok = true;
    while (dirent* e = ::readdir(dir)) {
        std::string name = e->d_name;
        if (name == "." || name == "..")
            continue;
        std::string key = relative.empty() ? name : relative + "/" + name;
        std::string full = root + "/" + key;
        struct stat st;
        if (::stat(full.c_str(), &st) < 0)
            continue; // a dangling link
        if (S_ISDIR(st.st_mode)) {
            ok = walk(root, key, contents, error, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            if (!is_valid_key(key)) {
                format_to(error, "{}: not a usable key", full);
                ok = false;
            } else {
                std::vector<std::byte> data;
                if (!read_file(full, data)) {
                    format_to(error, "cannot read {}: {}", full, std::strerror(errno));
                    ok = false;
                } else {
                    contents.add(key, std::move(data), i64(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec);
                }
            }
        }
        if (!ok)
            break;
    }
    ::closedir(dir);
    return ok;
}

std::unique_ptr<StoreContents> load_directory(std::string_view name, FormatBuffer& error)
{
    std::string_view binding = platform::hosted::binding_of(name);
    if (binding.substr(0, 4) != "dir:")
        return nullptr;
    std::string root(binding.substr(4));
    while (root.size() > 1 && root.back() == '/')
        root.pop_back();
    auto contents = std::make_unique<OwnedContents>();
    if (!walk(root, "", *contents, error, 0))
        return nullptr;
    contents->finish();
    log::debug(g_log, "store '{}': {} entries read from {}", name, contents->entries().size(), root);
    return contents;
}

[[maybe_unused]] const bool g_registered = [] {
    detail::register_loader(&load_directory, 0);
    return true;
}();

} // namespace

} // namespace sarab::storage
