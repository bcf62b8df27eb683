/* The C API a binding author believes src/cxx.cpp exports. `area` is really the C++ function
 * demo::geometry::area(int, int) (overloaded with (double, double) and (Point const&)): the library's header
 * forgot `extern "C"`, so only the mangled names are exported. `cxx_version` and `cxx_c_entry` are
 * `extern "C"` in the library and check clean. Used by tests/check_spec.rs. */
int area(int w, int h);
const char *cxx_version(void);
int cxx_c_entry(int x);
