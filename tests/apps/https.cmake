# HTTPS beyond the protocol, included from apps/CMakeLists.txt:
#   https.features.BACKEND.cN  tests/apps/test_https.py: mutual TLS seen by a handler (HTTP/1.1 and
#                              HTTP/2), session resumption through sea's HTTP client, and sea-httpd's
#                              SIGHUP certificate reload under load (h2load and new connections)
if(BUILD_TESTING OR NOT DEFINED BUILD_TESTING)
  foreach(cfg "io_uring;1" "epoll;2")
    list(GET cfg 0 b)
    list(GET cfg 1 c)
    set(t https.features.${b}.c${c})
    add_test(NAME ${t} COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/apps/test_https.py
                               $<TARGET_FILE:http_helper> $<TARGET_FILE:sea-httpd> $<TARGET_FILE:http_get_helper>
                               ${PROJECT_SOURCE_DIR}/tests/support/tls_certs.sh --reactor-backend=${b} -c${c})
    set_tests_properties(${t} PROPERTIES TIMEOUT 600)
    if(NOT c EQUAL 1)
      set_tests_properties(${t} PROPERTIES LABELS smp)
    endif()
  endforeach()
endif()
