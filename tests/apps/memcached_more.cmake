# More sea-memcached tests, included from apps/CMakeLists.txt (after its own tests):
#   memcached.conns.CASE.BACKEND.cN  tests/apps/test_memcached_conns.py: 19,900 connections, clients that
#                                    never read, slowloris, values at the size limit, junk and abandoned
#                                    connections, SIGTERM under load
#   memcached.pool.*                 tests/apps/test_memcached_pool.py: two instances behind libmemcached's
#                                    ketama (pylibmc) and behind twemproxy (nutcracker)
# Each case runs one configuration with one shard (io_uring) and one with two (epoll, label smp).
if(BUILD_TESTING OR NOT DEFINED BUILD_TESTING)
  set(_mc_sanitized "")
  if(SEA_SANITIZE)
    set(_mc_sanitized --sanitized) # memory bounds allow for ASan's shadow and quarantine
  elseif(SEA_TSAN)
    set(_mc_sanitized --tsan) # no memory bounds; at most 2,000 connections (TSan counts fibers as threads)
  endif()
  set(_mc_conns ${PROJECT_SOURCE_DIR}/tests/apps/test_memcached_conns.py)
  foreach(case many noread slowloris limits junk sigterm)
    foreach(cfg "io_uring;1" "epoll;2")
      list(GET cfg 0 b)
      list(GET cfg 1 c)
      set(extra "")
      set(name ${case})
      if(case STREQUAL "limits" AND c EQUAL 2)
        set(name limits_2m) # the largest value with --max-item-size 2M
        set(extra --max-item-size 2M)
      endif()
      set(t memcached.conns.${name}.${b}.c${c})
      # /usr/bin/python3: any Python 3 would do, but the same interpreter as the other client tests.
      add_test(NAME ${t} COMMAND /usr/bin/python3 ${_mc_conns} ${case} ${_mc_sanitized}
                                 $<TARGET_FILE:sea-memcached> --reactor-backend=${b} -c${c} ${extra})
      set_tests_properties(${t} PROPERTIES TIMEOUT 240)
      if(NOT c EQUAL 1)
        set_tests_properties(${t} PROPERTIES LABELS smp)
      endif()
    endforeach()
  endforeach()
  # Pools: Debian's python3-pylibmc, python3-pymemcache and nutcracker (scripts/setup.sh installs them).
  foreach(case ketama twemproxy)
    set(t memcached.pool.${case})
    add_test(NAME ${t} COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/apps/test_memcached_pool.py ${case}
                               $<TARGET_FILE:sea-memcached> -c1)
    set_tests_properties(${t} PROPERTIES TIMEOUT 240)
  endforeach()
endif()

# Snapshots (--snapshot-dir): the format's checks fuzzed (snapfmt.c), and the
# restart, damage and kill -9 cases against the real program
# (tests/apps/test_memcached_snapshot.py).
if(BUILD_TESTING OR NOT DEFINED BUILD_TESTING)
  add_executable(test_memcached_snapfmt ${PROJECT_SOURCE_DIR}/tests/apps/test_memcached_snapfmt.c)
  target_link_libraries(test_memcached_snapfmt PRIVATE sea_memcached_core)
  target_include_directories(test_memcached_snapfmt PRIVATE ${PROJECT_SOURCE_DIR}/apps/memcached)
  sea_user_code(test_memcached_snapfmt)
  set_target_properties(test_memcached_snapfmt PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME memcached.snapfmt_fuzz COMMAND test_memcached_snapfmt 3000)
  set_tests_properties(memcached.snapfmt_fuzz PROPERTIES TIMEOUT 120)
  set(_mc_snap ${PROJECT_SOURCE_DIR}/tests/apps/test_memcached_snapshot.py)
  foreach(cfg "restart;io_uring;1" "restart;epoll;2" "corrupt;io_uring;1" "torn;epoll;1" "garbage;io_uring;1"
              "kill9;io_uring;1" "kill9;epoll;2")
    list(GET cfg 0 case)
    list(GET cfg 1 b)
    list(GET cfg 2 c)
    set(t memcached.snapshot.${case}.${b}.c${c})
    add_test(NAME ${t} COMMAND /usr/bin/python3 ${_mc_snap} ${case} $<TARGET_FILE:sea-memcached>
                               --reactor-backend=${b} -c${c})
    set_tests_properties(${t} PROPERTIES TIMEOUT 240)
    if(NOT c EQUAL 1)
      set_tests_properties(${t} PROPERTIES LABELS smp)
    endif()
  endforeach()
endif()

# TLS (-Z, tests/apps/test_memcached_tls.py): pymemcache with an SSL context and openssl s_client,
# hostile clients, mutual TLS, refresh_certs and SIGHUP, refused options, and Debian's memcached -Z
# given the same requests.  Certificates from tests/support/tls_certs.sh, made at test time.
if(BUILD_TESTING OR NOT DEFINED BUILD_TESTING)
  find_program(SEA_OPENSSL_PROGRAM openssl)
  if(NOT SEA_OPENSSL_PROGRAM)
    set(SEA_OPENSSL_PROGRAM openssl) # not found when configured: the test says so if it is still missing
  endif()
  foreach(cfg "io_uring;1" "epoll;2")
    list(GET cfg 0 b)
    list(GET cfg 1 c)
    set(t memcached.tls.${b}.c${c})
    add_test(NAME ${t} COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/apps/test_memcached_tls.py
                               ${PROJECT_SOURCE_DIR}/tests/support/tls_certs.sh ${SEA_OPENSSL_PROGRAM}
                               $<TARGET_FILE:sea-memcached> --reactor-backend=${b} -c${c})
    set_tests_properties(${t} PROPERTIES TIMEOUT 300)
    if(NOT c EQUAL 1)
      set_tests_properties(${t} PROPERTIES LABELS smp)
    endif()
  endforeach()
endif()
