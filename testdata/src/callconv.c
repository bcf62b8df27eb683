/* callconv.c - the calling-convention fixture library (testdata/src/callconv.h). */
#include "callconv.h"

#define API __declspec(dllexport)

API int CC_STD cc_std_add(int a, int b) { return a + b; }
API int cc_c_add(int a, int b) { return a + b; }
API int cc_apply_std(cc_std_cb f, int v) { return f(v); }
API int cc_apply_c(cc_c_cb f, int v) { return f(v); }
