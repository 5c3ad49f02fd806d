# Install-time script (see chassis_install.cmake): copies the public headers of the libraries in
# CHASSIS_HEADER_LIBRARIES from CHASSIS_HEADER_ROOT, and the umbrella include/chassis/chassis.h,
# to <prefix>/CHASSIS_HEADER_DESTINATION/chassis/, rewriting `#include "<library>/x.h"` to
# `#include "chassis/<library>/x.h"` so the installed headers need only <prefix>/include on the
# include path. Headers in CHASSIS_HEADER_EXCLUDED are left out; an installed header that still
# includes one of them, or anything outside the libraries, stops the install with its name.
string(REPLACE ";" "|" libs_alternation "${CHASSIS_HEADER_LIBRARIES}")
file(REMOVE_RECURSE "${CHASSIS_HEADER_STAGE}")

set(headers)
foreach(lib IN LISTS CHASSIS_HEADER_LIBRARIES)
  file(GLOB found RELATIVE "${CHASSIS_HEADER_ROOT}" "${CHASSIS_HEADER_ROOT}/${lib}/*.h"
       "${CHASSIS_HEADER_ROOT}/${lib}/*.def")
  list(APPEND headers ${found})
endforeach()
list(REMOVE_ITEM headers ${CHASSIS_HEADER_EXCLUDED})
list(SORT headers)

function(chassis_stage_header source relative)
  file(READ "${source}" text)
  string(REGEX REPLACE "#include \"(${libs_alternation})/" "#include \"chassis/\\1/" text "${text}")
  string(REGEX MATCHALL "#[ \t]*include[ \t]*\"[^\"]*\"" includes "${text}")
  foreach(inc IN LISTS includes)
    string(REGEX REPLACE "^#[ \t]*include[ \t]*\"(.*)\"$" "\\1" path "${inc}")
    string(REGEX REPLACE "^chassis/" "" inner "${path}")
    list(FIND CHASSIS_HEADER_EXCLUDED "${inner}" excluded_index)
    if(NOT path MATCHES "^chassis/(${libs_alternation})/" OR excluded_index GREATER -1)
      message(FATAL_ERROR "installed header ${relative} includes \"${path}\", which is not an "
                          "installed header (see cmake/chassis_install.cmake)")
    endif()
  endforeach()
  file(WRITE "${CHASSIS_HEADER_STAGE}/chassis/${relative}" "${text}")
endfunction()

foreach(h IN LISTS headers)
  chassis_stage_header("${CHASSIS_HEADER_ROOT}/${h}" "${h}")
endforeach()
chassis_stage_header("${CHASSIS_HEADER_ROOT}/include/chassis/chassis.h" "chassis.h")

file(INSTALL "${CHASSIS_HEADER_STAGE}/chassis"
     DESTINATION "${CMAKE_INSTALL_PREFIX}/${CHASSIS_HEADER_DESTINATION}")
