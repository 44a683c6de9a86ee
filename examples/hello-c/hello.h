#ifndef HELLO_H
#define HELLO_H

#include <stddef.h>

/*
 * Writes "Hello, NAME!" into buf (at most size bytes, always terminated).
 * A null or empty name greets the world. Returns the length of the full
 * greeting, as snprintf does: a value >= size means it was cut short.
 */
int hello_greet(char *buf, size_t size, const char *name);

/* Counts the words (runs of non-blank characters) in text. */
size_t hello_count_words(const char *text);

#endif
