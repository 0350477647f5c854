# ctest driver: install Loom into a scratch prefix, build the consumer against
# it with find_package(Loom), run the consumer (which also compiles a module
# with the compiler library and calls it) and the installed loom-opt,
# and compile and run the example with the installed loom-compile and
# loom-run.
foreach(var LOOM_BUILD_DIR WORK_DIR CONSUMER_SRC EXAMPLE GENERATOR CXX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "RunConsumer.cmake needs -D${var}=...")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(LAST_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/install)
run(${CMAKE_COMMAND} --install ${LOOM_BUILD_DIR} --prefix ${prefix})
run(${CMAKE_COMMAND} -S ${CONSUMER_SRC} -B ${WORK_DIR}/build -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX} -DLoom_DIR=${prefix}/lib/cmake/loom)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/loom-consumer)
if(NOT LAST_OUTPUT MATCHES "loom.attention" OR NOT LAST_OUTPUT MATCHES "consumer: ok"
   OR NOT LAST_OUTPUT MATCHES "consumer: compiled 2 entries and called twice")
  message(FATAL_ERROR "unexpected consumer output:\n${LAST_OUTPUT}")
endif()
run(${prefix}/bin/loom-opt ${EXAMPLE})
if(NOT LAST_OUTPUT MATCHES "loom.qlinear")
  message(FATAL_ERROR "installed loom-opt printed no loom ops:\n${LAST_OUTPUT}")
endif()
# The installed compiler and runner agree on the module ABI (version 3: the
# entry checks its arguments and returns NULL when it ran).
run(${prefix}/bin/loom-compile ${EXAMPLE} --target=cpu -o ${WORK_DIR}/example.so)
get_filename_component(entry ${EXAMPLE} NAME_WE)
run(${prefix}/bin/loom-run ${WORK_DIR}/example.so --entry=${entry} --random-inputs --seed=1)
if(NOT LAST_OUTPUT MATCHES "result 0: ")
  message(FATAL_ERROR "installed loom-run printed no result:\n${LAST_OUTPUT}")
endif()
message(STATUS "consumer built against ${prefix} and ran")
