/* main.c - PIE executable linked against libdemo.so (x86_64 ELF). */
#include <stdio.h>

extern int demo_add(int, int);
extern const char *demo_version(void);
extern int demo_counter;
extern int demo_compat(int, int);        /* binds to demo_compat@DEMO_2.0 */
extern int demo_new_in_2(void);

int main(void)
{
    printf("%s: %d %d %d %d\n", demo_version(), demo_add(2, 3),
           demo_counter, demo_compat(1, 2), demo_new_in_2());
    return 0;
}
