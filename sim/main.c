/*
 * main.c - the composition root and CLI (placeholder until the runner lands).
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("poolsim 0.1.0\n");
        return 0;
    }
    fprintf(stderr, "usage: poolsim run FILE [options]\n");
    return 2;
}
