/* callconv.h - the calling-convention fixture (testdata/src/build-callconv.sh): one __stdcall and one cdecl
 * function, and one function taking a callback of each convention. On 32-bit Windows the two conventions differ
 * (the callee pops its arguments under __stdcall); everywhere else __stdcall is ignored. */
#ifndef CALLCONV_H
#define CALLCONV_H

#if defined(_WIN32) && !defined(_WIN64)
#define CC_STD __stdcall
#else
#define CC_STD
#endif

typedef int (CC_STD *cc_std_cb)(int);
typedef int (*cc_c_cb)(int);

int CC_STD cc_std_add(int a, int b);
int cc_c_add(int a, int b);
int cc_apply_std(cc_std_cb f, int v);
int cc_apply_c(cc_c_cb f, int v);

#endif
