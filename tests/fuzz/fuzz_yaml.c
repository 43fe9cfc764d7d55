/* fuzz_yaml.c - the manifest reader (kn_yaml_parse_docs: YAML 1.1 as the
 * Kubernetes decoder reads it, JSON first for input starting with '{' or '[').
 *
 * Invariants: never a crash, a hang or an alias bomb past the limits; a
 * failure says where; every document read is JSON the JSON reader accepts
 * back (numbers keep JSON-valid text) and that re-reads as the same document
 * through kn_yaml_parse_docs itself; with a small limit, reading fails cleanly. */
#include "fuzz.h"
#include "json/json.h"
#include "yaml/manifest.h"

static void check_doc(const kn_json *doc)
{
    size_t len = 0;
    char *text = kn_json_dump(doc, &len);
    KN_FUZZ_CHECK(text != NULL);
    kn_err err = {{0}};
    kn_json *back = kn_json_parse(text, len, NULL, &err);
    if (back == NULL)
        fprintf(stderr, "YAML document dumps to JSON that does not parse (%s): %.300s\n", err.msg, text);
    KN_FUZZ_CHECK(back != NULL && kn_json_equal(doc, back));
    kn_json **again = NULL;
    size_t n = 0;
    KN_FUZZ_CHECK(kn_yaml_parse_docs(text, len, NULL, &again, &n, &err) == 0);
    KN_FUZZ_CHECK(n == 1 && kn_json_equal(doc, again[0]));
    kn_yaml_free_docs(again, n);
    kn_json_free(back);
    free(text);
}

int kn_fuzz_yaml(const uint8_t *data, size_t size)
{
    char *buf = kn_fuzz_exact(data, size);
    kn_json **docs = NULL;
    size_t n = 0;
    kn_err err = {{0}};
    if (kn_yaml_parse_docs(buf, size, NULL, &docs, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++)
            check_doc(docs[i]);
        kn_yaml_free_docs(docs, n);
    } else {
        KN_FUZZ_CHECK(docs == NULL && err.msg[0] != '\0');
    }
    kn_json_limits small = {.max_bytes = 512, .max_depth = 4};
    if (kn_yaml_parse_docs(buf, size, &small, &docs, &n, &err) == 0)
        kn_yaml_free_docs(docs, n);
    free(buf);
    return 0;
}

KN_FUZZ_TARGET(kn_fuzz_yaml)
