#include <ctype.h>
#include <stdio.h>

#include "hello.h"

int hello_greet(char *buf, size_t size, const char *name)
{
    if (name == NULL || *name == '\0')
        name = "world";
    return snprintf(buf, size, "Hello, %s!", name);
}

size_t hello_count_words(const char *text)
{
    size_t words = 0;
    int in_word = 0;

    for (; *text != '\0'; text++) {
        if (isspace((unsigned char)*text)) {
            in_word = 0;
        } else if (!in_word) {
            in_word = 1;
            words++;
        }
    }
    return words;
}
