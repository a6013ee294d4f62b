# CMake functions behind the `sarab` command.
include("${CMAKE_CURRENT_LIST_DIR}/WriteIfChanged.cmake")

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
# position-independent code as on hosted (-fpie, Debian's default), linked at a fixed address
# (-no-pie at link time). Not -fno-pie: GCC 12 then stores the addresses of coroutine
# functions in .rodata.cst8 constant pools outside their COMDAT group, which the linker
# rejects once it keeps another object's copy of the group. No stack protector or
# CET (nothing on the image sets them up), frame pointers (the exception report walks them),
# and no unwind tables (no exceptions; gdb reads .debug_frame). The red zone stays: every
# interrupt and exception runs on an IST stack, so it never writes below an interrupted
# rsp (docs/virtio.md).
macro(sarab_virtio_flags)
    execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libstdc++.a
        OUTPUT_VARIABLE SARAB_LIBSTDCXX_ARCHIVE OUTPUT_STRIP_TRAILING_WHITESPACE)
    sarab_virtio_math_archive()
    set(codegen -fno-stack-protector -fno-stack-clash-protection
        -fcf-protection=none -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer
        -fno-asynchronous-unwind-tables -fno-unwind-tables -g)
    add_compile_options(-fpie ${codegen} "$<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions;-fno-rtti>")
    # With link-time optimisation the code is generated when linking: the same flags there
    # (without them GCC writes no .debug_frame, which backtraces need).
    add_link_options(${codegen})
endmacro()

# Every service library is offered to every image; the linker keeps only what is used.
function(sarab_link_services target)
    foreach(service sarab_dns sarab_http)
        if(TARGET ${service})
            target_link_libraries(${target} PRIVATE ${service})
        endif()
    endforeach()
endfunction()

# sarab_add_store(TARGET NAME DIR): compiles the files under DIR into TARGET as the read-only
# store NAME (see cmake/generate_store.cmake). A new, changed or removed file under DIR
# rebuilds the image.
function(sarab_add_store target store dir)
    get_filename_component(dir "${dir}" ABSOLUTE)
    if(NOT IS_DIRECTORY "${dir}")
        message(FATAL_ERROR "store ${store} of ${target}: ${dir} is not a directory")
    endif()
    file(GLOB_RECURSE files CONFIGURE_DEPENDS LIST_DIRECTORIES false "${dir}/*")
    string(MAKE_C_IDENTIFIER "${store}" id)
    set(output "${CMAKE_CURRENT_BINARY_DIR}/${target}_store_${id}.cpp")
    add_custom_command(OUTPUT "${output}"
        COMMAND "${CMAKE_COMMAND}" -DSTORE_NAME=${store} "-DSTORE_DIR=${dir}" "-DOUTPUT=${output}"
            -P "${PROJECT_SOURCE_DIR}/cmake/generate_store.cmake"
        DEPENDS ${files} "${PROJECT_SOURCE_DIR}/cmake/generate_store.cmake"
        COMMENT "Compiling ${dir} into ${target} as the store ${store}"
        VERBATIM)
    # .incbin reads the files when the generated source is compiled. Not link-time optimised:
    # its data's labels are local to the assembly of this file, which LTO may split from
    # the code that refers to them.
    set_source_files_properties("${output}" PROPERTIES OBJECT_DEPENDS "${files}" COMPILE_OPTIONS "-fno-lto")
    target_sources(${target} PRIVATE "${output}")
endfunction()

# <cmath> on the image: the math functions of musl (Debian's musl-dev), copied out of its libc.a
# into an archive of their own, so that the image can never link musl's system-call wrappers
# by accident. musl's math needs nothing but itself (no errno, no locale); its members built
# with a stack protector find their canary where the platform puts one (%fs:0x28). Sets
# SARAB_MATH_ARCHIVE, empty without musl-dev (then a math call fails to link).
function(sarab_virtio_math_archive)
    set(musl_libc "/usr/lib/x86_64-linux-musl/libc.a")
    set(SARAB_MATH_ARCHIVE "" PARENT_SCOPE)
    if(NOT EXISTS "${musl_libc}")
        message(STATUS "musl-dev is not installed: <cmath> functions are not available on virtio images")
        return()
    endif()
    set(dir "${CMAKE_BINARY_DIR}/musl_math")
    set(archive "${dir}/libsarab_musl_math.a")
    if(NOT EXISTS "${archive}" OR "${musl_libc}" IS_NEWER_THAN "${archive}")
        execute_process(COMMAND ${CMAKE_AR} t "${musl_libc}" OUTPUT_VARIABLE members RESULT_VARIABLE failed)
        string(REPLACE "\n" ";" members "${members}")
        set(math)
        foreach(member IN LISTS members)
            if(member MATCHES "^(a?cosh?|a?sinh?|a?tanh?|atan2|cbrt|ceil|copysign|exp|exp2|expm1|fabs|fdim|floor|fma|fmax|fmin|fmod|frexp|hypot|ilogb|ldexp|lgamma|log|log10|log1p|log2|logb|l?l?rint|l?l?round|modf|nan|nearbyint|nextafter|nexttoward|pow|remainder|remquo|scalbl?n|sqrt|tgamma|trunc|erfc?|sincos)[fl]?\\.lo$"
                    OR member MATCHES "^__(math_|rem_pio2|sin|cos|tan|expo2|fpclassify|signbit|polevl|invtrig)"
                    OR member MATCHES "^[a-z0-9]+_data\\.lo$")
                list(APPEND math "${member}")
            endif()
        endforeach()
        file(REMOVE_RECURSE "${dir}")
        file(MAKE_DIRECTORY "${dir}")
        execute_process(COMMAND ${CMAKE_AR} x "${musl_libc}" ${math} WORKING_DIRECTORY "${dir}" RESULT_VARIABLE failed_x)
        execute_process(COMMAND ${CMAKE_AR} rcs "${archive}" ${math} WORKING_DIRECTORY "${dir}" RESULT_VARIABLE failed_rcs)
        if(failed OR failed_x OR failed_rcs)
            message(FATAL_ERROR "could not make ${archive} from ${musl_libc}")
        endif()
    endif()
    set(SARAB_MATH_ARCHIVE "${archive}" PARENT_SCOPE)
endfunction()

# sarab_add_unikernel(NAME SOURCES file... [STORES STORE=DIR...])
#
# An application: its sources, linked with the runtime and the platform of SARAB_TARGET. The
# artifact goes to <build>/apps/NAME/NAME. NAME is the application folder's name. STORES
# compiles directories in as read-only stores; `sarab build --kv STORE=DIR` (the cache
# variable SARAB_KV_<NAME>) adds more or replaces them.
function(sarab_add_unikernel name)
    cmake_parse_arguments(ARG "" "" "SOURCES;STORES" ${ARGN})
    if(NOT ARG_SOURCES)
        message(FATAL_ERROR "sarab_add_unikernel(${name}) needs SOURCES")
    endif()
    # Stores: the application's defaults, then those given to `sarab build --kv`.
    set(stores)
    foreach(spec IN LISTS ARG_STORES SARAB_KV_${name})
        string(FIND "${spec}" "=" eq)
        if(eq LESS 1)
            message(FATAL_ERROR "${name}: a store is STORE=DIR, not '${spec}'")
        endif()
        string(SUBSTRING "${spec}" 0 ${eq} store)
        math(EXPR after "${eq} + 1")
        string(SUBSTRING "${spec}" ${after} -1 dir)
        if(NOT IS_DIRECTORY "${dir}" AND NOT spec IN_LIST ARG_STORES)
            # Bound by an earlier `sarab build --kv` of this application, and gone since: a
            # build of another application in the same tree must not fail for it.
            message(WARNING "${name}: store ${store} was bound to ${dir}, which is gone; built without it")
            continue()
        endif()
        set(store_dir_${store} "${dir}")
        list(APPEND stores ${store})
    endforeach()
    list(REMOVE_DUPLICATES stores)
    set_property(GLOBAL APPEND PROPERTY SARAB_APPS ${name})
    if(SARAB_TARGET STREQUAL "virtio")
        sarab_add_virtio_image(${name} ${ARG_SOURCES})
    else()
        sarab_add_hosted_image(${name} ${ARG_SOURCES})
    endif()
    foreach(store IN LISTS stores)
        sarab_add_store(${name} ${store} "${store_dir_${store}}")
    endforeach()
endfunction()

function(sarab_add_hosted_image name)
    add_executable(${name} ${ARGN}
        $<TARGET_OBJECTS:sarab_platform_${SARAB_TARGET}>
        $<TARGET_OBJECTS:sarab_platform_${SARAB_TARGET}_main>
        $<TARGET_OBJECTS:sarab_net_socket>
        $<TARGET_OBJECTS:sarab_storage_hosted>)
    sarab_link_services(${name})
    target_link_libraries(${name} PRIVATE sarab_storage sarab_net sarab_runtime)
    sarab_library_flags(${name})
    # Only what the application uses stays in the image; -rdynamic names the functions in a
    # hosted backtrace.
    target_link_options(${name} PRIVATE -Wl,--gc-sections -rdynamic)
    if(SARAB_TARGET STREQUAL "sandbox")
        target_link_libraries(${name} PRIVATE "${SARAB_SECCOMP_LIBRARY}")
    endif()
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/apps/${name}")
endfunction()

# A library of one translation unit per public header, each including only that header.
function(sarab_check_headers target include_dir)
    file(GLOB_RECURSE headers RELATIVE "${include_dir}" "${include_dir}/*.hpp")
    set(sources)
    foreach(header IN LISTS headers)
        string(MAKE_C_IDENTIFIER "${header}" id)
        set(source "${CMAKE_CURRENT_BINARY_DIR}/check_headers/${id}.cpp")
        sarab_write_if_changed("${source}" "#include <${header}>\n")
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
    # The image's name for messages and --help, as argv[0] is on hosted, and its length.
    set(name_source "${CMAKE_CURRENT_BINARY_DIR}/${name}_image_name.cpp")
    string(LENGTH "${name}" name_length)
    sarab_write_if_changed("${name_source}" "extern \"C\" const char sarab_image_name[] = \"${name}\";\nextern \"C\" const unsigned long sarab_image_name_length = ${name_length};\n")
    add_executable(${name} ${ARGN} "${name_source}"
        $<TARGET_OBJECTS:sarab_platform_virtio>
        $<TARGET_OBJECTS:sarab_platform_virtio_main>)
    sarab_link_services(${name})
    target_link_libraries(${name} PRIVATE sarab_storage sarab_net sarab_runtime)
    sarab_library_flags(${name})
    target_link_options(${name} PRIVATE -nostdlib -static $<$<CXX_COMPILER_ID:GNU>:-no-pie>
        "-Wl,-T,${linker_script}" -Wl,--gc-sections -Wl,-z,max-page-size=4096 -Wl,-n
        -Wl,-z,noexecstack -Wl,--build-id=none -Wl,--no-warn-rwx-segments)
    # Then libstdc++'s own archive, from which the linker takes only the members that define
    # what is still missing (red-black tree balancing for std::map, hashing and the rehash
    # policy for std::unordered_map; self-contained code); the image's runtime comes first, so
    # its operator new, std::__throw_* and to_chars are the ones used. musl's math functions
    # (sarab_virtio_math_archive) for <cmath>. libgcc last: compiler
    # helpers (128-bit division) may be needed by anything.
    target_link_libraries(${name} PRIVATE sarab_platform_common sarab_base "${SARAB_LIBSTDCXX_ARCHIVE}" ${SARAB_MATH_ARCHIVE} gcc)
    set_target_properties(${name} PROPERTIES
        RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/apps/${name}"
        LINK_DEPENDS "${linker_script}")
endfunction()
