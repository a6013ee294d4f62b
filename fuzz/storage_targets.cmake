# Storage: the read-write store's reading of a disk (a disk is outside bytes: whatever the
# machine or a previous image left there). disk_store.cpp is compiled again with coverage;
# disk_store_device.cpp, which needs the platform, is left out.
add_library(sarab_storage_fuzz STATIC "${PROJECT_SOURCE_DIR}/src/storage/disk_store.cpp")
sarab_library_flags(sarab_storage_fuzz)
target_compile_options(sarab_storage_fuzz PRIVATE ${sarab_fuzz_compile_flags} -fno-sanitize=vptr)
target_link_libraries(sarab_storage_fuzz PUBLIC sarab_base)

sarab_add_fuzzer(disk_store_fuzz SOURCES disk_store_fuzz.cpp LIBRARIES sarab_storage_fuzz)
target_compile_options(disk_store_fuzz PRIVATE -fno-sanitize=vptr)
