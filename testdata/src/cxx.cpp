// cxx.cpp - C++ exports: namespaces, overloads, an operator, a class with
// ctor/dtor/const/static/virtual members, explicitly instantiated templates
// and extern "C" functions.  Built with -fno-exceptions -fno-rtti and without
// any C++ standard library.
//   ELF/Mach-O/mingw -> Itanium names (_ZN4demo8geometry...)
//   msvc64           -> MSVC names (?area@geometry@demo@@YAHHH@Z ...)
#if defined(_WIN32)
#  define CXX_API __declspec(dllexport)
#else
#  define CXX_API __attribute__((visibility("default")))
#endif

namespace demo {
namespace geometry {

struct Point {
    int x;
    int y;
};

// Overloads
CXX_API int area(int w, int h) { return w * h; }
CXX_API double area(double w, double h) { return w * h; }
CXX_API int area(const Point &p) { return p.x * p.y; }

// Operator
CXX_API Point operator+(Point a, Point b) { return Point{a.x + b.x, a.y + b.y}; }

// Class with members
class CXX_API Shape {
public:
    explicit Shape(int size);
    ~Shape();                 // non-virtual: no operator delete needed
    int scale(int factor) const;
    virtual int sides() const; // gives Shape a vtable (exported data)
    static int count();

private:
    int size_;
    static int count_;
};

int Shape::count_ = 0;
Shape::Shape(int size) : size_(size) { ++count_; }
Shape::~Shape() { --count_; }
int Shape::scale(int factor) const { return size_ * factor; }
int Shape::sides() const { return 0; }
int Shape::count() { return count_; }

// Template, explicitly instantiated (and therefore exported) for int/double
template <typename T>
CXX_API T clamp(T v, T lo, T hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}
template CXX_API int clamp<int>(int, int, int);
template CXX_API double clamp<double>(double, double, double);

} // namespace geometry

namespace util {
CXX_API unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    while (*s) { h ^= (unsigned char)*s++; h *= 16777619u; }
    return h;
}
CXX_API unsigned hash(const char *s, unsigned seed) { return hash(s) ^ seed; }
} // namespace util
} // namespace demo

// C linkage: unmangled
extern "C" CXX_API int cxx_c_entry(int x)
{
    return demo::geometry::clamp<int>(x, 0, 100);
}
extern "C" CXX_API const char *cxx_version(void) { return "cxx 1.0"; }
