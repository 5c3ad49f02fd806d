# Shows that a back end of the shared evaluator that misses a node kind or an operator of
# spec/ir_nodes.def does not build (run by ctest: cmake -DCXX=... -DSOURCE_DIR=... -DWORK_DIR=...
# -P check.cmake). domain.cpp is compiled (syntax and instantiation only) four times:
#   as is                                  must compile (the harness is not failing for nothing)
#   -DCHASSIS_OMIT_SQRT                    a domain without realSqrt: must fail, naming realSqrt
#   -DCHASSIS_OMIT_FACTOR                  a back end without stmtFactor: must fail, naming it
#   a copy of ir_nodes.def with an extra   the evaluator's operator switch misses it: must fail
#   unary operator (Cube) first on the     under -Werror=switch, naming Cube
#   include path
foreach(v CXX SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check.cmake: -D${v}=... is required")
  endif()
endforeach()
set(src ${SOURCE_DIR}/tests/symbolic/evaluator_compile/domain.cpp)
set(flags -std=c++20 -fsyntax-only -Wall -Werror=switch)

function(compile_case name expect_ok needle)
  execute_process(COMMAND ${CXX} ${flags} ${ARGN} -I${SOURCE_DIR} ${src}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(expect_ok)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${name}: the complete domain should compile, but:\n${err}")
    endif()
  else()
    if(rc EQUAL 0)
      message(FATAL_ERROR "${name}: compiled, but a back end missing '${needle}' must not")
    endif()
    string(FIND "${err}" "${needle}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${name}: failed, but not for the missing '${needle}':\n${err}")
    endif()
  endif()
  message(STATUS "${name}: as expected")
endfunction()

compile_case("complete domain" TRUE "")
compile_case("domain without realSqrt" FALSE "realSqrt" -DCHASSIS_OMIT_SQRT)
compile_case("back end without stmtFactor" FALSE "stmtFactor" -DCHASSIS_OMIT_FACTOR)

# An operator added to the node list: the copy shadows spec/ir_nodes.def (spec/ir.h includes it
# as "spec/ir_nodes.def", found on the include path before the source tree).
file(READ ${SOURCE_DIR}/spec/ir_nodes.def nodes)
string(REPLACE "#undef CHASSIS_IR_EXPR"
               "CHASSIS_IR_UNOP(Cube, \"cube\")\n#undef CHASSIS_IR_EXPR" nodes "${nodes}")
file(WRITE ${WORK_DIR}/spec/ir_nodes.def "${nodes}")
compile_case("complete domain, ir_nodes.def with an extra operator" FALSE "Cube" -I${WORK_DIR})
