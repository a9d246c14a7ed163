# Keeps the docs' programs compiling: every C++ block of README.md and docs/*.md marked as a
# complete program is extracted into a file of its own and built against the installed
# package, the way a reader would build it; a block marked "runs" must also exit 0.
#
# A marker is the line right before the block's ```cpp fence:
#   <!-- complete program -->          compiled and linked
#   <!-- complete program, runs -->    compiled, linked and run (only for fast programs)
#
# Run with cmake -P, given SOURCE_DIR (the repository), BUILD_DIR, WORK_DIR, CXX_COMPILER,
# CXX_FLAGS and BUILD_TYPE. Fails naming the doc and line of every block that does not build
# or run, and fails if no block is marked at all, so that it cannot silently check nothing.
cmake_minimum_required(VERSION 3.25)  # this script's policies: if() leaves quoted text alone
include("${CMAKE_CURRENT_LIST_DIR}/../cmake/installed_package.cmake")

set(prefix "${WORK_DIR}/prefix")
set(programs_dir "${WORK_DIR}/programs")
set(build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${programs_dir}")

# Writes each marked C++ block of `doc` (relative to SOURCE_DIR) to
# programs_dir/<doc's name>_<index of the C++ block in the doc>.cpp, with a #line directive so
# that the compiler's messages name the doc and its line. Appends the programs' names to
# `programs` and those to run to `runs`, and sets where_<name> to "doc:line of the fence".
function(extract_programs doc)
  file(READ "${SOURCE_DIR}/${doc}" rest)
  get_filename_component(stem "${doc}" NAME_WE)
  set(line_number 0)
  set(cpp_blocks 0)
  set(in_block FALSE)
  set(marker "")  # after a marker line: "compiles" or "runs"
  set(name "")  # inside a marked block: the program's name
  while(NOT rest STREQUAL "")
    string(FIND "${rest}" "\n" end)
    if(end EQUAL -1)
      set(line "${rest}")
      set(rest "")
    else()
      string(SUBSTRING "${rest}" 0 ${end} line)
      math(EXPR after "${end} + 1")
      string(SUBSTRING "${rest}" ${after} -1 rest)
    endif()
    math(EXPR line_number "${line_number} + 1")

    if(in_block)
      if(line MATCHES "^```")
        set(in_block FALSE)
        if(name)
          file(WRITE "${programs_dir}/${name}.cpp" "${code}")
          set(name "")
        endif()
      elseif(name)
        string(APPEND code "${line}\n")
      endif()
    elseif(line MATCHES "^```")
      set(in_block TRUE)
      if(line MATCHES "^```cpp")
        math(EXPR cpp_blocks "${cpp_blocks} + 1")
      endif()
      if(marker)
        if(NOT line MATCHES "^```cpp *$")
          message(FATAL_ERROR "${doc}:${line_number}: a complete-program marker is followed by "
            "'${line}', not a ```cpp fence")
        endif()
        set(name "${stem}_${cpp_blocks}")
        math(EXPR first_line "${line_number} + 1")
        set(code "// ${doc}:${line_number}, extracted by tests/docs/check_doc_programs.cmake\n")
        string(APPEND code "#line ${first_line} \"${doc}\"\n")
        list(APPEND programs ${name})
        set(where_${name} "${doc}:${line_number}" PARENT_SCOPE)
        if(marker STREQUAL "runs")
          list(APPEND runs ${name})
        endif()
        set(marker "")
      endif()
    elseif(marker)
      message(FATAL_ERROR "${doc}:${line_number}: a complete-program marker must be the line "
        "right before a ```cpp fence")
    elseif(line MATCHES "^<!-- complete program")
      if(line MATCHES "^<!-- complete program --> *$")
        set(marker compiles)
      elseif(line MATCHES "^<!-- complete program, runs --> *$")
        set(marker runs)
      else()
        message(FATAL_ERROR "${doc}:${line_number}: '${line}' is not a marker: write "
          "<!-- complete program --> or <!-- complete program, runs -->")
      endif()
    endif()
  endwhile()
  if(in_block)
    message(FATAL_ERROR "${doc}: the code block opened before line ${line_number} is not closed")
  endif()
  set(programs "${programs}" PARENT_SCOPE)
  set(runs "${runs}" PARENT_SCOPE)
endfunction()

file(GLOB docs RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/docs/*.md")
list(SORT docs)
set(programs "")
set(runs "")
foreach(doc IN ITEMS README.md ${docs})
  extract_programs("${doc}")
endforeach()
list(LENGTH programs program_count)
if(program_count EQUAL 0)
  message(FATAL_ERROR "no C++ block of README.md or docs/*.md is marked "
    "<!-- complete program -->: this check would check nothing")
endif()

install_build_tree("${BUILD_DIR}" "${prefix}")
configure_against_install("${CMAKE_CURRENT_LIST_DIR}/programs" "${build}" "${prefix}"
  "-DPROGRAMS_DIR=${programs_dir}")
# -k 0: build every program, so that one report names all those that fail.
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${build}" -- -k 0
  RESULT_VARIABLE built OUTPUT_VARIABLE build_output ERROR_VARIABLE build_output)
set(failures "")
foreach(name IN LISTS programs)
  if(NOT EXISTS "${build}/${name}")
    string(APPEND failures "  ${where_${name}}: does not build (${programs_dir}/${name}.cpp)\n")
  endif()
endforeach()
if(NOT built EQUAL 0 OR failures)
  message(FATAL_ERROR "complete programs of the docs that do not build:\n${failures}\n"
    "${build_output}")
endif()

set(run_dir "${WORK_DIR}/run")  # what a program writes stays in the scratch directory
file(MAKE_DIRECTORY "${run_dir}")
foreach(name IN LISTS runs)
  execute_process(COMMAND "${build}/${name}" WORKING_DIRECTORY "${run_dir}" TIMEOUT 60
    RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT result EQUAL 0)
    string(APPEND failures "  ${where_${name}}: exited with '${result}':\n${out}\n")
  endif()
endforeach()
if(failures)
  message(FATAL_ERROR "complete programs of the docs that do not run:\n${failures}")
endif()

list(LENGTH runs run_count)
message(STATUS "${program_count} complete programs of the docs built, ${run_count} of them run")
foreach(name IN LISTS programs)
  message(STATUS "  ${where_${name}} (${name})")
endforeach()
