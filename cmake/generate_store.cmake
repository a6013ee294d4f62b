# cmake -DSTORE_NAME=NAME -DSTORE_DIR=DIR -DOUTPUT=FILE.cpp -P generate_store.cmake
#
# Writes a C++ source that embeds every file under DIR (with .incbin: the bytes go into the
# object file as they are, however large) and registers them as the compiled-in contents of
# the read-only store NAME (include/sarab/storage/compiled.hpp). Keys are the paths relative
# to DIR, sorted as the store expects.
if(NOT STORE_NAME OR NOT STORE_DIR OR NOT OUTPUT)
    message(FATAL_ERROR "generate_store.cmake needs STORE_NAME, STORE_DIR and OUTPUT")
endif()
if(NOT IS_DIRECTORY "${STORE_DIR}")
    message(FATAL_ERROR "store ${STORE_NAME}: ${STORE_DIR} is not a directory")
endif()
file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE "${STORE_DIR}" "${STORE_DIR}/*")
list(SORT files COMPARE STRING)

string(MAKE_C_IDENTIFIER "${STORE_NAME}" id)
set(asm "")
set(decls "")
set(entries "")
set(index 0)
foreach(key IN LISTS files)
    if(key MATCHES "[\n\r\"\\\\]")
        message(FATAL_ERROR "store ${STORE_NAME}: cannot embed '${key}': quotes, backslashes and line breaks are not allowed in names")
    endif()
    set(path "${STORE_DIR}/${key}")
    file(SIZE "${path}" size)
    file(TIMESTAMP "${path}" mtime "%s" UTC)
    if(NOT mtime)
        set(mtime 0)
    endif()
    set(label "sarab_store_${id}_${index}")
    string(APPEND asm "    \"${label}: .incbin \\\"${path}\\\"\\n\"\n")
    string(APPEND decls "extern \"C\" const std::byte ${label}[];\n")
    string(APPEND entries "    { \"${key}\", ${label}, ${size}u, ${mtime}'000'000'000ll },\n")
    math(EXPR index "${index} + 1")
endforeach()
list(LENGTH files count)
if(count EQUAL 0)
    set(entries "    { \"\", nullptr, 0, 0 },\n") # arrays cannot be empty; count stays 0
endif()

set(content "// Generated from ${STORE_DIR} for the store '${STORE_NAME}'. Do not edit.
#include <sarab/storage/compiled.hpp>

__asm__(\".pushsection .rodata.sarab_store_${id},\\\"a\\\",@progbits\\n\"
    \".balign 16\\n\"
${asm}    \".popsection\\n\");

${decls}
namespace {

const sarab::storage::CompiledEntry g_entries[] = {
${entries}};

sarab::storage::CompiledStore g_store { \"${STORE_NAME}\", g_entries, ${count}u };

[[maybe_unused]] const bool g_registered = [] {
    sarab::storage::register_compiled_store(g_store);
    return true;
}();

} // namespace
")
include("${CMAKE_CURRENT_LIST_DIR}/WriteIfChanged.cmake")
sarab_write_if_changed("${OUTPUT}" "${content}")
