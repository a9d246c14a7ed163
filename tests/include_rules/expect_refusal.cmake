# Runs SCRIPT (scripts/check-includes.sh) on FIXTURE, a tree that breaks the include rules on
# purpose. Passes only when the script fails and reports exactly the violations the fixture's
# files announce in their "// expect: <file>:<line>: includes <header>: rule (<letter>)" lines:
# each planted one, named by file, line and rule, and no other.
file(GLOB_RECURSE fixture_files "${FIXTURE}/*.cpp" "${FIXTURE}/*.hpp")
set(planted "")
foreach(path IN LISTS fixture_files)
  file(STRINGS "${path}" announced REGEX "^// expect: ")
  list(TRANSFORM announced REPLACE "^// expect: " "")
  list(APPEND planted ${announced})
endforeach()
if(NOT planted)
  message(FATAL_ERROR "${FIXTURE} announces no violation: this test would check nothing")
endif()

execute_process(COMMAND "${SCRIPT}" "${FIXTURE}"
  RESULT_VARIABLE status OUTPUT_VARIABLE report ERROR_VARIABLE report)
if(status EQUAL 0)
  message(FATAL_ERROR "check-includes passed a tree that breaks the rules:\n${report}")
endif()
string(REGEX MATCHALL "[^\n]+: includes <[^>\n]+>: rule \\([a-z]\\)" reported "${report}")
list(SORT planted)
list(SORT reported)
if(NOT reported STREQUAL planted)
  list(JOIN planted "\n  " planted_lines)
  list(JOIN reported "\n  " reported_lines)
  message(FATAL_ERROR "check-includes failed, but did not report exactly the planted "
    "violations.\nplanted:\n  ${planted_lines}\nreported:\n  ${reported_lines}\n"
    "its output:\n${report}")
endif()
list(JOIN reported "\n  " reported_lines)
message(STATUS "check-includes refused the fixture with:\n  ${reported_lines}")
