# HTTP (issue 6): the request parser with the field parsers behind it. Its sources are
# compiled again with coverage, as net/wire's are; the server and static files (which need
# the runtime and a store) are left out.
set(http_fuzz_sources
    "${PROJECT_SOURCE_DIR}/src/services/http/message.cpp"
    "${PROJECT_SOURCE_DIR}/src/services/http/parser.cpp"
    "${PROJECT_SOURCE_DIR}/src/services/http/date.cpp"
    "${PROJECT_SOURCE_DIR}/src/services/http/fields.cpp"
    "${PROJECT_SOURCE_DIR}/src/services/http/response.cpp"
    "${PROJECT_SOURCE_DIR}/src/services/http/router.cpp")
add_library(sarab_http_fuzz STATIC ${http_fuzz_sources})
sarab_library_flags(sarab_http_fuzz)
target_compile_options(sarab_http_fuzz PRIVATE ${sarab_fuzz_compile_flags})
target_link_libraries(sarab_http_fuzz PUBLIC sarab_base)

sarab_add_fuzzer(http_request_fuzz SOURCES http_request_fuzz.cpp LIBRARIES sarab_http_fuzz)
