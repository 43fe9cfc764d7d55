/* fuzz_patch.c - JSON Patch as kube-apiserver applies it (kn_json_patch_apply),
 * checked against the independent applier in patch_apply.c.
 *
 * Input: a JSON array [document, patch]. Invariants: never a crash; both
 * appliers agree on whether the patch applies and, when it does, on the
 * result; a failure says which op failed. */
#include "fuzz.h"
#include "json/json.h"
#include "admission/patch.h"

int kn_fuzz_patch(const uint8_t *data, size_t size)
{
    char *buf = kn_fuzz_exact(data, size);
    kn_json *in = kn_json_parse(buf, size, NULL, NULL);
    free(buf);
    if (kn_json_len(in) != 2 || !kn_json_is(in, KN_JSON_ARRAY)) {
        kn_json_free(in);
        return 0;
    }
    const kn_json *doc = kn_json_at(in, 0), *patch = kn_json_at(in, 1);
    kn_err err = {{0}};
    char why[256] = "";
    kn_json *ours = kn_json_patch_apply(doc, patch, &err);
    kn_json *oracle = kn_fuzz_json_patch(doc, patch, why, sizeof(why));
    KN_FUZZ_CHECK(ours != NULL || err.msg[0] != '\0');
    if ((ours == NULL) != (oracle == NULL))
        fprintf(stderr, "kn_json_patch_apply: %s; RFC 6902 oracle: %s\n", ours != NULL ? "applied" : err.msg,
                oracle != NULL ? "applied" : why);
    KN_FUZZ_CHECK((ours == NULL) == (oracle == NULL));
    KN_FUZZ_CHECK(ours == NULL || kn_json_equal(ours, oracle));
    kn_json_free(ours);
    kn_json_free(oracle);
    kn_json_free(in);
    return 0;
}

KN_FUZZ_TARGET(kn_fuzz_patch)
