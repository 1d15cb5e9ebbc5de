/* image.h: the classify example's image readers, hand-written for untrusted files.
 *
 * PPM/PGM (P6, P5 binary, P3, P2 ASCII; maxval 1..65535) and PNG (8-bit gray,
 * gray+alpha, RGB, RGBA; non-interlaced; every chunk length bounded, every CRC
 * checked, IDAT inflated by zlib to exactly the size IHDR implies). Anything else
 * is refused with a message that says what and where. Sizes are capped so a
 * hostile header cannot make the reader allocate more than a few hundred MiB.
 */
#ifndef PP_EXAMPLE_IMAGE_H
#define PP_EXAMPLE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

enum {
    PP_IMAGE_MAX_SIDE = 16384,     /* pixels per side */
    PP_IMAGE_MAX_PIXELS = 1 << 24, /* 16 Mpx (4096 × 4096) */
    PP_IMAGE_MAX_FILE = 64 << 20,  /* bytes read from disk */
};

typedef struct pp_image {
    int width, height;
    int channels;    /* 1 (gray) or 3 (RGB); alpha is dropped on read */
    unsigned maxval; /* the largest sample value: 255 for PNG, the PPM's maxval */
    uint16_t *data;  /* owned: (height, width, channels), row-major; free with pp_image_free */
} pp_image;

/* Reads path (format chosen by its magic bytes, not its name) into *out, zeroed
 * on failure. Returns 0, or -1 with a one-line message in err (size errlen). */
int pp_image_read(const char *path, pp_image *out, char *err, size_t errlen);
/* The same over bytes in memory; `what` names them in messages. */
int pp_image_decode(const uint8_t *buf, size_t size, const char *what, pp_image *out, char *err, size_t errlen);
void pp_image_free(pp_image *img);

#endif
