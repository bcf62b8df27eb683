// cxxnew.cpp - a C API library built with libstdc++ that needs GLIBCXX_3.4.21
// (the C++11 std::string ABI) and CXXABI_1.3.9 (sized operator delete).
#include <string>

extern "C" __attribute__((visibility("default"))) int mylib_len(const char *s) {
    std::string x(s);
    int *p = new int(static_cast<int>(x.size()));
    int r = *p;
    delete p;
    return r;
}
