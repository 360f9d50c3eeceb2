/* cli.c - the command's value parsers: sizes and addresses (ll_size_parse)
 * and the --keys list (parsed when the host opens, before anything else;
 * an unknown platform then stops the open). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    uint64_t v;
    (void)ll_size_parse(text, &v, &(ll_error){0});
    ll_host *h = ll_host_open("/nonexistent/app.so", &(ll_error){0}, .keys = text,
                              .platform = "none", .headless = 1);
    if (h) abort();
    free(text);
    return 0;
}
