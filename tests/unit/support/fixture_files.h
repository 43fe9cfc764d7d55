/* fixture_files.h - JSON documents read from files for the unit tests: the
 * fixtures under tests/fixtures/ (KN_FIXTURES) or any other path. */
#ifndef KN_TEST_FIXTURE_FILES_H
#define KN_TEST_FIXTURE_FILES_H

#include "json/json.h"

/* The JSON document in the file at path (its first MiB); the test fails
 * naming the file when it cannot be opened or does not parse. The caller
 * frees the value. */
kn_json *read_json_file(const char *path);

/* read_json_file of tests/fixtures/<dir>/<name>. */
kn_json *fixture_json(const char *dir, const char *name);

#endif
