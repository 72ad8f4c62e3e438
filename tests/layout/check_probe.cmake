# cmake -DBUILD_DIR=... -DCONFIG=... -DTARGET=... -DOWN=... -DFORBIDDEN=...
#   -P check_probe.cmake
# Builds TARGET (a probe of tests/layout/CMakeLists.txt) and succeeds only
# if the build fails because FORBIDDEN is not found, having found OWN.
set(cmd ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET})
if(CONFIG)
  list(APPEND cmd --config ${CONFIG})
endif()
execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out
  ERROR_VARIABLE out)

# GCC: "x.h: No such file or directory"; clang: "'x.h' file not found".
function(not_found header result)
  string(FIND "${out}" "${header}: No such file or directory" gcc)
  string(FIND "${out}" "'${header}' file not found" clang)
  if(gcc EQUAL -1 AND clang EQUAL -1)
    set(${result} FALSE PARENT_SCOPE)
  else()
    set(${result} TRUE PARENT_SCOPE)
  endif()
endfunction()

not_found("${OWN}" own_missing)
not_found("${FORBIDDEN}" forbidden_missing)
if(rc EQUAL 0)
  message(FATAL_ERROR "${TARGET}: the module's code can include "
    "\"${FORBIDDEN}\": a module it may not depend on is on its include path "
    "(docs/design.md, Modules)")
elseif(own_missing)
  message(FATAL_ERROR "${TARGET}: the module's own \"${OWN}\" was not "
    "found, so the probe proves nothing:\n${out}")
elseif(NOT forbidden_missing)
  message(FATAL_ERROR "${TARGET}: the build failed, but not for want of "
    "\"${FORBIDDEN}\":\n${out}")
endif()
message(STATUS "${TARGET}: \"${FORBIDDEN}\" is out of reach, as it should be")
