/* The tests of hello.c, printing TAP ("ok 1 - ...") lines. */
#include <stdio.h>
#include <string.h>

#include "hello.h"

static int tests, failures;

static void check(int ok, const char *what)
{
    tests++;
    if (!ok)
        failures++;
    printf("%sok %d - %s\n", ok ? "" : "not ", tests, what);
}

int main(void)
{
    char buf[32];
    int n;

#ifdef HELLO_DEBUG
    printf("# debug build (HELLO_DEBUG)\n");
#endif
    hello_greet(buf, sizeof buf, "Ada");
    check(strcmp(buf, "Hello, Ada!") == 0, "greets a name");

    hello_greet(buf, sizeof buf, NULL);
    check(strcmp(buf, "Hello, world!") == 0, "greets the world without a name");

    hello_greet(buf, sizeof buf, "");
    check(strcmp(buf, "Hello, world!") == 0, "greets the world for an empty name");

    n = hello_greet(buf, 8, "Grace Hopper");
    check(n == 20 && strlen(buf) == 7, "cuts a long greeting short and reports its length");

    check(hello_count_words("") == 0, "counts no words in an empty string");
    check(hello_count_words("  one two\tthree\n") == 3, "counts words between blanks");

    printf("1..%d\n", tests);
    if (failures > 0)
        fprintf(stderr, "%d of %d tests failed\n", failures, tests);
    return failures > 0;
}
