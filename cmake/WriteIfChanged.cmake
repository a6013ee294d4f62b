# sarab_write_if_changed(PATH CONTENT): writes CONTENT to PATH unless PATH already holds it, so
# that a generated source that did not change does not rebuild what depends on it.
function(sarab_write_if_changed path content)
    if(EXISTS "${path}")
        file(READ "${path}" old)
        if(old STREQUAL content)
            return()
        endif()
    endif()
    file(WRITE "${path}" "${content}")
endfunction()
