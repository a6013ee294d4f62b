# CMake functions behind the `sarab` command.

# Flags for Sarab's own library code: C++20, no exceptions, no RTTI, warnings are errors.
function(sarab_library_flags target)
    target_include_directories(${target} PUBLIC "${PROJECT_SOURCE_DIR}/include")
    # Sections per function let the linker drop what an image does not use.
    target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -fno-exceptions -fno-rtti
        -ffunction-sections -fdata-sections)
    set(level_trace 0)
    set(level_debug 1)
    set(level_info 2)
    set(level_warn 3)
    set(level_error 4)
    target_compile_definitions(${target} PUBLIC SARAB_LOG_MIN_LEVEL=${level_${SARAB_LOG_MIN_LEVEL}})
endfunction()

# Code generation for the virtio image, applied to every target of a virtio build (library,
# platform and application alike), so that the same sources build for both targets:
# no position independence (the image is linked at a fixed address), no stack protector or
# CET (nothing on the image sets them up), frame pointers (the exception report walks them),
# and no unwind tables (no exceptions; gdb reads .debug_frame). The red zone stays: every
# interrupt and exception runs on an IST stack, so it never writes below an interrupted
# rsp (docs/virtio.md).
macro(sarab_virtio_flags)
    execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libstdc++.a
        OUTPUT_VARIABLE SARAB_LIBSTDCXX_ARCHIVE OUTPUT_STRIP_TRAILING_WHITESPACE)
    add_compile_options(
        -fno-pic -fno-pie -fno-stack-protector -fno-stack-clash-protection
        -fcf-protection=none -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer
        -fno-asynchronous-unwind-tables -fno-unwind-tables
        "$<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions;-fno-rtti>")
endmacro()

# sarab_add_unikernel(NAME SOURCES file...)
#
# An application: its sources, linked with the runtime and the platform of SARAB_TARGET. The
# artifact goes to <build>/apps/NAME/NAME. NAME is the application folder's name.
function(sarab_add_unikernel name)
    cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
    if(NOT ARG_SOURCES)
        message(FATAL_ERROR "sarab_add_unikernel(${name}) needs SOURCES")
    endif()
    if(SARAB_TARGET STREQUAL "virtio")
        sarab_add_virtio_image(${name} ${ARG_SOURCES})
        return()
    endif()
    add_executable(${name} ${ARG_SOURCES}
        $<TARGET_OBJECTS:sarab_platform_${SARAB_TARGET}>
        $<TARGET_OBJECTS:sarab_platform_${SARAB_TARGET}_main>
        $<TARGET_OBJECTS:sarab_net_socket>
        $<TARGET_OBJECTS:sarab_storage_hosted>)
    target_link_libraries(${name} PRIVATE sarab_storage sarab_net sarab_runtime)
    sarab_library_flags(${name})
    # Only what the application uses stays in the image; -rdynamic names the functions in a
    # hosted backtrace.
    target_link_options(${name} PRIVATE -Wl,--gc-sections -rdynamic)
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/apps/${name}")
endfunction()

# A library of one translation unit per public header, each including only that header.
function(sarab_check_headers target include_dir)
    file(GLOB_RECURSE headers RELATIVE "${include_dir}" "${include_dir}/*.hpp")
    set(sources)
    foreach(header IN LISTS headers)
        string(MAKE_C_IDENTIFIER "${header}" id)
        set(source "${CMAKE_CURRENT_BINARY_DIR}/check_headers/${id}.cpp")
        set(content "#include <${header}>\n")
        if(EXISTS "${source}")
            file(READ "${source}" old)
        else()
            set(old "")
        endif()
        if(NOT old STREQUAL content)
            file(WRITE "${source}" "${content}")
        endif()
        list(APPEND sources "${source}")
    endforeach()
    add_library(${target} OBJECT ${sources})
    sarab_library_flags(${target})
endfunction()

# The virtio image of application NAME: a static, non-PIE ELF at a fixed address, laid out by
# src/platform/virtio/image.ld (text RX, rodata R, data and bss RW, each its own segment), with
# the PVH note QEMU, Firecracker and Cloud Hypervisor boot from. Nothing of the host's C library
# is linked: the image's C runtime is src/platform/virtio/; libgcc supplies compiler helpers.
function(sarab_add_virtio_image name)
    set(linker_script "${PROJECT_SOURCE_DIR}/src/platform/virtio/image.ld")
    # The image's name for messages and --help, as argv[0] is on hosted.
    set(name_source "${CMAKE_CURRENT_BINARY_DIR}/${name}_image_name.cpp")
    set(content "extern \"C\" const char sarab_image_name[] = \"${name}\";\n")
    if(EXISTS "${name_source}")
        file(READ "${name_source}" old)
    else()
        set(old "")
    endif()
    if(NOT old STREQUAL content)
        file(WRITE "${name_source}" "${content}")
    endif()
    add_executable(${name} ${ARGN} "${name_source}"
        $<TARGET_OBJECTS:sarab_platform_virtio>
        $<TARGET_OBJECTS:sarab_platform_virtio_main>)
    target_link_libraries(${name} PRIVATE sarab_storage sarab_net sarab_runtime)
    sarab_library_flags(${name})
    target_link_options(${name} PRIVATE -nostdlib -static -no-pie
        "-Wl,-T,${linker_script}" -Wl,--gc-sections -Wl,-z,max-page-size=4096
        -Wl,-z,noexecstack -Wl,--build-id=none -Wl,--no-warn-rwx-segments)
    # Then libstdc++'s own archive, from which the linker takes only the members that define
    # what is still missing (red-black tree balancing for std::map, hashing and the rehash
    # policy for std::unordered_map; self-contained code); the image's runtime comes first, so
    # its operator new, std::__throw_* and to_chars are the ones used. libgcc last: compiler
    # helpers (128-bit division) may be needed by anything.
    target_link_libraries(${name} PRIVATE sarab_platform_common sarab_base "${SARAB_LIBSTDCXX_ARCHIVE}" gcc)
    set_target_properties(${name} PROPERTIES
        RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/apps/${name}"
        LINK_DEPENDS "${linker_script}")
endfunction()
