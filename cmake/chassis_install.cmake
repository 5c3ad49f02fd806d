# `cmake --install build --prefix P`: the static libraries, their headers under
# P/include/chassis/<library>/, the `chassis` command, and the CMake package
# P/lib/cmake/chassis (chassisConfig.cmake, chassisConfigVersion.cmake, chassisTargets.cmake)
# exporting chassis::spec, chassis::symbolic, chassis::neural, chassis::verifier,
# chassis::codegen, chassis::tasks and the umbrella chassis::chassis. A user writes
#   find_package(chassis REQUIRED)
#   target_link_libraries(app PRIVATE chassis::chassis)
# and includes <chassis/chassis.h> (or one header, e.g. "chassis/spec/frontend.h").
# Included from the top-level CMakeLists.txt after the libraries are defined.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(chassis_exported_libraries spec symbolic neural verifier codegen tasks)
foreach(lib IN LISTS chassis_exported_libraries)
  # Position-independent, so that the archives can go into a shared object (the Python module,
  # a user's plugin) as well as into a program.
  set_target_properties(chassis_${lib} PROPERTIES EXPORT_NAME ${lib} POSITION_INDEPENDENT_CODE ON)
  # In the tree, headers are found through include_directories(source root); installed, through
  # P/include (the installed headers include each other as "chassis/<library>/<file>.h").
  target_include_directories(chassis_${lib} INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()
# symbolic/summary.h, tasks/compare.h and tasks/report.h include <nlohmann/json.hpp>, so the
# JSON headers are part of those libraries' interface (their other third-party dependencies,
# Z3, ONNX/protobuf and LLVM, stay behind the headers: only the static archives need them).
target_link_libraries(chassis_symbolic PUBLIC nlohmann_json::nlohmann_json)
target_link_libraries(chassis_tasks PUBLIC nlohmann_json::nlohmann_json)

# chassis::chassis: every library. (The target is not called `chassis`: that is the command.)
add_library(chassis_all_libraries INTERFACE)
set_target_properties(chassis_all_libraries PROPERTIES EXPORT_NAME chassis)
foreach(lib IN LISTS chassis_exported_libraries)
  target_link_libraries(chassis_all_libraries INTERFACE chassis_${lib})
endforeach()

set(chassis_library_targets)
foreach(lib IN LISTS chassis_exported_libraries)
  list(APPEND chassis_library_targets chassis_${lib})
endforeach()
install(TARGETS ${chassis_library_targets} chassis_all_libraries EXPORT chassisTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS chassis RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Headers: every header of the exported libraries and the umbrella include/chassis/chassis.h,
# with their "<library>/..." includes rewritten to "chassis/<library>/..." (see
# chassis_install_headers.cmake), except the three that expose Z3's C++ API.
install(CODE "
  set(CHASSIS_HEADER_ROOT \"${CMAKE_SOURCE_DIR}\")
  set(CHASSIS_HEADER_LIBRARIES \"${chassis_exported_libraries}\")
  set(CHASSIS_HEADER_EXCLUDED \"verifier/ir_encoder.h;verifier/replay.h;verifier/z3_limits.h\")
  set(CHASSIS_HEADER_STAGE \"${CMAKE_BINARY_DIR}/installed_headers\")
  set(CHASSIS_HEADER_DESTINATION \"${CMAKE_INSTALL_INCLUDEDIR}\")
  include(\"${CMAKE_CURRENT_LIST_DIR}/chassis_install_headers.cmake\")
")

set(chassis_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/chassis)
install(EXPORT chassisTargets NAMESPACE chassis:: DESTINATION ${chassis_cmake_dir}
  FILE chassisTargets.cmake)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/chassisConfig.cmake.in
  ${CMAKE_BINARY_DIR}/chassisConfig.cmake INSTALL_DESTINATION ${chassis_cmake_dir})
# 0.x: a minor version may change the API.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/chassisConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/chassisConfig.cmake ${CMAKE_BINARY_DIR}/chassisConfigVersion.cmake
  DESTINATION ${chassis_cmake_dir})
