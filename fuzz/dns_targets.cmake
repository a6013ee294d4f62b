# DNS (issue 5): the message parser, with the server's answer to whatever arrives, and the
# zone-file parser. The DNS sources are compiled again with coverage, as net/wire's are;
# loader.cpp is left out, being the only one that needs the storage layer.
file(GLOB dns_fuzz_sources CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/src/services/dns/*.cpp")
list(REMOVE_ITEM dns_fuzz_sources "${PROJECT_SOURCE_DIR}/src/services/dns/loader.cpp")
add_library(sarab_dns_fuzz STATIC ${dns_fuzz_sources})
sarab_library_flags(sarab_dns_fuzz)
target_compile_options(sarab_dns_fuzz PRIVATE ${sarab_fuzz_compile_flags})
target_link_libraries(sarab_dns_fuzz PUBLIC sarab_base)

sarab_add_fuzzer(dns_message_fuzz SOURCES dns_message_fuzz.cpp LIBRARIES sarab_dns_fuzz)
sarab_add_fuzzer(dns_zone_fuzz SOURCES dns_zone_fuzz.cpp LIBRARIES sarab_dns_fuzz)

# UBSan's vptr check needs RTTI, which library code is built without: std::shared_ptr's
# control block (the server keeps zones in them) would be reported as a false positive.
target_compile_options(sarab_dns_fuzz PRIVATE -fno-sanitize=vptr)
target_compile_options(dns_message_fuzz PRIVATE -fno-sanitize=vptr)
target_compile_options(dns_zone_fuzz PRIVATE -fno-sanitize=vptr)
