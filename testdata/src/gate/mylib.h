/* mylib.h - the declared C API of the gate fixtures' vendored library. */
int mylib_add(int a, int b);
