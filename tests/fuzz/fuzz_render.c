/**
 * @file fuzz_render.c
 * libFuzzer target: render_record() (listing.h), the bytes every JSON file
 * shows, on any JSON value that json-c reads from the input.  Checks
 * fuzz_check_rendered(): one trailing newline, two-space indents, no
 * trailing white space or control bytes, and the file read back as JSON
 * renders to the same bytes.  With FUZZ_STRICT=1, also the open findings
 * of tests/fuzz/README.md: numbers kept as written, files that are JSON.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "listing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_tokener *tok = json_tokener_new();
    char *text = malloc(size + 1);
    json_object *rec;
    char *bytes;
    size_t len = 0;

    FUZZ_CHECK(tok != NULL && text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    rec = json_tokener_parse_ex(tok, text, (int)size);
    if (json_tokener_get_error(tok) == json_tokener_success && rec) {
        fuzz_check_numbers_kept(rec, text);
        bytes = render_record(rec, &len);
        fuzz_check_rendered(bytes, len);
        free(bytes);
    }
    json_object_put(rec);
    json_tokener_free(tok);
    free(text);
    return 0;
}
