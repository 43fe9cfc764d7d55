/* quote.h - a value quoted for a message a user reads.
 *
 * Values in error messages come from untrusted objects (a label that the API
 * server has not validated yet, an annotation typed by hand). kn_quote()
 * writes "value" with \" \\ \n \t escaped and other control bytes as \xNN,
 * and cuts a long value with "..." so one field cannot flood a message. */
#ifndef KN_QUOTE_H
#define KN_QUOTE_H

#include <stddef.h>

/* Writes the quoted form of s (NULL quotes as "") into buf and returns buf.
 * cap must be at least 8; the result always fits and is NUL-terminated. */
const char *kn_quote(const char *s, char *buf, size_t cap);

/* "an" before a word starting with a vowel ("an object", "an array"), else "a". */
const char *kn_article(const char *word);

#endif
