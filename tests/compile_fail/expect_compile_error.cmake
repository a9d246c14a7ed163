# Builds TARGET in BUILD_DIR, expecting the build to fail with every message that SOURCE
# announces in its "// expect-error: <regex>" lines.
file(STRINGS "${SOURCE}" expectations REGEX "^// expect-error: ")
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target "${TARGET}"
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(result EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, but must be rejected at compile time")
endif()
foreach(line IN LISTS expectations)
  string(REGEX REPLACE "^// expect-error: " "" pattern "${line}")
  if(NOT output MATCHES "${pattern}")
    message(FATAL_ERROR "${TARGET} failed to compile, but without '${pattern}':\n${output}")
  endif()
  message(STATUS "found: ${pattern}")
endforeach()
