/* png.c - ll_png_read, the golden pictures `replay --check-frames` reads:
 * a picture that is read has the size it says, and every pixel of it can
 * be read. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    fuzz_file(data, size, path, sizeof path);
    uint32_t *pixels;
    int w, h;
    ll_error err;
    if (ll_png_read(path, &pixels, &w, &h, &err) != 0) return 0;
    if (w < 1 || h < 1) abort();
    uint32_t sum = 0;
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) sum += pixels[i];
    free(pixels);
    return (int)(sum & 0);
}
