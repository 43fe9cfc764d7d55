/* manifest.h - Kubernetes manifests (YAML or JSON) into kn_json trees.
 *
 * (Named manifest.h, not yaml.h, so that it does not hide libyaml's <yaml.h>.)
 *
 * Contract:
 *  - kn_yaml_parse_docs() reads a multi-document YAML stream with libyaml and
 *    returns one kn_json tree per non-empty document ("---" alone, comments
 *    only or a null document are skipped). Input that starts with '{' or '['
 *    is parsed as JSON first (exact numbers, JSON's error messages), and as
 *    YAML only if that fails.
 *  - Scalars are resolved as the Kubernetes YAML decoder (sigs.k8s.io/yaml on
 *    go-yaml v2, YAML 1.1) does: quoted and block scalars are strings; plain
 *    true/false/yes/no/on/off/y/n (also Capitalized and UPPER) are booleans;
 *    null, Null, NULL, ~ and empty are null; integers (decimal, 0x hex, 0o and
 *    leading-0 octal, 0b binary, '_' separators, sign) and floats (1.5, 1e3,
 *    .5) are numbers, written with their source text when it is valid JSON
 *    (so big integers stay exact); .inf/.nan are refused (JSON cannot hold
 *    them, as kubectl refuses them); everything else is a string. Explicit
 *    tags !!str !!int !!float !!bool !!null are honoured; unknown tags give
 *    strings. Non-string plain keys become their JSON text ("yes:" -> "true").
 *  - Anchors and aliases are resolved by deep copy. All documents together
 *    may hold at most 1,000,000 nodes and 2 x max_bytes of string data, and
 *    none may nest deeper than max_depth (default 64): "billion laughs" is
 *    refused.
 *  - Merge keys ("<<: *base", or a list of mappings) are supported; keys
 *    written in the mapping win over merged ones, earlier merged maps win over
 *    later ones.
 *  - Errors: duplicate keys, non-scalar keys, aliases as keys, unknown
 *    anchors, bad tagged values. Messages name "line L, column C" (1-based).
 */
#ifndef KN_MANIFEST_H
#define KN_MANIFEST_H

#include <stddef.h>

#include "base/err.h"
#include "json/json.h"

/* Manifests read from files may be this large. */
#define KN_MANIFEST_MAX_BYTES (16u * 1024 * 1024)

/* 0 ok (*docs malloc'd, *ndocs may be 0); -1 with err set, *docs NULL. */
int kn_yaml_parse_docs(const char *buf, size_t len, const kn_json_limits *lim, kn_json ***docs, size_t *ndocs,
                       kn_err *err);
void kn_yaml_free_docs(kn_json **docs, size_t n);
/* Appends doc to a growing document array (*cap its allocated size); takes
 * doc (freed on failure). 0 ok, -1 out of memory. */
int kn_docs_push(kn_json ***docs, size_t *n, size_t *cap, kn_json *doc);

/* Reads a manifest file ("-" = stdin, at most KN_MANIFEST_MAX_BYTES) of YAML
 * or JSON documents; a "kind: List" document is replaced by its items.
 * Errors start with the file name: "pi.yaml: line 3, column 7: ...". */
int kn_manifest_read_file(const char *path, kn_json ***docs, size_t *n, kn_err *err);
/* The same with a "kind: List" kept as one document: its items stay in the
 * parsed tree instead of a copy each (a 15 MiB List is read at half the memory). */
int kn_manifest_read_file_lists(const char *path, kn_json ***docs, size_t *n, kn_err *err);

#endif
