# Shows that a distribution listed in spec/distributions.def without a complete trait in
# symbolic/dist_traits.h does not build (run by ctest: cmake -DCXX=... -DSOURCE_DIR=...
# -DWORK_DIR=... -P check.cmake). traits_user.cpp is compiled (syntax and instantiation only):
#   against the real .def                         must compile (the harness is not failing for
#                                                 nothing)
#   against a copy of the .def with Weibull added, first on the include path:
#     without a Weibull trait                     must fail in the completeness static_assert
#     with a Weibull trait missing gradient       must fail there too
#     with a complete Weibull trait               must compile (the list and one trait suffice)
foreach(v CXX SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check.cmake: -D${v}=... is required")
  endif()
endforeach()
set(src ${SOURCE_DIR}/tests/symbolic/dist_traits_compile/traits_user.cpp)
set(flags -std=c++20 -fsyntax-only -Wall -Werror=switch)

function(compile_case name expect_ok needle)
  execute_process(COMMAND ${CXX} ${flags} ${ARGN} -I${SOURCE_DIR} ${src}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(expect_ok)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${name}: should compile, but:\n${err}")
    endif()
  else()
    if(rc EQUAL 0)
      message(FATAL_ERROR "${name}: compiled, but must not")
    endif()
    string(FIND "${err}" "${needle}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${name}: failed, but without naming '${needle}':\n${err}")
    endif()
  endif()
  message(STATUS "${name}: as expected")
endfunction()

compile_case("the distributions of the .def" TRUE "")

# A distribution added to the list: the copy shadows spec/distributions.def (spec/dist_kind.h
# includes it as "spec/distributions.def", found on the include path before the source tree).
file(READ ${SOURCE_DIR}/spec/distributions.def defs)
string(REPLACE "#undef CHASSIS_DIST"
               "CHASSIS_DIST(Weibull, Real, Continuous, 2, shape, Real, scale, Real, _, None)\n#undef CHASSIS_DIST"
               defs "${defs}")
file(WRITE ${WORK_DIR}/spec/distributions.def "${defs}")
compile_case("Weibull listed, no trait" FALSE "no complete Dist<DistKind::Weibull>" -I${WORK_DIR})
compile_case("Weibull listed, trait without gradient" FALSE "no complete Dist<DistKind::Weibull>"
             -I${WORK_DIR} -DCHASSIS_WITH_WEIBULL_TRAIT -DCHASSIS_WEIBULL_OMIT_GRADIENT)
compile_case("Weibull listed, complete trait" TRUE "" -I${WORK_DIR} -DCHASSIS_WITH_WEIBULL_TRAIT)
