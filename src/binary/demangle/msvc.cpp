// MSVC C++ demangling with LLVM's Microsoft demangler (the library behind llvm-undname), linked from LLVM's static
// libLLVMDemangle of the same installation whose headers build.rs found, so names read exactly as llvm-undname prints
// them. The caller bounds the input length (MSVC itself never emits a decorated name over 4096 bytes).

#include "llvm/Demangle/Demangle.h"

#include <cstdlib>

/// Demangle the NUL-terminated MSVC name `Name` as llvm-undname does: a malloc'd NUL-terminated result the caller
/// frees with ffi_doctor_free, or null when the name is not a valid mangling.
extern "C" char *ffi_doctor_msvc_demangle(const char *Name) {
  int Status = 0;
  size_t Read = 0;
  char *Out = llvm::microsoftDemangle(Name, &Read, nullptr, nullptr, &Status);
  if (Status != llvm::demangle_success) {
    std::free(Out);
    return nullptr;
  }
  return Out;
}

extern "C" void ffi_doctor_free(char *P) { std::free(P); }
