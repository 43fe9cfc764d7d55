/* yaml_scalar.h - YAML 1.1 scalar resolution as go-yaml v2 does it (the
 * decoder behind sigs.k8s.io/yaml and so behind kubectl). Internal to yaml.c. */
#ifndef KN_YAML_SCALAR_H
#define KN_YAML_SCALAR_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "json/json.h"

/* The node for a scalar: tag is the resolved tag or NULL, plain says whether
 * it was written unquoted (not '...', "...", | or >). NULL with err set when
 * the value cannot be represented (".inf", "!!int abc") or out of memory. */
kn_json *kn_yaml_scalar(const char *tag, const char *val, size_t len, bool plain, kn_err *err);

/* True for a plain "<<" or a !!merge tag: the key of a merge. */
bool kn_yaml_is_merge_key(const char *tag, const char *val, size_t len, bool plain);

#endif
