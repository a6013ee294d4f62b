# Boot arguments (issue 3): the words an image is started with come from outside it (the VMM's
# command line, a hosted run's argv). The parser of --name=value words and its value parsers
# (src/base/boot_args.cpp), and the virtio kernel command line's word classifier and
# virtio_mmio.device= parser (src/platform/virtio/command_line.cpp), compiled again with
# coverage, as net/wire's are.
add_library(sarab_boot_fuzz STATIC
    "${PROJECT_SOURCE_DIR}/src/base/boot_args.cpp"
    "${PROJECT_SOURCE_DIR}/src/platform/virtio/command_line.cpp")
sarab_library_flags(sarab_boot_fuzz)
target_compile_options(sarab_boot_fuzz PRIVATE ${sarab_fuzz_compile_flags})
target_link_libraries(sarab_boot_fuzz PUBLIC sarab_base)

sarab_add_fuzzer(boot_args_fuzz SOURCES boot_args_fuzz.cpp LIBRARIES sarab_boot_fuzz)
target_include_directories(boot_args_fuzz PRIVATE "${PROJECT_SOURCE_DIR}/src/platform/virtio")
