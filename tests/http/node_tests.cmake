# Tests of the broker's SQS HTTP front end by clients other than boto3, for
# tests/http/CMakeLists.txt to include():
#  - http_node_install: `npm ci` of node/ (the AWS SDK for JavaScript v3 at
#    the version package-lock.json pins) into node/node_modules;
#  - http_node_sdk: node/sqs_json_test.mjs, the SDK over SQS's JSON protocol;
#  - http_hostile: hostile_test.py, garbage, slowloris, 1,000 idle
#    connections, the connection cap, and no acknowledged message lost.
# Node.js >= 20 and npm from Debian's packages; the npm registry for npm ci.
set(SLUICE_HTTP_NODE_DIR ${CMAKE_CURRENT_LIST_DIR}/node)
set(SLUICE_HTTP_TEST_ENV SLUICE_BROKER_BIN=$<TARGET_FILE:sluice-broker>)

# Required: a suite that skips the JSON protocol when Node.js is missing would
# pass without testing it (scripts/install-deps.sh installs both).
find_program(SLUICE_NODE node REQUIRED)
find_program(SLUICE_NPM npm REQUIRED)
add_test(NAME http_node_install
         COMMAND ${SLUICE_NPM} ci --no-audit --no-fund
         WORKING_DIRECTORY ${SLUICE_HTTP_NODE_DIR})
set_tests_properties(http_node_install PROPERTIES
  FIXTURES_SETUP http_node LABELS http TIMEOUT 300)

add_test(NAME http_node_sdk
         COMMAND ${SLUICE_NODE} --test sqs_json_test.mjs
         WORKING_DIRECTORY ${SLUICE_HTTP_NODE_DIR})
set_tests_properties(http_node_sdk PROPERTIES
  FIXTURES_REQUIRED http_node ENVIRONMENT "${SLUICE_HTTP_TEST_ENV}" LABELS http TIMEOUT 300)

add_test(NAME http_hostile
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/hostile_test.py -v
         WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(http_hostile PROPERTIES
  ENVIRONMENT "${SLUICE_HTTP_TEST_ENV}" LABELS http TIMEOUT 300)
