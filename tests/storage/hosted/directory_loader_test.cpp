// A store read from a directory on hosted: --dev=NAME=dir:PATH.
#include <sarab/base/boot_args.hpp>
#include <sarab/platform/hosted.hpp>
#include <sarab/storage/store.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace sarab;
using namespace sarab::storage;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, std::string_view content)
{
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
}

// Binds `name` to `dir` the way the command line would, by parsing --dev.
void bind_store(const std::string& name, const std::string& dir)
{
    static std::vector<std::string> keep; // the platform keeps views into these
    keep.push_back("--dev=" + name + "=dir:" + dir);
    std::vector<std::string_view> words { keep.back() };
    InlineFormatBuffer<256> error;
    ASSERT_EQ(parse_boot_arguments(words, error), ParseOutcome::ok) << error.view();
}

} // namespace

TEST(DirectoryStore, ReadsTheWholeTree)
{
    fs::path root = fs::path(::testing::TempDir()) / "sarab-store-tree";
    fs::remove_all(root);
    write(root / "index.html", "home");
    write(root / "css" / "site.css", "body{}");
    write(root / "deep" / "er" / "file.txt", "deep");
    fs::create_directories(root / "empty");
    bind_store("test-tree", root.string());

    ASSERT_EQ(platform::hosted::binding_of("test-tree"), "dir:" + root.string());
    ReadOnlyStore store { "test-tree", "test" };
    InlineFormatBuffer<256> error;
    ASSERT_TRUE(store.open_declared(error)) << error.view();
    EXPECT_EQ(store.size(), 3u);
    ASSERT_NE(store.find("deep/er/file.txt"), nullptr);
    EXPECT_EQ(store.find("deep/er/file.txt")->data.size(), 4u);
    EXPECT_GT(store.find("index.html")->modified_ns, 0);
    EXPECT_EQ(store.with_prefix("css/").size(), 1u);
    fs::remove_all(root);
}

TEST(DirectoryStore, AMissingDirectoryIsAClearError)
{
    bind_store("test-missing", "/nonexistent/sarab-store");
    ReadOnlyStore store { "test-missing", "test" };
    InlineFormatBuffer<256> error;
    auto opened = store.open_declared(error);
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error(), OpenError::unavailable);
    EXPECT_NE(error.view().find("cannot read directory /nonexistent/sarab-store"), std::string_view::npos) << error.view();
}
