# Run at build time (cmake -P), not at configure time: writes OUT, the
# definition of cxs::daemon::version_string(), from VERSION (the project's)
# and `git describe` of SOURCE_DIR when that is a checkout of its own (a
# tarball unpacked inside some other repository must not take that one's
# description). configure_file rewrites OUT only when its text changes, so a
# build after a new commit recompiles one file and relinks what uses it.
#
#   cmake -DVERSION=0.1.0 -DSOURCE_DIR=... -DIN=version.cc.in -DOUT=... -P version.cmake
set(CXS_GIT_DESCRIBE "")
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(
    COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" rev-parse --show-toplevel
    OUTPUT_VARIABLE top OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE rc ERROR_QUIET)
  if(rc EQUAL 0)
    file(REAL_PATH "${top}" top)
    file(REAL_PATH "${SOURCE_DIR}" src)
  endif()
  if(rc EQUAL 0 AND top STREQUAL src)
    execute_process(
      COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" describe --tags --always
              --dirty
      OUTPUT_VARIABLE CXS_GIT_DESCRIBE OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE rc ERROR_QUIET)
    if(NOT rc EQUAL 0)
      set(CXS_GIT_DESCRIBE "")
    endif()
  endif()
endif()
if(CXS_GIT_DESCRIBE STREQUAL "")
  set(CXS_VERSION_FULL "${VERSION}")
else()
  set(CXS_VERSION_FULL "${VERSION} (git ${CXS_GIT_DESCRIBE})")
endif()
configure_file("${IN}" "${OUT}" @ONLY)
