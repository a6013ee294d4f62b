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

# sarab_add_unikernel(NAME SOURCES file...)
#
# An application: its sources, linked with the runtime and the platform of SARAB_TARGET. The
# artifact goes to <build>/apps/NAME/NAME. NAME is the application folder's name.
function(sarab_add_unikernel name)
    cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
    if(NOT ARG_SOURCES)
        message(FATAL_ERROR "sarab_add_unikernel(${name}) needs SOURCES")
    endif()
    add_executable(${name} ${ARG_SOURCES}
        $<TARGET_OBJECTS:sarab_platform_${SARAB_TARGET}>
        $<TARGET_OBJECTS:sarab_platform_${SARAB_TARGET}_main>)
    target_link_libraries(${name} PRIVATE sarab_runtime)
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
